import Dispatch
import RenkeiCore
import Synchronization

/// The hand-off between async callers and the writer thread: a FIFO of jobs under a mutex, and a
/// semaphore signalled once per job so the thread sleeps while there is nothing to do.
final class WriterInbox: Sendable {
    typealias AppendContinuation = CheckedContinuation<Result<[AppendOutcome], StoreError>, Never>
    /// Work run in the same transaction (and savepoint) as one caller's batch, right after it.
    typealias TransactionHook = @Sendable (Database) throws(StoreError) -> Void

    enum Job: Sendable {
        /// One caller's batch, answered after the commit that contains it.
        case append([Event], Provenance?, AppendContinuation, TransactionHook?)
        /// Other work on the writer's connection, in queue order with the appends.
        case perform(@Sendable (Database) -> Void)
    }

    /// One caller's batch as the writer thread takes it.
    typealias Batch = (events: [Event], provenance: Provenance?, continuation: AppendContinuation, hook: TransactionHook?)

    /// What the writer thread should do next.
    enum Work {
        /// Consecutive appends to write in one transaction.
        case appends([Batch])
        case perform(@Sendable (Database) -> Void)
        /// Closing was asked and nothing is left: close the database, then resume these.
        case stop([CheckedContinuation<Void, Never>])
        /// A leftover wake-up (an earlier turn took more than one job).
        case idle
    }

    private struct State {
        var jobs: [Job] = []
        var closing = false
        var stopped = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let wakeups = DispatchSemaphore(value: 0)
    let commitHandler = Mutex<(@Sendable (Database, [LoggedEvent]) -> Void)?>(nil)
    let commitCount = Atomic<Int>(0)

    /// Queues `job`; `false` once closing has begun.
    func submit(_ job: Job) -> Bool {
        let accepted = state.withLock { state in
            guard !state.closing else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { wakeups.signal() }
        return accepted
    }

    /// Refuses new jobs from now on; `waiter` (if any) is resumed once the thread has closed the database.
    func close(waiter: CheckedContinuation<Void, Never>?) {
        let resumeNow = state.withLock { state -> Bool in
            state.closing = true
            if state.stopped { return true }
            if let waiter { state.closeWaiters.append(waiter) }
            return false
        }
        if resumeNow { waiter?.resume() } else { wakeups.signal() }
    }

    /// Blocks the writer thread until there is work, then takes it: a run of appends totalling at most
    /// `maxEvents` events (at least one batch, however large), or one `perform`.
    func next(maxEvents: Int) -> Work {
        wakeups.wait()
        return state.withLock { state -> Work in
            guard let first = state.jobs.first else {
                guard state.closing else { return .idle }
                state.stopped = true
                defer { state.closeWaiters = [] }
                return .stop(state.closeWaiters)
            }
            if case .perform(let body) = first {
                state.jobs.removeFirst()
                return .perform(body)
            }
            var group: [Batch] = []
            var total = 0
            for job in state.jobs {
                guard case .append(let events, let provenance, let continuation, let hook) = job else { break }
                if !group.isEmpty && total + events.count > maxEvents { break }
                group.append((events, provenance, continuation, hook))
                total += events.count
            }
            state.jobs.removeFirst(group.count)
            return .appends(group)
        }
    }
}
