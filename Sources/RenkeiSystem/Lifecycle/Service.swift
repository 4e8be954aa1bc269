/// A long-running part of the daemon, started and stopped by a ``ServiceGroup`` (after
/// swift-service-lifecycle's `Service`).
///
/// ``run()`` does the service's work and returns when its task is cancelled: cancellation is the
/// graceful shutdown. A service that returns before it is cancelled, or throws, stops the whole group.
public protocol Service: Sendable {
    /// A short name for logs and errors (`spool`, `delivery lane crm`, `status server`).
    var name: String { get }

    /// Works until the calling task is cancelled, then finishes what it must (in-flight requests,
    /// up to its own deadline) and returns.
    /// - Throws: what stopped the service on its own; the group then stops every other service.
    func run() async throws
}

extension Service {
    /// The type's name.
    public var name: String { String(describing: Self.self) }
}

/// A service made of a closure: for small parts that need no type of their own.
public struct ClosureService: Service {
    public let name: String
    private let body: @Sendable () async throws -> Void

    /// - Parameters:
    ///   - name: the service's name in logs and errors.
    ///   - body: the work; it returns when its task is cancelled.
    public init(name: String, _ body: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.body = body
    }

    public func run() async throws { try await body() }
}
