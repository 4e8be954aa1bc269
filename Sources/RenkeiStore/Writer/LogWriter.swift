public import Foundation
public import RenkeiCore
import Synchronization

/// The single writer of the event log: owns one read-write ``Database`` on its own dedicated thread
/// (not the Swift cooperative pool, which must never block on fsync).
///
/// Appends are group-committed: batches that callers submit while a commit is in flight are gathered and
/// written together in ONE transaction (up to `maxBatchEvents` events), committed with WAL +
/// `synchronous=FULL` (fsync'd), and only then answered — durable before acknowledged (contract §6).
/// If the process dies before COMMIT returns, nothing of that transaction is visible after restart.
public final class LogWriter: Sendable {
    private let inbox: WriterInbox

    /// Opens (creating if needed) the log database at `path`, creates the schema, and starts the writer thread.
    /// - Parameters:
    ///   - path: The SQLite database file.
    ///   - clock: The source of `recorded_at` (read once per commit).
    ///   - maxBatchEvents: The most events gathered into one transaction (a single larger batch is still
    ///     written whole, in its own transaction).
    /// - Throws: ``StoreError`` when the database cannot be opened or its schema created.
    public init(
        path: String, clock: @escaping @Sendable () -> Date = Date.init, maxBatchEvents: Int = 5000
    ) throws(StoreError) {
        precondition(maxBatchEvents > 0, "maxBatchEvents must be positive")
        let inbox = WriterInbox()
        let opened = Mutex<Result<Void, StoreError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread {
            // The Database is created, used and closed on this thread only.
            let database: Database
            switch Result(catching: { () throws(StoreError) in try WriterLoop.open(path: path) }) {
            case .success(let db):
                database = db
                opened.withLock { $0 = .success(()) }
                ready.signal()
            case .failure(let error):
                opened.withLock { $0 = .failure(error) }
                ready.signal()
                return
            }
            WriterLoop(database: database, inbox: inbox, clock: clock, maxBatchEvents: maxBatchEvents).run()
        }
        thread.name = "renkei-log-writer"
        thread.start()
        ready.wait()
        if case .failure(let error) = opened.withLock({ $0 }) { throw error }
        self.inbox = inbox
    }

    deinit {
        // Let the thread finish what is queued and close the database, without waiting for it.
        inbox.close(waiter: nil)
    }

    /// Appends `events` to the log, durably.
    ///
    /// Each event is appended, found to be a duplicate (same `(source, event_id)`, byte-identical
    /// canonical content), or found in conflict (same key, different content: nothing written). This
    /// holds within the batch and across batches gathered into the same commit. The call returns only
    /// after the transaction holding the batch has committed and the commit handler has run, so a caller
    /// that sees the answer also sees the projection of its events. Cancelling the task does not
    /// withdraw a submitted batch.
    /// - Parameters:
    ///   - events: The events, in the order they are to be logged.
    ///   - provenance: How they came in (issue 13), stored beside each one appended.
    /// - Returns: One outcome per event, in input order.
    /// - Throws: ``StoreError`` when the batch could not be written (nothing of it is in the log), or
    ///   with code `closed` after ``close()``.
    public func append(_ events: [Event], provenance: Provenance? = nil) async throws(StoreError) -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        return try await submitAppend(events, provenance: provenance, hook: nil)
    }

    /// Appends `events` like ``append(_:)`` and runs `hook` in the same transaction, right after them:
    /// both are committed, or neither is. An HTTP pull stores its cursor this way, so a crash can never
    /// keep the events without the cursor or the cursor without the events.
    /// - Parameters:
    ///   - events: the events, in log order (may be empty: then only `hook` runs, still in a transaction).
    ///   - provenance: How they came in (issue 13), stored beside each one appended.
    ///   - hook: more writes on the writer's connection; throwing undoes the batch and fails the call.
    /// - Returns: One outcome per event, in input order.
    /// - Throws: ``StoreError`` from the append or the hook (nothing of the batch is in the log), or `closed`.
    public func append(
        _ events: [Event], provenance: Provenance? = nil,
        inSameTransaction hook: @escaping @Sendable (Database) throws(StoreError) -> Void
    ) async throws(StoreError) -> [AppendOutcome] {
        try await submitAppend(events, provenance: provenance, hook: hook)
    }

    private func submitAppend(
        _ events: [Event], provenance: Provenance?, hook: WriterInbox.TransactionHook?
    ) async throws(StoreError) -> [AppendOutcome] {
        let result = await withCheckedContinuation { (continuation: WriterInbox.AppendContinuation) in
            if !inbox.submit(.append(events, provenance, continuation, hook)) {
                continuation.resume(returning: .failure(Self.closedError))
            }
        }
        return try result.get()
    }

    /// Runs `body` on the writer's connection, serialised with the appends (in submission order).
    ///
    /// A transaction that `body` leaves open is rolled back.
    /// - Returns: What `body` returned.
    /// - Throws: `body`'s error, or ``StoreError`` with code `closed` after ``close()``.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            let job = WriterInbox.Job.perform { database in
                continuation.resume(returning: Result { try body(database) })
            }
            if !inbox.submit(job) { continuation.resume(returning: .failure(Self.closedError)) }
        }
        return try result.get()
    }

    /// Sets the function called on the writer thread right after each commit that appended events, with
    /// those events in lsn order (as ``EventLog/read(in:after:limit:)`` returns them), before the next
    /// batch starts and before the appenders are answered. The daemon projects here. Set once at start-up.
    public func setCommitHandler(_ handler: @escaping @Sendable (Database, [LoggedEvent]) -> Void) {
        inbox.commitHandler.withLock { $0 = handler }
    }

    /// How many log transactions have committed since this writer started (for tests and metrics).
    public var commitCount: Int { inbox.commitCount.load(ordering: .acquiring) }

    /// Finishes the work already submitted, then closes the database. Later calls fail with `closed`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            inbox.close(waiter: continuation)
        }
    }

    private static var closedError: StoreError {
        StoreError(.closed, "the event log writer is closed; the request was not carried out (is the daemon stopping?)")
    }
}
