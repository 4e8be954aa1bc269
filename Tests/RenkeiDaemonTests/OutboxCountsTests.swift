import Foundation
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// `/v1/status` reads its delivery counts from `outbox_counts`, which triggers keep in step with the
/// outbox: they must always equal a count over the outbox, including on a database made before the
/// table existed.
@Suite struct OutboxCountsTests {
    static func counted(_ db: Database) throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try db.prepare(
            "SELECT subscription || '/' || state, COUNT(*) FROM outbox GROUP BY subscription, state"
        ).rows([]) { ($0.string(0) ?? "", $0.int64(1)) })
    }

    static func kept(_ db: Database) throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try db.prepare(
            "SELECT subscription || '/' || state, n FROM outbox_counts WHERE n != 0"
        ).rows([]) { ($0.string(0) ?? "", $0.int64(1)) })
    }

    static func insert(_ db: Database, _ subscription: String, _ n: Int, state: String = "pending") throws {
        try db.prepare(
            """
            INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, fields, created_ms, state)
            VALUES (?, 'U1', ?, 'person.changed', 1, 1, 'uid', ?, ?) ON CONFLICT(delta_id) DO NOTHING
            """
        ).run([.text(subscription), .text("\(subscription)-\(n)"), .integer(Int64(1000 + n)), .text(state)])
    }

    @Test func triggersKeepTheCountsOfEveryChange() throws {
        try withDeliveryDatabase { db in
            for n in 1...20 { try Self.insert(db, n % 3 == 0 ? "b" : "a", n) }
            try Self.insert(db, "a", 1)  // a duplicate delta id: nothing inserted, nothing counted
            try db.execute("UPDATE outbox SET state = 'delivered' WHERE seq % 2 = 0")
            try db.execute("UPDATE outbox SET state = 'dead', last_error = 'HTTP 400', last_attempt_at = '2026-11-23T00:00:0' || seq WHERE seq IN (5, 7)")
            try db.execute("UPDATE outbox SET attempts = attempts + 1")  // no state change
            try db.execute("UPDATE outbox SET state = 'skipped' WHERE seq = 5")
            try db.execute("DELETE FROM outbox WHERE seq = 13")
            #expect(try Self.kept(db) == Self.counted(db))

            let a = try Outbox.counts(subscription: "a", in: db)
            let counted = try Self.counted(db)
            #expect(a.delivered == counted["a/delivered"] && a.skipped == 1 && a.dead == 1)
            #expect(a.backlog == counted["a/pending", default: 0] + counted["a/dead", default: 0])
            #expect(a.oldestUndeliveredMs == 1001, "seq 1 is the oldest pending row of a")
            #expect(a.lastError == "HTTP 400")
            let none = try Outbox.counts(subscription: "nobody", in: db)
            #expect(none.backlog == 0 && none.delivered == 0 && none.oldestUndeliveredMs == nil && none.lastError == nil)
        }
    }

    @Test func aDatabaseFromBeforeTheTableIsCountedOnce() throws {
        try withDeliveryDatabase { db in
            // As a database written before `outbox_counts` (and before user_version): the table and its
            // triggers gone, rows added.
            try db.execute(
                """
                DROP TRIGGER outbox_counts_insert; DROP TRIGGER outbox_counts_update; DROP TRIGGER outbox_counts_delete;
                DROP TABLE outbox_counts; PRAGMA user_version = 0;
                """)
            for n in 1...12 { try Self.insert(db, "a", n, state: n <= 5 ? "delivered" : "pending") }
            #expect(try StateSchema.migrate(db).adoptedLegacy)
            #expect(try Self.kept(db) == ["a/delivered": 5, "a/pending": 7])
            try StateSchema.migrate(db)  // again: no second count
            try Self.insert(db, "a", 13)
            #expect(try Self.kept(db) == ["a/delivered": 5, "a/pending": 8])
        }
    }
}
