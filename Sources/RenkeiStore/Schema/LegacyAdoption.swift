/// Brings a state database written before the schema was versioned (`user_version` 0, tables
/// present: any release up to main 36c753f) to the schema of migration 1.
///
/// These are the steps those releases ran at every start, now run once: the idempotent DDL of
/// migration 1 (`CREATE … IF NOT EXISTS`), then the upgrades they made by looking at the schema —
/// `events.provenance` (issue 13), bodies moved out of `outbox` into `outbox_bodies`, `outbox_counts`
/// counted once, `outbox.skip_reason`, and `access_log.action`/`uid`/`hash` (issue 13). Runs in the
/// migrator's transaction, with setting `user_version` to 1.
enum LegacyAdoption {
    static func run(in db: Database) throws(StoreError) {
        try db.execute(EventLog.schema)
        try addColumns(["provenance": "BLOB"], to: "events", in: db)
        try db.execute(ProjectionTables.schema)
        try db.execute(OutboxTables.outbox)
        try db.execute(OutboxTables.bodiesAndLedger)
        try moveBodiesOutOfOutbox(in: db)
        if try !hasTable("outbox_counts", in: db) { try db.execute(OutboxTables.counts) }
        try addColumns(["skip_reason": "TEXT"], to: "outbox", in: db)
        try db.execute(AccessLogTable.table)
        try db.execute(AccessLogTable.triggers)
        // ALTER TABLE is not an UPDATE, so the append-only triggers do not object; old rows get NULL.
        try addColumns(["action": "TEXT", "uid": "TEXT", "hash": "BLOB"], to: "access_log", in: db)
        try db.execute(AtRestKeyTable.schema)
    }

    /// The column names of `table`, in order.
    static func columns(of table: String, in db: Database) throws(StoreError) -> [String] {
        let statement = try db.prepare("SELECT name FROM pragma_table_info(?)")
        defer { statement.reset() }
        try statement.bind([.text(table)])
        var names: [String] = []
        while try statement.step() { names.append(statement.string(0) ?? "") }
        return names
    }

    static func hasTable(_ name: String, in db: Database) throws(StoreError) -> Bool {
        let statement = try db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
        defer { statement.reset() }
        try statement.bind([.text(name)])
        return try statement.step()
    }

    /// Adds the missing ones of `columns` (name: type), in the order given (the order the old releases
    /// added them, so the table's text in `sqlite_master` comes out as theirs did).
    private static func addColumns(_ columns: KeyValuePairs<String, String>, to table: String, in db: Database) throws(StoreError) {
        let present = Set(try Self.columns(of: table, in: db))
        for (name, type) in columns where !present.contains(name) {
            try db.execute("ALTER TABLE \(table) ADD COLUMN \(name) \(type)")
        }
    }

    /// A database from before bodies had their own table (its `outbox` has a `body` column): copies
    /// every body to `outbox_bodies` under its seq and drops the column. Dropping a column rewrites
    /// the table (https://www.sqlite.org/lang_altertable.html#altertabdropcol): once, in proportion
    /// to the outbox.
    static func moveBodiesOutOfOutbox(in db: Database) throws(StoreError) {
        guard try columns(of: "outbox", in: db).contains("body") else { return }
        try db.execute(
            """
            INSERT OR IGNORE INTO outbox_bodies(seq, body) SELECT seq, body FROM outbox;
            ALTER TABLE outbox DROP COLUMN body;
            """)
    }
}
