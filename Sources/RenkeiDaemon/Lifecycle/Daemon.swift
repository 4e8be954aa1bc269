public import RenkeiCore
public import RenkeiSystem
import Synchronization

/// renkeid's whole life: starts the services of a configuration (``RenkeiService/makeGroup()``),
/// says `READY=1`, runs them as one group beside the heartbeat, and carries out what signals ask
/// (``ReloadStateMachine``): SIGHUP reloads, SIGTERM and SIGINT stop in order and return.
public final class Daemon: Sendable {
    private let configPath: String
    private let initial: Configuration
    private let logger: Logger
    private let notifier: SystemdNotifier
    private let clock: any Clock<Duration>
    private let signals = SignalInbox()
    /// The service now running, for the heartbeat; `nil` between the old and the new during a reload.
    private let current = ServiceSlot()
    /// The heartbeat (``HeartbeatService``), beside the services; it stops when SIGTERM arrives.
    private let heartbeat: ServiceGroup

    /// - Parameters:
    ///   - configuration: the configuration loaded from `configPath`.
    ///   - configPath: where a reload reads the configuration again.
    ///   - clock: what the heartbeat's ticks run on.
    public init(
        configuration: Configuration, configPath: String, logger: Logger, notifier: SystemdNotifier,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.initial = configuration
        self.configPath = configPath
        self.logger = logger
        self.notifier = notifier
        self.clock = clock
        heartbeat = ServiceGroup(services: [HeartbeatService(notifier: notifier, clock: clock, logger: logger, current: current)])
    }

    /// Hands a signal to the daemon (from the signal watcher's queue, any thread).
    public func handle(_ signal: Signal) {
        signals.post(signal)
    }

    /// Runs until SIGTERM or SIGINT has stopped every service.
    /// - Throws: ``DaemonError`` when the services cannot start, a service fails, or a reload
    ///   leaves nothing running.
    public func run() async throws(DaemonError) {
        var machine = ReloadStateMachine(running: initial)
        var running: (service: RenkeiService, group: ServiceGroup)
        do {
            running = try await start(initial)
        } catch let error as RenkeiError {
            logger.error("cannot start: \(error.message)")
            throw DaemonError(message: "cannot start: \(error.message)", exitCode: error.code == .invalidConfiguration ? 78 : 1)
        } catch {
            logger.error("cannot start: \(error)")
            throw DaemonError(message: "cannot start: \(error)", exitCode: 1)
        }
        // A cheap STATUS= with READY=1 (the full line counts the outbox); the heartbeat refreshes it.
        notifier.notify("READY=1\nSTATUS=\(running.service.startingStatusLine())")
        let heartbeat = heartbeat
        let outcome: Result<Void, DaemonError> = await withTaskGroup(of: Void.self) { background in
            background.addTask { try? await heartbeat.run() }
            defer { heartbeat.triggerGracefulShutdown() }
            while true {
                // One generation: the services of one configuration, until a signal stops them.
                do {
                    try await serve(running, machine: &machine)
                } catch {
                    logger.error("\(error); exiting so systemd restarts renkeid")
                    return .failure(DaemonError(message: "\(error)", exitCode: 1))
                }
                current.set(nil)
                guard case .start(let next) = machine.servicesStopped() else { return .success(()) }
                var configuration = next
                while true {
                    do {
                        running = try await start(configuration)
                        break
                    } catch {
                        switch machine.startFailed() {
                        case .fallBack(let previous):
                            logger.error("SIGHUP: the new configuration did not start (\(error)); starting the previous one again")
                            configuration = previous
                        case .fail:
                            logger.error("SIGHUP: the previous configuration did not start again either (\(error)); exiting so systemd restarts renkeid")
                            return .failure(DaemonError(message: "no configuration could be started", exitCode: 1))
                        }
                    }
                }
                if case .announceReady(let reloaded) = machine.servicesStarted(), reloaded { logger.notice("SIGHUP: reloaded") }
                notifier.notify("READY=1\nSTATUS=\(running.service.startingStatusLine())")
            }
        }
        try outcome.get()
    }

    /// Opens the state, binds the sockets, and builds the group of `configuration`'s services.
    private func start(_ configuration: Configuration) async throws -> (service: RenkeiService, group: ServiceGroup) {
        let service = try await RenkeiService(configuration: configuration, logger: logger)
        let group = try service.makeGroup()
        current.set(service)
        return (service, group)
    }

    private enum Event: Sendable {
        case groupEnded(Result<Void, ServiceGroupError>)
        case signal(Signal)
        case signalWaitEnded
    }

    /// Runs one generation's services beside the signal loop, until a signal has stopped them
    /// (or one of them failed). The machine is only touched here, in this task.
    private func serve(
        _ running: (service: RenkeiService, group: ServiceGroup), machine: inout ReloadStateMachine
    ) async throws(ServiceGroupError) {
        let service = running.service
        let group = running.group
        let signals = signals
        let result: Result<Void, ServiceGroupError> = await withTaskGroup(of: Event.self) { tasks in
            tasks.addTask {
                do {
                    try await service.run(group)
                    return .groupEnded(.success(()))
                } catch let error as ServiceGroupError {
                    return .groupEnded(.failure(error))
                } catch {
                    return .groupEnded(.failure(ServiceGroupError(service: "renkeid", cause: error)))
                }
            }
            tasks.addTask { await signals.next().map(Event.signal) ?? .signalWaitEnded }
            while let event = await tasks.next() {
                switch event {
                case .groupEnded(let result):
                    tasks.cancelAll()  // the signal wait
                    return result
                case .signalWaitEnded:
                    continue
                case .signal(let signal):
                    if !handle(signal, service: service, machine: &machine) {
                        tasks.addTask { await signals.next().map(Event.signal) ?? .signalWaitEnded }
                    }
                }
            }
            return .success(())
        }
        try result.get()
    }

    /// Carries out one signal.
    /// - Returns: whether the services were asked to stop.
    private func handle(_ signal: Signal, service: RenkeiService, machine: inout ReloadStateMachine) -> Bool {
        switch signal {
        case .hangUp:
            notifier.notify(SystemdNotifier.reloading() + "\nSTATUS=reloading \(configPath)")
            let checked: Result<Configuration, RenkeiError>
            if let running = machine.configuration {
                do {
                    checked = .success(try RenkeiService.loadForReload(path: configPath, current: running))
                } catch {
                    checked = .failure(error)
                }
            } else {
                checked = .failure(RenkeiError(.invalidConfiguration, "nothing is running"))
            }
            switch machine.hangUp(checked: checked) {
            case .refuse(let message):
                logger.error("SIGHUP: \(configPath) refused, still running the previous configuration: \(message)")
                notifier.notify("READY=1\nSTATUS=\(service.startingStatusLine())")
                return false
            case .stopForReload(let deadline):
                if case .reloading(_, let next) = machine.state {
                    logger.notice("SIGHUP: reloading \(configPath): \(next.sources.count) source(s), \(next.subscriptions.count) subscription(s)")
                }
                current.set(nil)
                service.beginStop(deadline: deadline)
                return true
            case .ignore:
                return false
            }
        case .terminate, .interrupt:
            guard case .stop(let deadline) = machine.terminate() else { return false }
            notifier.notify("STOPPING=1\nSTATUS=stopping")
            logger.notice("stopping on \(signal)")
            heartbeat.triggerGracefulShutdown()
            current.set(nil)
            service.beginStop(deadline: deadline)
            return true
        }
    }
}

/// Why renkeid stops with a non-zero exit code.
public struct DaemonError: Error {
    /// What went wrong, as logged.
    public var message: String
    /// `78` (EX_CONFIG: systemd does not restart-loop on a broken configuration) or `1`.
    public var exitCode: Int32
}

/// The service now running, shared by the daemon and its heartbeat.
final class ServiceSlot: Sendable {
    private let value = Mutex<RenkeiService?>(nil)

    /// The service now running; `nil` between the old and the new during a reload, and while stopping.
    var service: RenkeiService? { value.withLock { $0 } }

    func set(_ service: RenkeiService?) {
        value.withLock { $0 = service }
    }
}
