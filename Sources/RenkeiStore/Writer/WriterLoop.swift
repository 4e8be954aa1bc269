import Foundation
import RenkeiCore
import Synchronization

/// The writer thread's body: takes work from the inbox and runs it on the one connection.
struct WriterLoop {
    let database: Database
    let inbox: WriterInbox
    let clock: @Sendable () -> Date
    let maxBatchEvents: Int

    static func open(path: String) throws(StoreError) -> Database {
        let database = try Database(path: path)
        try StateSchema.migrate(database)
        return database
    }

    func run() {
        while true {
            switch inbox.next(maxEvents: maxBatchEvents) {
            case .idle:
                continue
            case .appends(let group):
                commit(group)
            case .perform(let body):
                body(database)
                database.rollbackIfNeeded()
            case .stop(let waiters):
                // Returning drops the last reference to `database`, whose deinit closes the connection;
                // the continuations are resumed only after that.
                for waiter in waiters { waiter.resume() }
                return
            }
        }
    }

    /// Writes every gathered batch in one transaction; each batch in its own savepoint, so one caller's
    /// failure does not fail the others.
    private func commit(_ group: [WriterInbox.Batch]) {
        let recordedAt = LogChain.timestamp(clock())
        var results: [Result<[AppendOutcome], StoreError>] = []
        var appended: [LoggedEvent] = []
        do throws(StoreError) {
            try database.prepare("BEGIN IMMEDIATE").run([])
            let current = try EventLog.head(in: database)
            var head = EventLog.Head(lsn: current.lsn, hash: current.hash)
            for batch in group {
                // SAVEPOINT … RELEASE nests inside the transaction; ROLLBACK TO undoes only this batch.
                // https://www.sqlite.org/lang_savepoint.html
                try database.prepare("SAVEPOINT caller_batch").run([])
                let saved = (head: head, count: appended.count)
                do throws(StoreError) {
                    let outcomes = try EventLog.append(
                        batch.events, recordedAt: recordedAt, provenance: batch.provenance, head: &head, in: database,
                        appended: &appended)
                    try batch.hook?(database)
                    try database.prepare("RELEASE caller_batch").run([])
                    results.append(.success(outcomes))
                } catch {
                    try database.prepare("ROLLBACK TO caller_batch").run([])
                    try database.prepare("RELEASE caller_batch").run([])
                    head = saved.head
                    appended.removeSubrange(saved.count...)
                    results.append(.failure(error))
                }
            }
            // COMMIT returns once the WAL is fsync'd (synchronous=FULL). https://www.sqlite.org/pragma.html#pragma_synchronous
            try database.prepare("COMMIT").run([])
            inbox.commitCount.add(1, ordering: .releasing)
        } catch {
            database.rollbackIfNeeded()
            results = Array(repeating: .failure(error), count: group.count)
            appended = []
        }
        if !appended.isEmpty, let handler = inbox.commitHandler.withLock({ $0 }) {
            handler(database, appended)
        }
        for (batch, result) in zip(group, results) { batch.continuation.resume(returning: result) }
    }
}
