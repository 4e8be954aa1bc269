/// The schema of the state database (`state_dir/renkei.db`): every table of the daemon, owned here
/// and nowhere else, built by numbered migrations (``StoreMigrator``) and versioned by
/// `PRAGMA user_version`.
///
/// | version | what |
/// | --- | --- |
/// | 1 | the schema as main 36c753f created it in a new database (before versioning) |
/// | 2 | `pull_cursors`, which 36c753f created lazily at a source's first pull |
/// | 3 | `snapshot_keys` and `snapshot_runs`: snapshot sources' last accepted snapshot and runs (issue 16) |
/// | 4 | `subscription_modes`: the mode (`live`/`shadow`) each subscription last started with (issue 17) |
/// | 5 | `file_cuts`, `file_cut_rows` and `disclosures.file`: file subscriptions' files (issue 17) |
/// | 6 | `console_users` and `access_log.staff`/`note`: the web console's staff accounts (issue 18) |
/// | 7 | `snapshot_digest_sets` and `snapshot_keys_by_digest`: each snapshot's row digests in one blob, and digest → key, for the byte-level comparison (issue 16) |
/// | 8 | `reconciliation_findings` and `reconciliation_history`: the 突合 findings and their record (issue 17) |
///
/// Never edit a released migration: add the next one (and its test, and a line in README's
/// "State database and migrations").
public enum StateSchema {
    /// The migrations of the state database, and the adoption of a database from before versioning.
    public static let migrator = StoreMigrator(
        migrations: [
            .init(version: 1, name: "initial schema (main 36c753f)") { db throws(StoreError) in
                try db.execute(version1)
            },
            .init(version: 2, name: "pull_cursors") { db throws(StoreError) in
                try db.execute(PullCursorTable.schema)
            },
            .init(version: 3, name: "snapshot_keys, snapshot_runs") { db throws(StoreError) in
                try db.execute(Snapshots.schema)
            },
            .init(version: 4, name: "subscription_modes") { db throws(StoreError) in
                try db.execute(Outbox.modesSchema)
            },
            .init(version: 5, name: "file_cuts, file_cut_rows, disclosures.file") { db throws(StoreError) in
                try FileCuts.migrate(db)
            },
            .init(version: 6, name: "console_users, access_log.staff/note") { db throws(StoreError) in
                try ConsoleAccounts.migrate(db)
            },
            .init(version: 7, name: "snapshot_digest_sets, snapshot_keys_by_digest") { db throws(StoreError) in
                try Snapshots.migrateDigestSets(in: db)
            },
            .init(version: 8, name: "reconciliation_findings, reconciliation_history") { db throws(StoreError) in
                // Derived from the log like the views: a database that had views before this migration
                // gets its findings from `renkeictl rebuild` (README: Reconciliation).
                try db.execute(ReconciliationStore.schema)
            },
        ],
        legacyVersion: 1,
        legacyAdoption: { db throws(StoreError) in try LegacyAdoption.run(in: db) })

    /// The schema version this build writes and reads.
    public static var currentVersion: Int32 { migrator.currentVersion }

    /// Brings the state database to ``currentVersion`` (see ``StoreMigrator/migrate(_:upTo:)``).
    /// - Throws: ``StoreError``; code `newerSchema` for a database a newer Renkei wrote.
    @discardableResult
    public static func migrate(_ db: Database) throws(StoreError) -> StoreMigrator.Report {
        try migrator.migrate(db)
    }

    /// Migration 1: every object main 36c753f created in a new state database, in the same order
    /// and with the same text as `sqlite_master` shows it there (the columns that release added
    /// with ALTER TABLE — `outbox.skip_reason`, `access_log.action`/`uid`/`hash` — are written where
    /// ALTER TABLE put them, at the end), so a new database's schema is the same as it was then.
    static let version1 = [
        EventLog.schema, ProjectionTables.schema, OutboxTables.outbox, OutboxTables.bodiesAndLedger, OutboxTables.counts,
        AccessLogTable.table, AccessLogTable.triggers, AtRestKeyTable.schema,
    ].joined(separator: "\n")
}

/// The projection's tables: persons (internal record and rendered view), households, the
/// (source, subject) index, reviews, link decisions, the checkpoint, and each subscription's sent state.
enum ProjectionTables {
    static let schema = """
        CREATE TABLE IF NOT EXISTS projection_meta(id INTEGER PRIMARY KEY CHECK (id = 1), meta BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS persons(uid TEXT PRIMARY KEY, record BLOB NOT NULL, view BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS households(household_no TEXT PRIMARY KEY, record BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS person_links(
            source TEXT NOT NULL, subject TEXT NOT NULL, uid TEXT NOT NULL, PRIMARY KEY(source, subject));
        CREATE INDEX IF NOT EXISTS person_links_by_uid ON person_links(uid);
        CREATE TABLE IF NOT EXISTS reviews(id TEXT PRIMARY KEY, item BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS link_decisions(id INTEGER PRIMARY KEY CHECK (id = 1), decisions BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS sent_states(
            subscription TEXT NOT NULL, uid TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY(subscription, uid));
        """
}

/// DDL shared by migration 1 and the legacy adoption (the same text in both, so that both give the
/// same `sqlite_master`).
enum OutboxTables {
    /// `outbox` with `skip_reason` where ALTER TABLE put it, and its index by state.
    static let outbox = """
        CREATE TABLE IF NOT EXISTS outbox(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription TEXT NOT NULL,
            uid TEXT NOT NULL,
            delta_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            version INTEGER NOT NULL,
            lsn INTEGER NOT NULL,
            fields TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms INTEGER NOT NULL DEFAULT 0,
            created_ms INTEGER NOT NULL,
            last_attempt_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            response_excerpt TEXT,
            delivered_at TEXT, skip_reason TEXT);
        DROP INDEX IF EXISTS outbox_by_uid;
        CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(subscription, state, seq);
        """

    static let bodiesAndLedger = """
        CREATE TABLE IF NOT EXISTS outbox_bodies(
            seq INTEGER PRIMARY KEY,
            body BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS disclosures(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription TEXT NOT NULL,
            uid TEXT NOT NULL,
            delta_id TEXT NOT NULL,
            fields TEXT NOT NULL,
            lsn INTEGER NOT NULL,
            legal_basis TEXT,
            delivered_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS disclosures_by_uid ON disclosures(uid, id);
        CREATE TABLE IF NOT EXISTS disclosure_members(
            uid TEXT NOT NULL,
            disclosure_id INTEGER NOT NULL REFERENCES disclosures(id),
            PRIMARY KEY(uid, disclosure_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS subscription_control(
            subscription TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS household_sent_states(
            subscription TEXT NOT NULL, household_no TEXT NOT NULL, state BLOB NOT NULL,
            PRIMARY KEY(subscription, household_no));
        CREATE INDEX IF NOT EXISTS outbox_errors ON outbox(subscription, last_attempt_at) WHERE last_error IS NOT NULL;
        """

    /// `outbox_counts`: rows per (subscription, state), kept by triggers in the transaction of every
    /// change to the outbox, so `/v1/status` reads a few rows instead of counting an outbox that keeps
    /// every delivered delta (counting 480,000 rows took 3 s; a city's year is tens of millions).
    static let counts = """
        CREATE TABLE outbox_counts(
            subscription TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY(subscription, state)) WITHOUT ROWID;
        INSERT INTO outbox_counts(subscription, state, n)
            SELECT subscription, state, COUNT(*) FROM outbox GROUP BY subscription, state;
        CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN
            INSERT INTO outbox_counts(subscription, state, n) VALUES (new.subscription, new.state, 1)
                ON CONFLICT(subscription, state) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER outbox_counts_update AFTER UPDATE OF state ON outbox WHEN old.state IS NOT new.state BEGIN
            UPDATE outbox_counts SET n = n - 1 WHERE subscription = old.subscription AND state = old.state;
            INSERT INTO outbox_counts(subscription, state, n) VALUES (new.subscription, new.state, 1)
                ON CONFLICT(subscription, state) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN
            UPDATE outbox_counts SET n = n - 1 WHERE subscription = old.subscription AND state = old.state;
        END;
        """
}

enum AccessLogTable {
    /// With `action`, `uid` and `hash` where ALTER TABLE put them (issue 13).
    static let table = """
        CREATE TABLE IF NOT EXISTS access_log(
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, caller_uid INTEGER, caller_pid INTEGER,
            method TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL, action TEXT, uid TEXT, hash BLOB);
        """
    static let triggers = """
        CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
            BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
            BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
        """
}

enum AtRestKeyTable {
    static let schema = """
        CREATE TABLE IF NOT EXISTS at_rest_keys(
            key_id TEXT NOT NULL, kek_id TEXT NOT NULL, generation INTEGER NOT NULL, wrapped BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY(key_id, kek_id)) WITHOUT ROWID;
        """
}

enum PullCursorTable {
    static let schema = """
        CREATE TABLE IF NOT EXISTS pull_cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
}
