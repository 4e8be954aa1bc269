import Foundation
import RenkeiCore
import RenkeiCrypto
import Testing
@testable import RenkeiStore

/// A copy of the state database main 36c753f wrote (`Tests/Fixtures/store/main-36c753f`, see its
/// README) opened by this build: adopted and migrated to the current version, its chains still
/// verify, and the views, outbox, ledger, cursors, access log and at-rest key read back as before.
@Suite struct StoreFixtureTests {
    /// A scratch copy of the fixture (the committed file is never opened for writing).
    static func copy() throws -> (TemporaryDirectory, String) {
        let dir = TemporaryDirectory()
        try FileManager.default.copyItem(
            atPath: StateSchemaTests.fixtures.appendingPathComponent("renkei.db").path, toPath: dir.databasePath)
        return (dir, dir.databasePath)
    }

    @Test func theUnversionedDatabaseIsAdoptedAndMigratedToTheCurrentVersion() throws {
        let (dir, path) = try Self.copy()
        let db = try Database(path: path)
        #expect(try StoreMigrator.userVersion(of: db) == 0)
        #expect(try StateSchema.migrate(db) == .init(from: 0, to: StateSchema.currentVersion, adoptedLegacy: true))
        #expect(try StoreMigrator.userVersion(of: db) == StateSchema.currentVersion)
        // Its schema is now exactly a new database's (same objects and text; pages aside).
        let fresh = try Database(path: dir.path + "/fresh.sqlite")
        try StateSchema.migrate(fresh)
        #expect(try StateSchemaTests.objects(db) == StateSchemaTests.objects(fresh))
    }

    @Test func everythingReadsBackAsMain36c753fWroteIt() throws {
        let (dir, path) = try Self.copy()
        _ = dir
        do {
            let db = try Database(path: path)
            try StateSchema.migrate(db)
        }
        let db = try Database(path: path, readOnly: true)

        // The log: 17 events, the chain intact; the first came by pull, the last by replay.
        #expect(try EventLog.head(in: db).lsn == 17)
        #expect(try EventLog.verify(in: db) == VerifyReport(ok: true, checked: 17))
        let first = try #require(try EventLog.read(in: db, after: 0, limit: 1).first)
        #expect(first.event.source == "library" && first.event.eventID == "F-1")
        #expect(try EventLog.cause(in: db, lsn: 17) == DeltaCause(source: "library", eventID: "L-W1", type: "library.patron_registered"))

        // Views and checkpoint.
        #expect(try ProjectionStore.checkpoint(in: db) == 17)
        let takahashi = try #require(try ProjectionStore.view(uid: "U0000000002", in: db))
        #expect(takahashi["name"] == "髙橋 一郎" && takahashi["status"] == "active" && takahashi["household_no"] == "H000501")
        #expect(try ProjectionStore.uid(source: "library", subject: "LIB-20001", in: db) == "U0000000002")
        #expect(try ProjectionStore.uid(source: "library", subject: "FEED-1", in: db) == "U0000000001")
        let reviews = try ProjectionStore.reviews(in: db)
        #expect(reviews.map(\.id) == ["RV0000000001"])
        #expect(try ProjectionStore.household("H000501", in: db) != nil)
        let projection = try ProjectionStore.load(from: db)
        #expect(projection.meta.lsn == 17)

        // Outbox and ledger: `mirror` delivered 9, `broken` one dead letter (HTTP 401).
        let mirror = try Outbox.counts(subscription: "mirror", in: db)
        #expect(mirror.delivered == 9 && mirror.backlog == 0 && mirror.dead == 0 && mirror.oldestUndeliveredMs == nil)
        let broken = try Outbox.counts(subscription: "broken", in: db)
        #expect(broken.backlog == 1 && broken.dead == 1 && broken.delivered == 0 && broken.lastError == "HTTP 401")
        #expect(try Outbox.queueRows(subscription: "broken", after: 0, limit: 10, in: db) == [
            Outbox.QueueRow(seq: 8, uid: "U0000000003", attempts: 1, nextAttemptMs: try Self.nextAttempt(of: 8, in: db), isDead: true)
        ])
        let dead = try Outbox.deadLetters(subscription: nil, in: db)
        #expect(dead.count == 1)
        #expect(dead.first?["delta_id"] == "broken:U0000000003:3" && dead.first?["status"] == 401 && dead.first?["state"] == "dead")
        #expect(try Outbox.skipped(subscription: nil, in: db).isEmpty)
        #expect(try Outbox.state(deltaID: "mirror:U0000000003:3", in: db) == .delivered)
        #expect(try Outbox.state(deltaID: "broken:U0000000003:3", in: db) == .dead)
        let ledger = try Outbox.disclosures(uid: "U0000000003", in: db)
        #expect(ledger.map { $0["delta_id"]?.stringValue } == ["mirror:U0000000003:1", "mirror:U0000000003:3"])
        #expect(ledger.first?["fields"] == ["uid", "status", "name"] && ledger.first?["lsn"] == 3)
        let sent = try Outbox.deltas(seqs: [9], in: db)
        #expect(sent.first?.state == .delivered && sent.first?.pending.deltaID == "mirror:U0000000003:3")
        #expect(try Outbox.pausedSubscriptions(in: db).isEmpty)

        // Pull cursor.
        #expect(try PullCursors.cursor(of: "library", in: db) == "c-1")

        // Access log: three chained entries, the newest a read of one person.
        let verified = try AccessLog.verify(in: db)
        #expect(verified.ok && verified.checked == 3 && verified.unchained == 0)
        let newest = try AccessLog.newest(10, in: db)
        #expect(newest.map(\.id) == [3, 2, 1])
        #expect(newest.first?.entry.target == "/v1/persons/U0000000001" && newest.first?.entry.uid == "U0000000001")
        #expect(newest.last?.entry.method == "POST" && newest.last?.entry.action == "change")

        // The at-rest data key unwraps with the key file it was made under.
        let wrappings = try AtRestKeys.wrappings(in: db)
        #expect(wrappings.map(\.kekID) == ["2ee6a798092e"] && wrappings.map(\.generation) == [1])
        let keyText = try String(contentsOf: StateSchemaTests.fixtures.appendingPathComponent("at-rest.key"), encoding: .utf8)
        let kek = try KeyEncryptionKey(fileText: keyText, fileName: "at-rest.key")
        let wrapping = try #require(wrappings.first)
        let cipher = try AtRestCipher.unwrap(wrapping.wrapped, keyID: wrapping.keyID, under: kek)
        #expect(cipher.keyID == "k71a5342c")
    }

    /// The writer opens the old database, and appends after it continue its chain.
    @Test func theWriterOpensItAndTheChainGoesOn() async throws {
        let (dir, path) = try Self.copy()
        _ = dir
        let writer = try LogWriter(path: path, clock: fixedClock)
        #expect(try await writer.append([makeEvent(id: "after-upgrade")]) == [.appended(lsn: 18)])
        let report = try await writer.perform { db in
            (try EventLog.verify(in: db), try StoreMigrator.userVersion(of: db))
        }
        #expect(report.0 == VerifyReport(ok: true, checked: 18) && report.1 == StateSchema.currentVersion)
        await writer.close()
    }

    static func nextAttempt(of seq: Int64, in db: Database) throws -> Int64 {
        try db.prepare("SELECT next_attempt_ms FROM outbox WHERE seq = ?").rows([.integer(seq)]) { $0.int64(0) }.first ?? -1
    }
}
