import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// The rebuild's log reader thread: chunks in log order up to the target, its errors thrown by
/// `next()`, and `stop()` ending a thread that waits for room.
@Suite(.timeLimit(.minutes(5))) struct LogChunkReaderTests {
    /// A stopped daemon's state with 80 logged events (lsn 1…80); returns its folder and database path.
    static func loggedState() async throws -> (root: URL, path: String) {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, StartupTests.lines(0..<40))
        await fixture.stop(removing: false)
        return (fixture.root, fixture.root.appendingPathComponent("state/renkei.db").path)
    }

    /// Logs an event whose body is not JSON at lsn 81 (behind the log writer's back).
    static let damagedEvent81 = """
        INSERT INTO events(lsn, source, event_id, type, subject, recorded_at, body, hash) VALUES
        (81, 'resident', 'X-1', 'resident.moved', '000000001', '2026-04-01T00:00:00Z', 'not json', zeroblob(32))
        """

    @Test func chunksComeInLogOrderUpToTheTarget() async throws {
        let (root, path) = try await Self.loggedState()
        defer { try? FileManager.default.removeItem(at: root) }
        let reader = LogChunkReader(databasePath: path, after: 10, through: 75, chunkSize: 20, ahead: 2)
        defer { reader.stop() }
        var chunks: [[Int64]] = []
        while let chunk = try reader.next() { chunks.append(chunk.map(\.lsn)) }
        #expect(chunks.map(\.count) == [20, 20, 20, 5])
        #expect(chunks.flatMap { $0 } == Array(11...75))
        #expect(try reader.next() == nil)
    }

    @Test func aDatabaseThatCannotBeOpenedIsThrownByNext() throws {
        let reader = LogChunkReader(databasePath: "/nonexistent/renkei.db", after: 0, through: 10)
        defer { reader.stop() }
        #expect(throws: StoreError.self) { try reader.next() }
        #expect(try reader.next() == nil)
    }

    @Test func aDamagedEventIsThrownAfterTheChunksBeforeIt() async throws {
        let (root, path) = try await Self.loggedState()
        defer { try? FileManager.default.removeItem(at: root) }
        try Database(path: path).execute(Self.damagedEvent81)
        let reader = LogChunkReader(databasePath: path, after: 0, through: 81, chunkSize: 50, ahead: 2)
        defer { reader.stop() }
        #expect(try reader.next()?.count == 50)
        let error = #expect(throws: StoreError.self) { try reader.next() }
        #expect(error?.code == .corruptLog)
        #expect(error?.message.contains("lsn 81") == true)
    }

    @Test func stopEndsAReaderWaitingForRoom() async throws {
        let (root, path) = try await Self.loggedState()
        defer { try? FileManager.default.removeItem(at: root) }
        let reader = LogChunkReader(databasePath: path, after: 0, through: 80, chunkSize: 1, ahead: 1)
        #expect(try reader.next()?.map(\.lsn) == [1])
        // The reader fills its one place and waits for room that never comes.
        #expect(await pollUntil(.seconds(30)) { reader.queuedChunks == 1 })
        reader.stop()  // returns only once the thread has ended (the time limit catches a hang)
        #expect(try reader.next() == nil)
    }

    @Test func stopAtAnyPointEndsTheReader() async throws {
        let (root, path) = try await Self.loggedState()
        defer { try? FileManager.default.removeItem(at: root) }
        for round in 0..<40 {
            let reader = LogChunkReader(databasePath: path, after: 0, through: 80, chunkSize: 3, ahead: 1 + round % 2)
            for _ in 0..<(round % 5) { _ = try reader.next() }
            reader.stop()
        }
    }
}
