import Dispatch
import Synchronization

/// Whether some work (connections, deliveries in flight) has drained, for a stop path to wait on
/// with a deadline: ``wait(upTo:)`` is resumed by the change that makes it idle, not by polling.
///
/// The deadline is a timer on a dispatch queue, not a task sleep: a service's stop path runs in
/// its cancelled task, where every `Task.sleep` would end at once.
public final class IdleSignal: Sendable {
    private struct State {
        var isIdle: Bool
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state: Mutex<State>

    /// - Parameter idle: the state before the first ``set(idle:)``.
    public init(idle: Bool = true) {
        state = Mutex(State(isIdle: idle))
    }

    /// Whether the work has drained now.
    public var isIdle: Bool { state.withLock { $0.isIdle } }

    /// Records whether the work has drained; becoming idle resumes every waiter.
    public func set(idle: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.isIdle = idle
            guard idle else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits until idle or until `deadline` has passed, whether or not the calling task is cancelled.
    /// - Returns: whether the work drained in time.
    public func wait(upTo deadline: Duration) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let id = state.withLock { state -> Int? in
                if state.isIdle { return nil }
                defer { state.nextID += 1 }
                state.waiters[state.nextID] = continuation
                return state.nextID
            }
            guard let id else {
                continuation.resume(returning: true)
                return
            }
            let nanoseconds = max(0, deadline.components.seconds) * 1_000_000_000
                + max(0, deadline.components.attoseconds) / 1_000_000_000
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(returning: false)
            }
        }
    }
}
