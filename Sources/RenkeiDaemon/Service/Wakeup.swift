import Synchronization

/// A one-slot wake-up signal for a loop that otherwise sleeps until a deadline.
///
/// A signal sent while nobody waits is remembered, so a wake-up between checking for work and
/// starting to wait is never lost.
///
/// A wait that ends by a signal leaves its timer running, and later waits reuse it: a new timer
/// task is started only when none is due at or before the new deadline. A busy delivery lane waits
/// once per delta; starting a sleeping task each time cost more than the rest of its turn. A timer
/// that fires early for a later wait just makes the loop look once more, which it tolerates.
///
/// Timers run on the clock given (the service's: a ``ManualClock`` in tests).
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the earliest running timer task fires (time since this wake-up was made), if one runs.
        var timerDue: Duration?
    }

    private let state = Mutex(State())
    /// Time on the clock since this wake-up was made.
    private let elapsed: @Sendable () -> Duration
    /// Sleeps until that much time has passed since this wake-up was made.
    private let sleepUntil: @Sendable (Duration) async throws -> Void

    /// - Parameter clock: what the timers run on.
    init(clock: any Clock<Duration> = ContinuousClock()) {
        (elapsed, sleepUntil) = Self.measure(clock)
    }

    private static func measure<C: Clock>(
        _ clock: C
    ) -> (@Sendable () -> Duration, @Sendable (Duration) async throws -> Void) where C.Duration == Duration {
        let origin = clock.now
        return ({ origin.duration(to: clock.now) }, { due in try await clock.sleep(until: origin.advanced(by: due), tolerance: nil) })
    }

    /// Wakes the waiter, or the next one to wait.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Waits until signalled or until `timeout` has passed (or a little earlier, see above).
    func wait(timeout: Duration) async {
        let due = elapsed() + timeout
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (resumeNow, startTimer) = state.withLock { state -> (Bool, Bool) in
                if state.pending {
                    state.pending = false
                    return (true, false)
                }
                state.waiter = continuation
                if let timerDue = state.timerDue, timerDue <= due { return (false, false) }
                state.timerDue = due
                return (false, true)
            }
            if resumeNow {
                continuation.resume()
                return
            }
            guard startTimer else { return }
            Task {
                try? await self.sleepUntil(due)
                let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    if state.timerDue == due { state.timerDue = nil }
                    guard let waiter = state.waiter else { return nil }
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume()
            }
        }
    }
}
