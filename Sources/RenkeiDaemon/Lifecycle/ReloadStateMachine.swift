import RenkeiCore

/// What renkeid does with SIGHUP and SIGTERM, as a state machine whose methods return actions
/// (``Daemon`` carries them out): a reload is checked first and refused when wrong; an accepted one
/// stops the running services and starts new ones on the same state; if they do not start, the
/// previous configuration is started again, and if that fails too, renkeid exits so systemd restarts it.
struct ReloadStateMachine {
    enum State {
        /// Serving this configuration.
        case running(Configuration)
        /// The services of `from` are stopping so those of `to` can start.
        case reloading(from: Configuration, to: Configuration)
        /// The new configuration did not start; the previous one is starting again.
        case fallingBack(Configuration)
        /// SIGTERM or SIGINT: the services are stopping for good.
        case stopping
    }

    private(set) var state: State

    init(running configuration: Configuration) {
        state = .running(configuration)
    }

    /// The configuration now running (or starting).
    var configuration: Configuration? {
        switch state {
        case .running(let configuration), .fallingBack(let configuration): return configuration
        case .reloading(_, let to): return to
        case .stopping: return nil
        }
    }

    enum HangUpAction: Equatable {
        /// Log the refusal and say `READY=1` again: the running services go on.
        case refuse(String)
        /// Stop the running services (deliveries in flight get 5 s), then start the new ones.
        case stopForReload(deadline: Duration)
        /// Already stopping or reloading: nothing.
        case ignore
    }

    /// SIGHUP, with the result of checking the new configuration against the running one.
    mutating func hangUp(checked: Result<Configuration, RenkeiError>) -> HangUpAction {
        guard case .running(let current) = state else { return .ignore }
        switch checked {
        case .failure(let error):
            return .refuse(error.message)
        case .success(let next):
            state = .reloading(from: current, to: next)
            return .stopForReload(deadline: .seconds(5))
        }
    }

    enum TerminateAction: Equatable {
        /// Stop the running services; deliveries in flight get up to `deadline`.
        case stop(deadline: Duration)
        case ignore
    }

    /// SIGTERM or SIGINT.
    mutating func terminate() -> TerminateAction {
        if case .stopping = state { return .ignore }
        state = .stopping
        return .stop(deadline: .seconds(10))
    }

    enum StoppedAction {
        /// Start services with this configuration.
        case start(Configuration)
        /// renkeid is done: exit 0.
        case finish
    }

    /// The running services have stopped (asked to, by ``hangUp(checked:)`` or ``terminate()``).
    mutating func servicesStopped() -> StoppedAction {
        switch state {
        case .reloading(_, let to): return .start(to)
        case .running, .fallingBack:
            // Stopped without being asked: treated as a stop (a failing service throws instead).
            state = .stopping
            return .finish
        case .stopping: return .finish
        }
    }

    enum StartedAction: Equatable {
        /// Say `READY=1`; `reloaded` when a new configuration now runs.
        case announceReady(reloaded: Bool)
    }

    /// The services started.
    mutating func servicesStarted() -> StartedAction {
        switch state {
        case .reloading(_, let to):
            state = .running(to)
            return .announceReady(reloaded: true)
        case .fallingBack(let previous):
            state = .running(previous)
            return .announceReady(reloaded: false)
        case .running, .stopping:
            return .announceReady(reloaded: false)
        }
    }

    enum StartFailedAction {
        /// Start the previous configuration again.
        case fallBack(Configuration)
        /// Nothing runs: exit non-zero so systemd restarts renkeid.
        case fail
    }

    /// The services did not start.
    mutating func startFailed() -> StartFailedAction {
        switch state {
        case .reloading(let from, _):
            state = .fallingBack(from)
            return .fallBack(from)
        case .running, .fallingBack, .stopping:
            state = .stopping
            return .fail
        }
    }
}
