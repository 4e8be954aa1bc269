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
        // The snapshot API runs on the current schema (apply keeps migration 7's digest sets too).
        try StateSchema.migrate(db)
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

    /// Issue 17: the file journal, and the ledger naming the file a delta went out in.
    @Test func migration5CreatesTheFileJournalAndTheLedgersFileColumn() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrator.migrate(db, upTo: 4)
        #expect(try !Self.tables(db).contains("file_cuts"))
        #expect(try StateSchema.migrator.migrate(db, upTo: 5) == .init(from: 4, to: 5, adoptedLegacy: false))
        #expect(try Self.tables(db).isSuperset(of: ["file_cuts", "file_cut_rows"]))
        try db.execute(
            """
            INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, fields, created_ms)
            VALUES ('drop', 'U1', 'drop:U1:1', 'person.created', 1, 7, 'uid', 0)
            """)
        let cut = try FileCuts.begin(
            subscription: "drop", temporary: ".drop.deltas.tmp", kind: .deltas,
            rows: [FileCuts.Row(outboxSeq: 1, uid: "U1", deltaID: "drop:U1:1", fields: "uid", lsn: 7)],
            at: "2026-12-07T00:00:00Z", name: { "drop-\($0).csv" }, in: db)
        #expect(cut.fileSeq == 1 && cut.name == "drop-1.csv")
        #expect(try FileCuts.unfinished(subscription: "drop", in: db) == [cut])
        try FileCuts.publish(subscription: "drop", fileSeq: 1, legalBasis: nil, at: "2026-12-07T00:00:01Z", in: db)
        #expect(try FileCuts.unfinished(subscription: "drop", in: db).isEmpty)
        #expect(try FileCuts.nextSequence(subscription: "drop", in: db) == 2)
        #expect(try Outbox.disclosures(uid: "U1", in: db).map { $0["file"] } == ["drop-1.csv"])
        #expect(try Outbox.counts(subscription: "drop", in: db).delivered == 1)
    }

    @Test func migration7StoresTheRowDigestsOfASnapshotMadeBeforeItAndApplyKeepsThem() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrator.migrate(db, upTo: 6)
        // A snapshot stored at version 3: two keys with a row digest, one from before row digests ('').
        let d1 = String(repeating: "ab", count: 32)
        let d2 = String(repeating: "0c", count: 32)
        func row(_ key: String, _ digest: String = "") -> SnapshotRow {
            SnapshotRow(key: key, line: 2, subject: key, registration: .object(JSONObject()), fields: ["name": key], rowDigest: digest)
        }
        for (key, digest) in [("L1", d1), ("L2", ""), ("L3", d2)] {
            try db.prepare("INSERT INTO snapshot_keys(source, key, subject, fields, row_digest) VALUES ('library', ?, ?, ?, ?)")
                .run([.text(key), .text(key), .text(SnapshotEntry(subject: key, fields: ["name": key]).fieldsText), .text(digest)])
        }
        #expect(try StateSchema.migrator.migrate(db, upTo: 7) == .init(from: 6, to: 7, adoptedLegacy: false))
        var set = try Snapshots.digestSet(of: "library", in: db)
        #expect(set.count == 2 && set.find(hex: d1) != nil && set.find(hex: d2) != nil)
        let found = try Snapshots.keys(of: "library", digests: [d1, d2, String(repeating: "ff", count: 32)], in: db)
        #expect(found.byDigest == [d1: "L1", d2: "L3"] && found.withoutDigest == ["L2"])
        #expect(try Snapshots.entries(of: "library", keys: ["L2", "L9"], in: db) == ["L2": SnapshotEntry(subject: "L2", fields: ["name": "L2"])])

        // Applying a diff keeps the set with the table: L1 changed, L3 removed, L4 added, L2 refreshed.
        let d1b = String(repeating: "ac", count: 32)
        let d4 = String(repeating: "04", count: 32)
        let d2b = String(repeating: "02", count: 32)
        let previous = try Snapshots.entries(of: "library", keys: ["L1", "L2", "L3"], in: db)
        var changed = row("L1", d1b)
        changed.fields = ["name": "other"]
        let diff = SnapshotDiff(rows: [changed, row("L2", d2b), row("L4", d4)], previous: previous, removed: ["L3"], previousCount: 3, rowCount: 3)
        #expect(diff.changed.count == 1 && diff.refreshed.count == 1 && diff.added.count == 1 && diff.removed.count == 1)
        try Snapshots.apply(diff, source: "library", in: db)
        set = try Snapshots.digestSet(of: "library", in: db)
        #expect(set.count == 3 && [d1b, d2b, d4].allSatisfy { set.find(hex: $0) != nil } && set.find(hex: d1) == nil && set.find(hex: d2) == nil)
        #expect(try Snapshots.keys(of: "library", digests: [d2b], in: db).withoutDigest.isEmpty)
    }

    @Test func aNewDatabaseGetsEveryMigrationAndASecondRunDoesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        #expect(try StateSchema.migrate(db) == .init(from: 0, to: StateSchema.currentVersion, adoptedLegacy: false))
        #expect(StateSchema.currentVersion == 8)
        let before = try Self.schemaDump(db)
        #expect(try StateSchema.migrate(db) == .init(from: 8, to: 8, adoptedLegacy: false))
        #expect(try Self.schemaDump(db) == before)
        #expect(try Self.tables(db).isSuperset(of: [
            "events", "persons", "outbox", "outbox_bodies", "outbox_counts", "disclosures", "access_log", "at_rest_keys",
            "pull_cursors", "snapshot_keys", "snapshot_runs", "subscription_modes", "file_cuts", "file_cut_rows",
            "console_users", "snapshot_digest_sets", "reconciliation_findings", "reconciliation_history",
        ]))
    }

    /// Migration 4 (issue 17): `subscription_modes`. A subscription that started in shadow and then
    /// starts live has its deltas still pending turned `shadowed` (a switch sends nothing
    /// retroactively); one that was live all along keeps its pending deltas.
    @Test func migrationFourRecordsModesAndASwitchToLiveKeepsShadowDeltasBack() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrator.migrate(db, upTo: 3)
        #expect(try !Self.tables(db).contains("subscription_modes"))
        #expect(try StateSchema.migrator.migrate(db, upTo: 4) == .init(from: 3, to: 4, adoptedLegacy: false))
        #expect(try Self.tables(db).contains("subscription_modes"))
        #expect(try Outbox.applyModes(["a": "shadow", "b": "live"], in: db).isEmpty)
        try db.execute(
            """
            INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, fields, state, created_ms) VALUES
                ('a', 'U1', 'a:U1:1', 'person.created', 1, 1, 'uid', 'shadowed', 0),
                ('a', 'U1', 'a:U1:2', 'person.changed', 2, 2, 'uid', 'pending', 0),
                ('b', 'U1', 'b:U1:1', 'person.created', 1, 1, 'uid', 'pending', 0);
            """)
        #expect(try Outbox.applyModes(["a": "live", "b": "live"], in: db) == ["a": 1])
        #expect(try Outbox.state(deltaID: "a:U1:2", in: db) == .shadowed)
        #expect(try Outbox.state(deltaID: "b:U1:1", in: db) == .pending)
        #expect(try Outbox.counts(subscription: "a", in: db).shadowed == 2)
        // Live again on the next start: nothing more changes.
        #expect(try Outbox.applyModes(["a": "live", "b": "live"], in: db).isEmpty)
        let replayed = try Outbox.replayShadowed(subscription: "a", fromLSN: 2, in: db)
        #expect(replayed.map(\.row.seq) == [2])
        #expect(try Outbox.state(deltaID: "a:U1:1", in: db) == .shadowed)
        #expect(try Outbox.state(deltaID: "a:U1:2", in: db) == .pending)
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
        // action/uid/hash from the adoption (issue 13), staff/note from migration 6 (issue 18).
        #expect(try LegacyAdoption.columns(of: "access_log", in: db).suffix(5) == ["action", "uid", "hash", "staff", "note"])
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
