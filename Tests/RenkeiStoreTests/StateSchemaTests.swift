import Foundation
import RenkeiCore
import Testing
@testable import RenkeiStore

/// The state database's numbered migrations (``StateSchema``), one test each, plus the adoption of
/// an unversioned database and the refusal of a newer one.
@Suite struct StateSchemaTests {
    /// `Tests/Fixtures/store/main-36c753f`.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/store/main-36c753f")

    /// `sqlite_master` as the fixture script dumps it with the sqlite3 shell (`|` between columns).
    static func schemaDump(_ db: Database) throws -> String {
        try db.prepare("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master ORDER BY rowid").rows([]) { row in
            [row.string(0) ?? "", row.string(1) ?? "", row.string(2) ?? "", String(row.int64(3)), row.string(4) ?? ""]
                .joined(separator: "|")
        }.map { $0 + "\n" }.joined()
    }

    /// (type, name, sql) of every object, without page numbers: equal for two databases with the same schema.
    static func objects(_ db: Database) throws -> Set<String> {
        Set(try db.prepare("SELECT type, name, sql FROM sqlite_master").rows([]) { row in
            "\(row.string(0) ?? "")|\(row.string(1) ?? "")|\(row.string(2) ?? "")"
        })
    }

    static func tables(_ db: Database) throws -> Set<String> {
        Set(try db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").rows([]) { $0.string(0) ?? "" })
    }

    @Test func migration1IsTheSchemaMain36c753fCreatedInANewDatabase() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        let report = try StateSchema.migrator.migrate(db, upTo: 1)
        #expect(report == .init(from: 0, to: 1, adoptedLegacy: false))
        #expect(try StoreMigrator.userVersion(of: db) == 1)
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("fresh-schema.txt"), encoding: .utf8)
        // Same objects, same order, same text, same pages: byte for byte what that release wrote.
        #expect(try Self.schemaDump(db) == expected)
        #expect(try !Self.tables(db).contains("pull_cursors"))
    }

    @Test func migration2CreatesPullCursors() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrator.migrate(db, upTo: 1)
        let report = try StateSchema.migrator.migrate(db, upTo: 2)
        #expect(report == .init(from: 1, to: 2, adoptedLegacy: false))
        #expect(try Self.tables(db).contains("pull_cursors"))
        #expect(try PullCursors.cursor(of: "library", in: db) == nil)
        try PullCursors.store("c-1", for: "library", at: "2026-04-01T00:00:00Z", in: db)
        try PullCursors.store("c-2", for: "library", at: "2026-04-01T00:00:01Z", in: db)
        #expect(try PullCursors.cursor(of: "library", in: db) == "c-2")
    }

    @Test func migration3CreatesTheSnapshotTables() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrator.migrate(db, upTo: 2)
        #expect(try !Self.tables(db).contains("snapshot_keys"))
        let report = try StateSchema.migrator.migrate(db, upTo: 3)
        #expect(report == .init(from: 2, to: 3, adoptedLegacy: false))
        #expect(try Self.tables(db).isSuperset(of: ["snapshot_keys", "snapshot_runs"]))
        #expect(try Snapshots.entries(of: "library", in: db).isEmpty)
        let row = SnapshotRow(key: "L1", line: 2, subject: "L1", registration: .object(JSONObject()), fields: ["name": "aa", "address": "bb"])
        try Snapshots.apply(SnapshotDiff(rows: [row], previous: [:]), source: "library", in: db)
        #expect(try Snapshots.entries(of: "library", in: db) == ["L1": SnapshotEntry(subject: "L1", fields: ["name": "aa", "address": "bb"])])
        try Snapshots.apply(SnapshotDiff(rows: [], previous: try Snapshots.entries(of: "library", in: db)), source: "library", in: db)
        #expect(try Snapshots.entries(of: "library", in: db).isEmpty)
        let id = try Snapshots.record(
            Snapshots.Run(source: "library", file: "f.csv", digest: "ab", rows: 1, added: 0, changed: 0, removed: 1, state: .held,
                          createdAt: "2026-12-01T00:00:00Z", heldPath: "/x/held/f.csv", reason: "removes 100 %"),
            in: db)
        #expect(try Snapshots.runs(state: .held, in: db).map(\.id) == [id])
        #expect(try Snapshots.decide(id, as: .discarded, at: "2026-12-01T01:00:00Z", in: db))
        #expect(try !Snapshots.decide(id, as: .accepted, at: "2026-12-01T02:00:00Z", in: db))
        #expect(try Snapshots.run(id, in: db)?.state == .discarded)
    }

    @Test func aNewDatabaseGetsEveryMigrationAndASecondRunDoesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        #expect(try StateSchema.migrate(db) == .init(from: 0, to: StateSchema.currentVersion, adoptedLegacy: false))
        #expect(StateSchema.currentVersion == 4)
        let before = try Self.schemaDump(db)
        #expect(try StateSchema.migrate(db) == .init(from: 4, to: 4, adoptedLegacy: false))
        #expect(try Self.schemaDump(db) == before)
        #expect(try Self.tables(db).isSuperset(of: [
            "events", "persons", "outbox", "outbox_bodies", "outbox_counts", "disclosures", "access_log", "at_rest_keys",
            "pull_cursors", "snapshot_keys", "snapshot_runs", "reconciliation_findings", "reconciliation_history",
        ]))
    }

    /// A database as a release from before issue 13 left it: no `events.provenance`, `access_log`
    /// without `action`/`uid`/`hash`, bodies still in `outbox.body`, no `outbox_counts`, no
    /// `skip_reason`, a pull cursor made at the first pull. Adopted once, it has the current schema.
    @Test func anUnversionedDatabaseFromAnOlderReleaseIsAdopted() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try db.execute(
            """
            CREATE TABLE events (
                lsn INTEGER PRIMARY KEY CHECK (lsn >= 1), source TEXT NOT NULL, event_id TEXT NOT NULL,
                type TEXT NOT NULL, subject TEXT NOT NULL, recorded_at TEXT NOT NULL, body BLOB NOT NULL,
                hash BLOB NOT NULL CHECK (length(hash) = 32), UNIQUE (source, event_id));
            CREATE TABLE outbox(
                seq INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT NOT NULL, uid TEXT NOT NULL,
                delta_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, version INTEGER NOT NULL, lsn INTEGER NOT NULL,
                body BLOB NOT NULL, fields TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,
                last_attempt_at TEXT, last_status INTEGER, last_error TEXT, response_excerpt TEXT, delivered_at TEXT);
            CREATE INDEX outbox_by_uid ON outbox(uid);
            INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, body, fields, state, created_ms) VALUES
                ('s', 'U1', 's:U1:1', 'person.changed', 1, 1, X'7B7D', 'uid', 'delivered', 0),
                ('s', 'U1', 's:U1:2', 'person.changed', 2, 2, X'7B2261223A317D', 'uid', 'pending', 0),
                ('s', 'U2', 's:U2:1', 'person.changed', 1, 3, X'7B7D', 'uid', 'dead', 0);
            CREATE TABLE access_log(
                id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, caller_uid INTEGER, caller_pid INTEGER,
                method TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL);
            INSERT INTO access_log(at, caller_uid, caller_pid, method, target, status)
                VALUES ('2026-01-01T00:00:00Z', 1000, 1, 'GET', '/v1/status', 200);
            CREATE TABLE pull_cursors (source TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_at TEXT NOT NULL);
            INSERT INTO pull_cursors VALUES ('library', '41', '2026-01-01T00:00:00Z');
            """)
        let report = try StateSchema.migrate(db)
        #expect(report == .init(from: 0, to: StateSchema.currentVersion, adoptedLegacy: true))
        #expect(try LegacyAdoption.columns(of: "events", in: db).last == "provenance")
        #expect(try LegacyAdoption.columns(of: "access_log", in: db).suffix(3) == ["action", "uid", "hash"])
        let outbox = try LegacyAdoption.columns(of: "outbox", in: db)
        #expect(!outbox.contains("body") && outbox.last == "skip_reason")
        #expect(try db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'outbox_by_uid'").rows([]) { _ in true }.isEmpty)
        // Every delta keeps its body and state, counted once.
        let bodies = try db.prepare("SELECT seq, body FROM outbox_bodies ORDER BY seq").rows([]) {
            "\($0.int64(0)):\(String(decoding: $0.blob(1) ?? [], as: UTF8.self))"
        }
        #expect(bodies == ["1:{}", "2:{\"a\":1}", "3:{}"])
        let counts = try Outbox.counts(subscription: "s", in: db)
        #expect(counts.delivered == 1 && counts.backlog == 2 && counts.dead == 1)
        #expect(try Outbox.queueRows(subscription: "s", after: 0, limit: 10, in: db).map(\.seq) == [2, 3])
        #expect(try PullCursors.cursor(of: "library", in: db) == "41")
        // The entry from before the chain stays unchained; the next one starts the chain.
        try AccessLog.append(
            AccessLogEntry(at: "2026-02-01T00:00:00Z", callerUID: 0, callerPID: 2, method: "GET", target: "/v1/status", status: 200),
            in: db)
        let verified = try AccessLog.verify(in: db)
        #expect(verified.ok && verified.checked == 1 && verified.unchained == 1)
        // A second start: nothing to adopt again.
        #expect(try StateSchema.migrate(db).adoptedLegacy == false)
    }

    @Test func aDatabaseFromANewerReleaseIsRefusedAndLeftAlone() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database(path: dir.databasePath)
            try StateSchema.migrate(db)
            try db.execute("PRAGMA user_version = \(StateSchema.currentVersion + 1)")
        }
        let db = try Database(path: dir.databasePath)
        let error = try #require(throws: StoreError.self) { try StateSchema.migrate(db) }
        #expect(error.code == .newerSchema)
        #expect(error.message.contains("schema version \(StateSchema.currentVersion + 1)"))
        #expect(error.message.contains("knows versions up to \(StateSchema.currentVersion)"))
        #expect(error.message.contains("restore a backup"))
        #expect(try StoreMigrator.userVersion(of: db) == StateSchema.currentVersion + 1)
        // The writer refuses to open it too.
        let refused = try #require(throws: StoreError.self) { _ = try LogWriter(path: dir.databasePath) }
        #expect(refused.code == .newerSchema)
    }

    @Test func aFailingMigrationIsRolledBackAndTheEarlierOnesStay() throws {
        let migrator = StoreMigrator(
            migrations: [
                .init(version: 1, name: "one") { db throws(StoreError) in try db.execute("CREATE TABLE one(x)") },
                .init(version: 2, name: "two") { db throws(StoreError) in
                    try db.execute("CREATE TABLE two(x)")
                    try db.execute("INSERT INTO no_such_table VALUES (1)")
                },
            ],
            legacyVersion: 1, legacyAdoption: { _ throws(StoreError) in })
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        #expect(throws: StoreError.self) { try migrator.migrate(db) }
        #expect(try StoreMigrator.userVersion(of: db) == 1)
        #expect(try Self.tables(db) == ["one"])
    }
}
