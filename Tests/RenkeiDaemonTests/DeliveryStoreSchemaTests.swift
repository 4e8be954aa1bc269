import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// Bodies live in `outbox_bodies`, written once; a database from before (bodies in `outbox.body`)
/// is upgraded at start-up without losing a delta, its body or its delivery state.
@Suite("Delivery store schema")
struct DeliveryStoreSchemaTests {
    /// The outbox as it was created before bodies moved to their own table.
    static let oldOutbox = """
        CREATE TABLE outbox(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription TEXT NOT NULL,
            uid TEXT NOT NULL,
            delta_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            version INTEGER NOT NULL,
            lsn INTEGER NOT NULL,
            body BLOB NOT NULL,
            fields TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL,
            last_attempt_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            response_excerpt TEXT,
            delivered_at TEXT);
        CREATE INDEX outbox_by_state ON outbox(subscription, state, seq);
        """

    static func withDatabase(_ body: (Database) throws -> Void) throws {
        let directory = "/tmp/renkei-schema-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database(path: directory + "/renkei.db")
        try body(db)
    }

    static func delta(_ uid: String, version: Int64, body: String) -> PlannedDelta {
        PlannedDelta(
            deltaID: "s:\(uid):\(version)", subscription: "s", kind: "person.changed", uid: uid, version: version,
            prevVersion: nil, lsn: version, body: Array(body.utf8), disclosedFields: ["uid", "name"],
            newState: SentState(sentVersion: nil, version: version, visible: JSONObject()))
    }

    static func hasBodyColumn(_ db: Database) throws -> Bool {
        try db.prepare("SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'body'").rows([]) { $0.int64(0) }
            .first == 1
    }

    @Test func anOlderOutboxKeepsEveryDeltaAndBodyAfterTheUpgrade() throws {
        try Self.withDatabase { db in
            // The projection's tables as they were (the deltas' facts read them), and the old outbox.
            try db.execute(
                """
                CREATE TABLE persons(uid TEXT PRIMARY KEY, record BLOB NOT NULL, view BLOB NOT NULL);
                CREATE TABLE person_links(
                    source TEXT NOT NULL, subject TEXT NOT NULL, uid TEXT NOT NULL, PRIMARY KEY(source, subject));
                """)
            try db.execute(Self.oldOutbox)
            let insert = try db.prepare(
                """
                INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, body, fields, state, attempts, created_ms)
                VALUES ('s', ?, ?, 'person.changed', ?, ?, ?, 'uid,name', ?, ?, 0)
                """)
            let old: [(uid: String, version: Int64, state: String, attempts: Int64)] = [
                ("A", 1, "delivered", 1), ("A", 2, "pending", 2), ("B", 1, "dead", 5), ("C", 1, "skipped", 3),
            ]
            for row in old {
                try insert.run([
                    .text(row.uid), .text("s:\(row.uid):\(row.version)"), .integer(row.version), .integer(row.version),
                    .blob(Array("{\"old\":\"\(row.uid)\(row.version)\"}".utf8)), .text(row.state), .integer(row.attempts),
                ])
            }

            #expect(try StateSchema.migrate(db).adoptedLegacy)
            #expect(try !Self.hasBodyColumn(db))
            let states = try db.prepare("SELECT seq, state, attempts FROM outbox ORDER BY seq").rows([]) {
                "\($0.int64(0)):\($0.string(1) ?? ""):\($0.int64(2))"
            }
            #expect(states == ["1:delivered:1", "2:pending:2", "3:dead:5", "4:skipped:3"])
            let read = try Outbox.deltas(seqs: [1, 2, 3, 4], in: db).sorted { $0.pending.seq < $1.pending.seq }
            #expect(read.map { String(decoding: $0.pending.body, as: UTF8.self) } == [
                "{\"old\":\"A1\"}", "{\"old\":\"A2\"}", "{\"old\":\"B1\"}", "{\"old\":\"C1\"}",
            ])
            #expect(try Outbox.queueRows(subscription: "s", after: 0, limit: 100, in: db).map(\.seq) == [2, 3])

            // A second start finds nothing to do; new deltas follow the old ones in seq order.
            #expect(try StateSchema.migrate(db) == .init(from: StateSchema.currentVersion, to: StateSchema.currentVersion, adoptedLegacy: false))
            try Outbox.enqueue(Self.delta("A", version: 3, body: "{\"new\":1}"), in: db, nowMs: 0)
            let new = try Outbox.deltas(seqs: [5], in: db)
            #expect(new.map { String(decoding: $0.pending.body, as: UTF8.self) } == ["{\"new\":1}"])
            #expect(try Outbox.queueRows(subscription: "s", after: 0, limit: 100, in: db).map(\.seq) == [2, 3, 5])
        }
    }

    @Test func aBodyIsWrittenOnceAndOutcomesLeaveItAlone() throws {
        try Self.withDatabase { db in
            try StateSchema.migrate(db)
            #expect(try !Self.hasBodyColumn(db))
            let delta = Self.delta("A", version: 1, body: "{\"uid\":\"A\"}")
            try Outbox.enqueue(delta, in: db, nowMs: 0)
            // The same delta id again (a replayed projection) is ignored, body included.
            try Outbox.enqueue(Self.delta("A", version: 1, body: "{\"other\":true}"), in: db, nowMs: 0)
            #expect(try db.prepare("SELECT COUNT(*) FROM outbox_bodies").rows([]) { $0.int64(0) } == [1])

            let pending = try #require(try Outbox.deltas(seqs: [1], in: db).first?.pending)
            try Outbox.markFailed(
                seq: 1, dead: false, status: 503, error: "HTTP 503", excerpt: nil, nextAttemptMs: 0, at: "t", in: db)
            try Outbox.markDelivered(
                pending, subscription: "s", legalBasis: nil, status: 200, at: "t", fields: "uid", in: db)
            let after = try #require(try Outbox.deltas(seqs: [1], in: db).first)
            #expect(after.state == .delivered)
            #expect(after.pending.attempts == 2)
            #expect(after.pending.body == delta.body)
        }
    }

    @Test func aMissingBodyIsAnErrorNotAMissingDelta() throws {
        try Self.withDatabase { db in
            try StateSchema.migrate(db)
            try Outbox.enqueue(Self.delta("A", version: 1, body: "{}"), in: db, nowMs: 0)
            try db.execute("DELETE FROM outbox_bodies")
            #expect(throws: RenkeiError.self) { try Outbox.deltas(seqs: [1], in: db) }
        }
    }
}
