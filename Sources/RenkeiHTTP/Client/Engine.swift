internal import CCurl
import Synchronization

/// The state `send`, `shutdown` and the loop thread share, behind one lock.
///
/// The multi handle itself belongs to the loop thread. The only call others make on it is
/// `curl_multi_wakeup`, which libcurl allows from any thread, and they make it under the lock while
/// `phase` is `.running`, so never after the loop has set `.stopped` and cleaned the handle up.
final class Engine: Sendable {
    /// The `CURLM *`, carried only so other threads can call `curl_multi_wakeup` on it.
    struct MultiReference: @unchecked Sendable {
        let raw: UnsafeMutableRawPointer
    }

    enum Phase: Sendable {
        case starting
        case running(MultiReference)
        case stopped
        /// libcurl could not start; every request answers this.
        case failed(TransportFailure)
    }

    struct State: Sendable {
        var phase = Phase.starting
        var inbox: [Submission] = []
        var stopRequested = false
        var cancellationsPending = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// What the loop takes on each turn.
    struct Work: Sendable {
        var submissions: [Submission]
        var stop: Bool
        var scanCancellations: Bool
    }

    private let state = Mutex(State())

    // MARK: - Any thread

    /// Queues a request for the loop, or answers it at once if the client has stopped.
    ///
    /// Only the request that finds the inbox empty wakes the loop: while the inbox holds anything,
    /// a wake-up is already pending (the loop empties the inbox under this lock, and every wake-up
    /// after that stays pending until its next `curl_multi_poll`), so the loop will take the later
    /// ones with it. Each wake-up costs a system call here and a `curl_multi_perform` pass over
    /// every transfer there.
    func submit(_ submission: Submission) {
        let refusal = state.withLock { state -> TransportFailure? in
            if case .failed(let failure) = state.phase { return failure }
            if case .stopped = state.phase { return .cancelled("the HTTP client has been shut down") }
            if state.stopRequested { return .cancelled("the HTTP client has been shut down") }
            let loopHasBeenWoken = !state.inbox.isEmpty
            state.inbox.append(submission)
            if !loopHasBeenWoken { Self.wake(state.phase) }
            return nil
        }
        if let refusal {
            submission.answer(.failure(refusal))
        }
    }

    /// Marks a request cancelled and makes the loop look.
    func cancel(_ ticket: Ticket) {
        ticket.cancel()
        state.withLock { state in
            state.cancellationsPending = true
            Self.wake(state.phase)
        }
    }

    /// Asks the loop to stop; `waiter`, if any, is resumed once it has.
    func requestStop(waiter: CheckedContinuation<Void, Never>?) {
        let stoppedAlready = state.withLock { state -> Bool in
            switch state.phase {
            case .stopped, .failed: return true
            case .starting, .running: break
            }
            state.stopRequested = true
            if let waiter { state.stopWaiters.append(waiter) }
            Self.wake(state.phase)
            return false
        }
        if stoppedAlready { waiter?.resume() }
    }

    /// Call with the lock held.
    private static func wake(_ phase: Phase) {
        guard case .running(let multi) = phase else { return }
        // curl_multi_wakeup: "can be called from any thread"; makes a blocked or the next
        // curl_multi_poll return at once.
        _ = curl_multi_wakeup(multi.raw)
    }

    // MARK: - Loop thread

    /// Publishes the multi handle, so that wake-ups reach it.
    func started(_ multi: UnsafeMutableRawPointer) {
        state.withLock { $0.phase = .running(MultiReference(raw: multi)) }
    }

    /// Takes the queued requests and flags.
    func takeWork() -> Work {
        state.withLock { state in
            let work = Work(
                submissions: state.inbox, stop: state.stopRequested, scanCancellations: state.cancellationsPending)
            state.inbox = []
            state.cancellationsPending = false
            return work
        }
    }

    /// Marks the engine unable to run; answers what was queued with `failure`, and every later request.
    func fail(_ failure: TransportFailure) {
        let (inbox, waiters) = state.withLock { state in
            state.phase = .failed(failure)
            let left = (state.inbox, state.stopWaiters)
            state.inbox = []
            state.stopWaiters = []
            return left
        }
        for submission in inbox { submission.answer(.failure(failure)) }
        for waiter in waiters { waiter.resume() }
    }

    /// Marks the engine stopped; returns what is left to answer. After this no thread touches the
    /// multi handle, so the loop may clean it up.
    func stopped() -> (inbox: [Submission], waiters: [CheckedContinuation<Void, Never>]) {
        state.withLock { state in
            state.phase = .stopped
            state.stopRequested = true
            let left = (state.inbox, state.stopWaiters)
            state.inbox = []
            state.stopWaiters = []
            return left
        }
    }
}
