import RenkeiSystem
import Synchronization

/// Signals handed from the signal watcher's queue to the daemon's task, in order. Unlike an
/// `AsyncStream`, a cancelled wait ends only that wait: the inbox goes on for the next one.
final class SignalInbox: Sendable {
    private struct State {
        var queued: [Signal] = []
        var waiter: (id: Int, continuation: CheckedContinuation<Signal?, Never>)?
        var nextID = 0
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    /// Queues `signal` (any thread).
    func post(_ signal: Signal) {
        let waiter = state.withLock { state -> CheckedContinuation<Signal?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.queued.append(signal)
            return nil
        }
        waiter?.resume(returning: signal)
    }

    /// The next signal, or `nil` when the calling task is cancelled. One waiter at a time.
    func next() async -> Signal? {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Signal?, Never>) in
                let now = state.withLock { state -> Signal?? in
                    if state.cancelled.remove(id) != nil { return .some(nil) }
                    if !state.queued.isEmpty { return .some(state.queued.removeFirst()) }
                    state.waiter = (id, continuation)
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Signal?, Never>? in
                if let waiter = state.waiter, waiter.id == id {
                    state.waiter = nil
                    return waiter.continuation
                }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume(returning: nil)
        }
    }
}
