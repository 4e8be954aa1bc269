import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// A held snapshot run survives a stop at either side of its two steps (issue 16): the run is
/// recorded first, then the file moves to `held/`. Stopped between them, the file is found in the
/// spool; a file in `held/` that no run names (the order of earlier releases) goes back to the spool.
/// Nothing is lost, and the run can still be accepted or discarded.
@Suite("Ingest: a held snapshot run across a stop")
struct HeldSnapshotCrashTests {
    static let settings = IngestSnapshotTests.settings

    func file(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: IngestSnapshotTests.vendor.appendingPathComponent(name)))
    }

    func runs(_ daemon: IngestFixture) async throws -> [Snapshots.Run] {
        try await daemon.service.writer.perform { db in try Snapshots.runs(in: db) }
    }

    /// A daemon whose library snapshot is the 2026-12-01 file (five patrons), stopped; its root.
    func stoppedAfterTheFirstNight() async throws -> URL {
        let daemon = try await IngestFixture(sources: Self.settings, push: false)
        try daemon.drop(try file("library-patrons-20261201.csv"), as: "a.csv", into: "library")
        #expect(await daemon.waitTaken("a.csv", source: "library"))
        #expect(try await daemon.loggedEvents().count == 5)
        await daemon.stop(removing: false)
        return daemon.root
    }

    /// The held run of the truncated file as `ingestSnapshot` records it before moving the file.
    func heldRun(file name: String, bytes: [UInt8], spool: URL) -> Snapshots.Run {
        Snapshots.Run(
            source: "library", file: name, digest: SpoolIngest.sha256Hex(bytes), rows: 2, added: 0, changed: 0, removed: 3,
            state: .held, createdAt: "2026-12-02T00:00:00Z", heldPath: spool.appendingPathComponent("held/\(name)").path,
            reason: "removes 3 of 5 keys (60.0 %), more than sources.library.files.snapshot.max_removed_share (0.25)")
    }

    @Test(.timeLimit(.minutes(4)))
    func stoppedAfterTheRunWasRecordedTheFileInTheSpoolIsMovedAndAccepted() async throws {
        let root = try await stoppedAfterTheFirstNight()
        defer { try? FileManager.default.removeItem(at: root) }
        // The stop: the run recorded, its file still in the spool.
        let daemon = try await IngestFixture(root: root, sources: Self.settings, push: false, start: false)
        defer { Task { await daemon.stop() } }
        let truncated = try file("library-patrons-20261202-truncated.csv")
        let spool = daemon.spool("library")
        let id = try await daemon.service.writer.perform { db in try Snapshots.record(heldRun(file: "b.csv", bytes: truncated, spool: spool), in: db) }
        try daemon.drop(truncated, as: "b.csv", into: "library")

        // At start, the scan finds the run's file in the spool and finishes the move: no second run.
        try daemon.service.start()
        #expect(await daemon.wait { FileManager.default.fileExists(atPath: spool.appendingPathComponent("held/b.csv").path) })
        #expect(!FileManager.default.fileExists(atPath: spool.appendingPathComponent("b.csv").path))
        #expect(try await runs(daemon).map { "\($0.id) \($0.file) \($0.state.rawValue)" } == ["\(id) b.csv held", "1 a.csv applied"])
        #expect(try await daemon.loggedEvents().count == 5)

        // Accepted: the three withdrawals, the file in done/.
        let accepted = try await daemon.service.spool.decideHeld(id, accept: true).get()
        #expect(accepted.state == .accepted && accepted.removed == 3)
        #expect(try await daemon.loggedEvents().count == 8)
        #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("done/b.csv").path))
    }

    @Test(.timeLimit(.minutes(4)))
    func aRunDecidedWhileItsFileIsStillInTheSpoolFindsItThere() async throws {
        let root = try await stoppedAfterTheFirstNight()
        defer { try? FileManager.default.removeItem(at: root) }
        // Not started: no scan moves the file, so the decision itself must find it in the spool.
        let daemon = try await IngestFixture(root: root, sources: Self.settings, push: false, start: false)
        defer { Task { await daemon.stop() } }
        let truncated = try file("library-patrons-20261202-truncated.csv")
        let spool = daemon.spool("library")
        let id = try await daemon.service.writer.perform { db in try Snapshots.record(heldRun(file: "b.csv", bytes: truncated, spool: spool), in: db) }
        // Another file of that name but other bytes is not the run's file.
        try daemon.drop(Array("利用者番号\r\n".utf8), as: "b.csv", into: "library")
        guard case .failure(let missing) = try await daemon.service.spool.decideHeld(id, accept: false) else {
            Issue.record("a run was decided without its file")
            return
        }
        #expect(missing.status == 409 && missing.message.contains("neither"))
        try FileManager.default.removeItem(at: spool.appendingPathComponent("b.csv"))
        try daemon.drop(truncated, as: "b.csv", into: "library")
        let discarded = try await daemon.service.spool.decideHeld(id, accept: false).get()
        #expect(discarded.state == .discarded)
        #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("rejected/b.csv").path))
        #expect(!FileManager.default.fileExists(atPath: spool.appendingPathComponent("b.csv").path))
        #expect(try await daemon.loggedEvents().count == 5)
    }

    @Test(.timeLimit(.minutes(4)))
    func aFileInHeldThatNoRunNamesGoesBackToTheSpoolAndIsHeldAgain() async throws {
        let root = try await stoppedAfterTheFirstNight()
        defer { try? FileManager.default.removeItem(at: root) }
        // The stop as earlier releases could leave it: the file moved to held/, no run recorded.
        let daemon = try await IngestFixture(root: root, sources: Self.settings, push: false, start: false)
        defer { Task { await daemon.stop() } }
        let spool = daemon.spool("library")
        try FileManager.default.createDirectory(at: spool.appendingPathComponent("held"), withIntermediateDirectories: true)
        try Data(try file("library-patrons-20261202-truncated.csv")).write(to: spool.appendingPathComponent("held/b.csv"))
        #expect(try await runs(daemon).count == 1)

        try daemon.service.start()
        // Back to the spool, compared again, held again, this time with its run.
        #expect(await daemon.wait { try await runs(daemon).first?.file == "b.csv" })
        let held = try #require(try await runs(daemon).first)
        #expect(held.state == .held && held.removed == 3 && held.heldPath == spool.appendingPathComponent("held/b.csv").path)
        #expect(await daemon.wait { FileManager.default.fileExists(atPath: spool.appendingPathComponent("held/b.csv").path) })
        #expect(daemon.logLines.contains { $0.contains("held/b.csv was named by no snapshot run") })
        let discarded = try await daemon.service.spool.decideHeld(held.id, accept: false).get()
        #expect(discarded.state == .discarded)
        #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("rejected/b.csv").path))
        #expect(try await daemon.loggedEvents().count == 5)
    }
}
