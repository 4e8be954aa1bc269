import Foundation
import RenkeiCore
import Synchronization
import Testing
@testable import RenkeiStore

/// How many tasks have reached their `append` (shared with task-group children).
private final class SubmitCounter: Sendable {
    let count = Atomic<Int>(0)
}

@Suite struct LogWriterTests {
    @Test func concurrentAppendsAreGroupCommittedGapFreeAndOnce() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        let seen = Mutex<[LoggedEvent]>([])
        writer.setCommitHandler { _, events in seen.withLock { $0.append(contentsOf: events) } }
        let tasks = 64, perTask = 20
        let baseline = writer.commitCount

        // Hold the writer busy while the callers submit, so their batches queue up to be gathered.
        let release = DispatchSemaphore(value: 0)
        let blocker = Task { try await writer.perform { _ in release.wait() } }
        // Each task counts itself just before `append`, which queues its batch before its first
        // suspension: once all have counted, every batch waits behind the blocker.
        let submitting = SubmitCounter()
        let results = try await withThrowingTaskGroup(of: [AppendOutcome].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    // Every task also sends the same shared event: it must be logged once.
                    var events = (0..<perTask).map { makeEvent(id: "T\(task)-\($0)") }
                    events.insert(makeEvent(id: "shared"), at: perTask / 2)
                    submitting.count.add(1, ordering: .relaxed)
                    return try await writer.append(events)
                }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while submitting.count.load(ordering: .relaxed) < tasks, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            release.signal()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await blocker.value

        let total = tasks * perTask + 1
        let appended = results.flatMap { $0 }.compactMap { if case .appended(let lsn) = $0 { lsn } else { nil } }
        #expect(appended.sorted() == (1...Int64(total)).map { $0 })
        #expect(results.flatMap { $0 }.filter { if case .duplicate = $0 { true } else { false } }.count == tasks - 1)
        let commits = writer.commitCount - baseline
        #expect(commits < tasks, "expected group commit, got \(commits) transactions for \(tasks) calls")

        let log = try await writer.perform { db in try EventLog.read(in: db, after: 0, limit: 10_000) }
        #expect(log.map(\.lsn) == (1...Int64(total)).map { $0 })
        #expect(Set(log.map { "\($0.event.source)/\($0.event.eventID)" }).count == total)
        #expect(seen.withLock { $0 } == log)
        #expect(try await writer.perform { db in try EventLog.verify(in: db) }.ok)
        await writer.close()
    }

    @Test func outcomesComeInInputOrderPerCaller() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        let outcomes = try await writer.append([makeEvent(id: "b"), makeEvent(id: "a"), makeEvent(id: "b")])
        #expect(outcomes == [.appended(lsn: 1), .appended(lsn: 2), .duplicate(lsn: 1)])
        #expect(try await writer.append([]) == [])
        await writer.close()
    }

    @Test func commitHandlerSeesEachEventOnceInOrderBeforeTheAnswer() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath, maxBatchEvents: 7)
        let seen = Mutex<[Int64]>([])
        let calls = Atomic<Int>(0)
        writer.setCommitHandler { db, events in
            // The handler runs on the writer's connection after COMMIT: the rows are already there.
            precondition(!db.isInsideTransaction)
            calls.add(1, ordering: .relaxed)
            seen.withLock { $0.append(contentsOf: events.map(\.lsn)) }
        }
        for batch in 0..<10 {
            let outcomes = try await writer.append((0..<5).map { makeEvent(id: "h\(batch)-\($0)") })
            let last = outcomes.last!.lsn
            #expect(seen.withLock { $0.last } == last)  // projected before append returned
        }
        _ = try await writer.append([makeEvent(id: "h0-0")])  // only a duplicate: no handler call
        #expect(seen.withLock { $0 } == (1...50).map { Int64($0) })
        #expect(calls.load(ordering: .relaxed) == 10)
        await writer.close()
    }

    @Test func performRunsSerialisedAndRethrows() async throws {
        struct Boom: Error {}
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        try await writer.perform { db in try db.execute("CREATE TABLE checkpoint (lsn INTEGER NOT NULL)") }
        await #expect(throws: Boom.self) {
            try await writer.perform { db in
                try db.execute("BEGIN IMMEDIATE; INSERT INTO checkpoint VALUES (1)")
                throw Boom()  // leaves a transaction open: the writer rolls it back
            }
        }
        #expect(try await writer.append([makeEvent(id: "p1")]) == [.appended(lsn: 1)])
        let rows = try await writer.perform { db in try db.prepare("SELECT count(*) FROM checkpoint").rows([]) { $0.int64(0) } }
        #expect(rows == [0])
        await writer.close()
        await #expect(throws: StoreError.self) { try await writer.perform { _ in 1 } }
    }

    @Test func openFailureThrows() {
        #expect(throws: StoreError.self) { try LogWriter(path: "/nonexistent-dir/log.sqlite") }
    }

    /// Many batches of both sizes the daemon uses append gap-free. (The append rate is measured by
    /// `ops/bench ingest`/`replay`, in release builds with a same-run baseline, not here: a timed
    /// assertion on this shared machine would only measure the other processes.)
    @Test(arguments: [500, 5000])
    func manyBatchesAppendGapFree(batchSize: Int) async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        let total = 10_000
        for b in 0..<(total / batchSize) {
            let batch = (0..<batchSize).map { makeEvent(id: "many-\(b)-\($0)", subject: "S\($0 % 997)") }
            let outcomes = try await writer.append(batch)
            #expect(outcomes == (1...batchSize).map { .appended(lsn: Int64(b * batchSize + $0)) })
        }
        #expect(try await writer.perform { db in try EventLog.head(in: db) }.lsn == Int64(total))
        await writer.close()
    }
}
