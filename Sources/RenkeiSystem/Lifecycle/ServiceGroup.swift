import Synchronization

/// Runs services as one task group, after swift-service-lifecycle's `ServiceGroup`.
///
/// - Every service runs in a child task of ``run()``.
/// - Graceful shutdown is cancellation, one stage at a time in the reverse of the order given: the
///   services of a stage are cancelled together and awaited before the stage before them is, so
///   the stages listed last (the sources of work) stop first and the ones listed first (what
///   answers operators) stop last.
///   It starts when ``triggerGracefulShutdown()`` is called. Cancelling the task that runs ``run()``
///   instead cancels every service at once (as swift-service-lifecycle does).
/// - A service that throws, or returns without being cancelled, stops the group the same way; the
///   group then throws ``ServiceGroupError`` naming it, with its error.
public final class ServiceGroup: Sendable {
    private let services: [any Service]
    /// The stage of each service (its index in the `stages` given).
    private let stageOf: [Int]
    private let logger: Logger?
    private let shutdownRequested = Latch()

    /// - Parameters:
    ///   - services: in start order, each a stage of its own; they stop in the reverse order.
    ///   - logger: where the group says which service stopped it, if anywhere.
    public convenience init(services: [any Service], logger: Logger? = nil) {
        self.init(stages: services.map { [$0] }, logger: logger)
    }

    /// - Parameters:
    ///   - stages: in start order; the stages stop in the reverse order, the services of one stage together.
    ///   - logger: where the group says which service stopped it, if anywhere.
    public init(stages: [[any Service]], logger: Logger? = nil) {
        services = stages.flatMap { $0 }
        stageOf = stages.enumerated().flatMap { stage, members in members.map { _ in stage } }
        self.logger = logger
    }

    /// Starts the graceful shutdown of a running group (or of the next ``run()``).
    public func triggerGracefulShutdown() {
        shutdownRequested.open()
    }

    private enum Completion: Sendable {
        case shutdownRequested
        case serviceFinished(Int)
        case serviceThrew(Int, any Error)
    }

    /// Runs every service until a graceful shutdown, or until one fails.
    /// - Throws: ``ServiceGroupError`` when a service threw or returned on its own; the other
    ///   services have been stopped by then.
    public func run() async throws {
        let stops = services.map { _ in Latch() }
        var failure: ServiceGroupError?
        await withTaskGroup(of: Completion.self) { group in
            for (index, service) in services.enumerated() {
                let stop = stops[index]
                group.addTask {
                    // The service runs in a group of its own, so it alone can be cancelled: when its
                    // stop latch opens (or the whole group is cancelled), its task is.
                    await withTaskGroup(of: Completion?.self) { inner in
                        inner.addTask {
                            do {
                                try await service.run()
                                return .serviceFinished(index)
                            } catch {
                                return .serviceThrew(index, error)
                            }
                        }
                        inner.addTask {
                            await stop.wait()
                            return nil
                        }
                        var result: Completion = .serviceFinished(index)
                        while let next = await inner.next() {
                            if let completion = next {
                                result = completion
                            }
                            inner.cancelAll()
                        }
                        return result
                    }
                }
            }
            let shutdownRequested = shutdownRequested
            group.addTask {
                await shutdownRequested.wait()
                return .shutdownRequested
            }

            var finished = Set<Int>()
            func note(_ completion: Completion) {
                switch completion {
                case .shutdownRequested: return
                case .serviceFinished(let index):
                    finished.insert(index)
                    if !stops[index].isOpen, failure == nil {
                        failure = ServiceGroupError(service: services[index].name, cause: nil)
                    }
                case .serviceThrew(let index, let error):
                    finished.insert(index)
                    if failure == nil, !(stops[index].isOpen && error is CancellationError) {
                        failure = ServiceGroupError(service: services[index].name, cause: error)
                    }
                }
            }
            // Until the first completion: a shutdown request, the parent's cancellation (which has
            // reached every service already), or a service stopping on its own.
            if let first = await group.next() { note(first) }
            if let failure { logger?.error("\(failure.message); stopping the other services") }
            // Graceful shutdown, in reverse order, one stage at a time.
            for stage in Set(stageOf).sorted().reversed() {
                let members = services.indices.filter { stageOf[$0] == stage && !finished.contains($0) }
                for index in members { stops[index].open() }
                while !members.allSatisfy(finished.contains), let next = await group.next() { note(next) }
            }
            group.cancelAll()
            while let next = await group.next() { note(next) }
        }
        if let failure { throw failure }
    }
}

/// A service stopped a ``ServiceGroup``: it threw, or returned before it was asked to stop.
public struct ServiceGroupError: Error, CustomStringConvertible {
    /// The service's ``Service/name``.
    public var service: String
    /// What it threw; `nil` when it returned on its own.
    public var cause: (any Error)?

    /// - Parameters:
    ///   - service: the service's name.
    ///   - cause: what it threw, or `nil` when it returned on its own.
    public init(service: String, cause: (any Error)?) {
        self.service = service
        self.cause = cause
    }

    /// `service <name> failed: <cause>`, or `service <name> stopped on its own`.
    public var message: String {
        if let cause { return "service \(service) failed: \(cause)" }
        return "service \(service) stopped on its own"
    }

    public var description: String { message }
}
