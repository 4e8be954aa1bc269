import Foundation
import RenkeiCore
import Synchronization
import Testing
@testable import RenkeiStore

/// The store's threads: jobs run there (not on the cooperative pool), each thread keeps its own
/// read-only connection, errors come back typed, and more jobs than threads all finish.
@Suite struct StoreExecutorTests {
    @Test func readsRunOnTheStoresOwnThreadsWithTheirConnection() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath, clock: fixedClock)
        _ = try await writer.append([makeEvent(id: "a"), makeEvent(id: "b")])
        let executor = StoreExecutor(path: dir.databasePath, threads: 2, name: "renkei-store-test")
        let (head, thread, readOnly) = try await executor.read { db in
            (try EventLog.head(in: db).lsn, StoreExecutor.currentName, db.isReadOnly)
        }
        #expect(head == 2 && thread == "renkei-store-test" && readOnly)
        await writer.close()
    }

    @Test func runReturnsValuesAndTypedErrors() async throws {
        let executor = StoreExecutor(path: "/nonexistent/renkei.sqlite", threads: 1)
        #expect(try await executor.run { () throws(StoreError) in 41 + 1 } == 42)
        let error = await #expect(throws: StoreError.self) {
            try await executor.run { () throws(StoreError) -> Int in throw StoreError(.invalidArgument, "no") }
        }
        #expect(error?.code == .invalidArgument)
        // A read on a database that cannot be opened fails with the open error.
        let openError = await #expect(throws: StoreError.self) { try await executor.read { _ in 1 } }
        #expect(openError?.code == .open)
    }

    @Test func moreJobsThanThreadsAllFinish() async throws {
        let executor = StoreExecutor(path: "/unused", threads: 3, name: "renkei-store-many")
        let threads = ThreadNames()
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 1...50 {
                group.addTask {
                    try await executor.run { () throws(StoreError) in
                        threads.names.withLock { _ = $0.insert(StoreExecutor.currentName ?? "not a store thread") }
                        return n
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == 1275)
        #expect(StoreExecutor.currentName == nil)
        #expect(threads.names.withLock { $0 } == ["renkei-store-many"])
    }

    final class ThreadNames: Sendable {
        let names = Mutex<Set<String>>([])
    }

    @Test func aDetachedReadReportsItsError() async throws {
        let executor = StoreExecutor(path: "/nonexistent/renkei.sqlite", threads: 1)
        let error: StoreError? = await withCheckedContinuation { continuation in
            executor.readDetached { _ in continuation.resume(returning: nil) } onError: { error in
                continuation.resume(returning: error as? StoreError)
            }
        }
        #expect(error?.code == .open)
    }
}
