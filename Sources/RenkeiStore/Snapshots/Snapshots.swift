public import RenkeiCore

/// The snapshot tables (migrations 3 and 4, issue 16): per snapshot source, the last accepted snapshot as a
/// subject and a digest per field for each key (never the values), and every run with its file
/// digest and counts.
public enum Snapshots {
    static let schema = """
        CREATE TABLE IF NOT EXISTS snapshot_keys(
            source TEXT NOT NULL, key TEXT NOT NULL, subject TEXT NOT NULL, fields TEXT NOT NULL,
            row_digest TEXT NOT NULL DEFAULT '', PRIMARY KEY(source, key)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS snapshot_runs(
            id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, file TEXT NOT NULL, digest TEXT NOT NULL,
            rows INTEGER NOT NULL, added INTEGER NOT NULL, changed INTEGER NOT NULL, removed INTEGER NOT NULL,
            state TEXT NOT NULL, created_at TEXT NOT NULL, decided_at TEXT, held_path TEXT, reason TEXT);
        CREATE INDEX IF NOT EXISTS snapshot_runs_by_state ON snapshot_runs(state, id);
        """

    /// What became of a run.
    public enum State: String, Sendable, CaseIterable {
        /// Compared and applied (its differences are in the log).
        case applied
        /// Removes more than `max_removed_share` of the keys: kept aside until an operator decides.
        case held
        /// Held, then accepted by an operator and applied.
        case accepted
        /// Held, then discarded by an operator: nothing applied.
        case discarded
    }

    /// One recorded run.
    public struct Run: Sendable, Hashable {
        /// The run's id (`/v1/snapshots/{id}`).
        public var id: Int64
        /// The source.
        public var source: String
        /// The file's name in the spool.
        public var file: String
        /// The file's SHA-256, hex.
        public var digest: String
        /// Rows in the file (as compared when the run was recorded, or when an accepted run was applied).
        public var rows: Int64
        /// Keys the file adds.
        public var added: Int64
        /// Keys whose fields the file changes.
        public var changed: Int64
        /// Keys missing from the file.
        public var removed: Int64
        /// The state.
        public var state: State
        /// When it was recorded, RFC 3339.
        public var createdAt: String
        /// When an operator decided, RFC 3339.
        public var decidedAt: String?
        /// Where a held file is kept.
        public var heldPath: String?
        /// Why it was held.
        public var reason: String?

        /// Creates a run.
        public init(
            id: Int64 = 0, source: String, file: String, digest: String, rows: Int64, added: Int64, changed: Int64, removed: Int64,
            state: State, createdAt: String, decidedAt: String? = nil, heldPath: String? = nil, reason: String? = nil
        ) {
            self.id = id
            self.source = source
            self.file = file
            self.digest = digest
            self.rows = rows
            self.added = added
            self.changed = changed
            self.removed = removed
            self.state = state
            self.createdAt = createdAt
            self.decidedAt = decidedAt
            self.heldPath = heldPath
            self.reason = reason
        }

        /// `{"id", "source", "file", "digest", "rows", "added", "changed", "removed", "state", "created_at", …}`.
        public var json: JSONValue {
            var object: JSONObject = [
                "id": .integer(id), "source": .string(source), "file": .string(file), "digest": .string(digest),
                "rows": .integer(rows), "added": .integer(added), "changed": .integer(changed), "removed": .integer(removed),
                "state": .string(state.rawValue), "created_at": .string(createdAt),
            ]
            object["decided_at"] = decidedAt.map { .string($0) } ?? .null
            object["reason"] = reason.map { .string($0) } ?? .null
            return .object(object)
        }
    }

    /// The last accepted snapshot of `source`, by key.
    /// - Throws: ``StoreError``.
    public static func entries(of source: String, in db: Database) throws(StoreError) -> [String: SnapshotEntry] {
        let statement = try db.prepare("SELECT key, subject, fields, row_digest FROM snapshot_keys WHERE source = ?")
        defer { statement.reset() }
        try statement.bind([.text(source)])
        var entries: [String: SnapshotEntry] = [:]
        while try statement.step() {
            entries[statement.string(0) ?? ""] = SnapshotEntry(
                subject: statement.string(1) ?? "", fields: SnapshotEntry.fields(fromText: statement.string(2) ?? ""),
                rowDigest: statement.string(3) ?? "")
        }
        return entries
    }

    /// Migration 7 (issue 16's byte-level comparison): each source's row digests as one blob of
    /// sorted 32-byte digests (read in one step, where a million keys took a million), and an index
    /// from a digest back to its key (for the few digests a file does not have: changed or removed).
    static let digestSets = """
        CREATE TABLE IF NOT EXISTS snapshot_digest_sets(source TEXT PRIMARY KEY, digests BLOB NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS snapshot_keys_by_digest ON snapshot_keys(source, row_digest);
        """

    /// Migration 7: the tables, and the digest set of every snapshot already stored.
    static func migrateDigestSets(in db: Database) throws(StoreError) {
        try db.execute(digestSets)
        let sources = try db.prepare("SELECT DISTINCT source FROM snapshot_keys")
        var names: [String] = []
        while try sources.step() { names.append(sources.string(0) ?? "") }
        sources.reset()
        for source in names {
            let statement = try db.prepare("SELECT row_digest FROM snapshot_keys WHERE source = ?")
            try statement.bind([.text(source)])
            var digests: [String] = []
            while try statement.step() { digests.append(statement.string(0) ?? "") }
            statement.reset()
            try storeDigestSet(SnapshotDigestSet.updated([], removing: [], adding: digests), of: source, in: db)
        }
    }

    private static func storeDigestSet(_ blob: [UInt8], of source: String, in db: Database) throws(StoreError) {
        try db.prepare("INSERT INTO snapshot_digest_sets(source, digests) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET digests = excluded.digests")
            .run([.text(source), .blob(blob)])
    }

    private static func digestBlob(of source: String, in db: Database) throws(StoreError) -> [UInt8] {
        let statement = try db.prepare("SELECT digests FROM snapshot_digest_sets WHERE source = ?")
        defer { statement.reset() }
        try statement.bind([.text(source)])
        return try statement.step() ? statement.blob(0) ?? [] : []
    }

    /// The row digests of `source`'s last accepted snapshot (one blob, one step).
    /// - Throws: ``StoreError``.
    public static func digestSet(of source: String, in db: Database) throws(StoreError) -> SnapshotDigestSet {
        SnapshotDigestSet(sorted: try digestBlob(of: source, in: db))
    }

    /// Keys read back from row digests (``keys(of:digests:in:)``).
    public struct DigestKeys: Sendable, Hashable {
        /// The key of each digest found (hex → key).
        public var byDigest: [String: String]
        /// The keys stored without a row digest (from before row digests): no file row matches them.
        public var withoutDigest: [String]

        /// Creates the answer.
        public init(byDigest: [String: String], withoutDigest: [String]) {
            self.byDigest = byDigest
            self.withoutDigest = withoutDigest
        }
    }

    /// The keys of some stored row digests (hex) of `source`, and the keys stored without a row digest.
    /// - Throws: ``StoreError``.
    public static func keys(of source: String, digests: some Sequence<String>, in db: Database) throws(StoreError) -> DigestKeys {
        let statement = try db.prepare("SELECT key FROM snapshot_keys WHERE source = ? AND row_digest = ?")
        var byDigest: [String: String] = [:]
        for digest in digests {
            defer { statement.reset() }
            try statement.bind([.text(source), .text(digest)])
            if try statement.step() { byDigest[digest] = statement.string(0) ?? "" }
        }
        // The daemon writes 64 lowercase hex digits or '' (before row digests): the rows outside them
        // are two ranges of the index, read as two searches (one OR would scan the source's every key).
        var withoutDigest: [String] = []
        for sql in [
            "SELECT key FROM snapshot_keys WHERE source = ? AND row_digest < '0'",
            "SELECT key FROM snapshot_keys WHERE source = ? AND row_digest > 'g'",
        ] {
            let without = try db.prepare(sql)
            defer { without.reset() }
            try without.bind([.text(source)])
            while try without.step() { withoutDigest.append(without.string(0) ?? "") }
        }
        return DigestKeys(byDigest: byDigest, withoutDigest: withoutDigest)
    }

    /// The stored entries of some keys of `source` (those absent are left out).
    /// - Throws: ``StoreError``.
    public static func entries(of source: String, keys: some Sequence<String>, in db: Database) throws(StoreError) -> [String: SnapshotEntry] {
        let statement = try db.prepare("SELECT subject, fields, row_digest FROM snapshot_keys WHERE source = ? AND key = ?")
        var entries: [String: SnapshotEntry] = [:]
        for key in keys {
            defer { statement.reset() }
            try statement.bind([.text(source), .text(key)])
            if try statement.step() {
                entries[key] = SnapshotEntry(
                    subject: statement.string(0) ?? "", fields: SnapshotEntry.fields(fromText: statement.string(1) ?? ""),
                    rowDigest: statement.string(2) ?? "")
            }
        }
        return entries
    }

    /// Replaces the snapshot of `source` by a diff's outcome (inside the caller's transaction, the one
    /// that appends the diff's events): added and changed keys written, removed keys deleted.
    /// - Throws: ``StoreError``.
    public static func apply(_ diff: SnapshotDiff, source: String, in db: Database) throws(StoreError) {
        // The digest set follows the table: the replaced and removed rows' digests out, the new ones in.
        let current = try db.prepare("SELECT row_digest FROM snapshot_keys WHERE source = ? AND key = ?")
        var removing: [String] = []
        var adding: [String] = []
        for key in (diff.added + diff.changed.map(\.row) + diff.refreshed).map(\.key) + diff.removed.map(\.key) {
            defer { current.reset() }
            try current.bind([.text(source), .text(key)])
            if try current.step() { removing.append(current.string(0) ?? "") }
        }
        for row in diff.added + diff.changed.map(\.row) + diff.refreshed { adding.append(row.rowDigest) }
        let upsert = try db.prepare("""
            INSERT INTO snapshot_keys(source, key, subject, fields, row_digest) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(source, key) DO UPDATE SET subject = excluded.subject, fields = excluded.fields,
                row_digest = excluded.row_digest
            """)
        for row in diff.added + diff.changed.map(\.row) + diff.refreshed {
            try upsert.run([
                .text(source), .text(row.key), .text(row.subject),
                .text(SnapshotEntry(subject: row.subject, fields: row.fields).fieldsText), .text(row.rowDigest),
            ])
        }
        let delete = try db.prepare("DELETE FROM snapshot_keys WHERE source = ? AND key = ?")
        for removal in diff.removed {
            try delete.run([.text(source), .text(removal.key)])
        }
        if !removing.isEmpty || !adding.isEmpty {
            try storeDigestSet(SnapshotDigestSet.updated(try digestBlob(of: source, in: db), removing: removing, adding: adding), of: source, in: db)
        }
    }

    /// Records a run. Returns its id.
    /// - Throws: ``StoreError``.
    @discardableResult
    public static func record(_ run: Run, in db: Database) throws(StoreError) -> Int64 {
        try db.prepare("""
            INSERT INTO snapshot_runs(source, file, digest, rows, added, changed, removed, state, created_at, decided_at, held_path, reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run([
                .text(run.source), .text(run.file), .text(run.digest), .integer(run.rows), .integer(run.added), .integer(run.changed),
                .integer(run.removed), .text(run.state.rawValue), .text(run.createdAt), run.decidedAt.map { .text($0) } ?? .null,
                run.heldPath.map { .text($0) } ?? .null, run.reason.map { .text($0) } ?? .null,
            ])
        let statement = try db.prepare("SELECT last_insert_rowid()")
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int64(0)
    }

    /// Marks a held run decided, with the counts it was applied with (for `accepted`).
    /// - Returns: false when the run is not held (decided already, or no such run).
    /// - Throws: ``StoreError``.
    @discardableResult
    public static func decide(
        _ id: Int64, as state: State, at: String, counts: (rows: Int64, added: Int64, changed: Int64, removed: Int64)? = nil,
        in db: Database
    ) throws(StoreError) -> Bool {
        guard let run = try self.run(id, in: db), run.state == .held else { return false }
        let counts = counts ?? (run.rows, run.added, run.changed, run.removed)
        try db.prepare("""
            UPDATE snapshot_runs SET state = ?, decided_at = ?, rows = ?, added = ?, changed = ?, removed = ? WHERE id = ?
            """).run([.text(state.rawValue), .text(at), .integer(counts.rows), .integer(counts.added), .integer(counts.changed),
                      .integer(counts.removed), .integer(id)])
        return true
    }

    /// One run.
    /// - Throws: ``StoreError``.
    public static func run(_ id: Int64, in db: Database) throws(StoreError) -> Run? {
        try runs(where: "id = ?", [.integer(id)], limit: 1, in: db).first
    }

    /// The newest run whose file was kept at `heldPath`.
    /// - Throws: ``StoreError``.
    public static func run(heldPath: String, in db: Database) throws(StoreError) -> Run? {
        try runs(where: "held_path = ?", [.text(heldPath)], limit: 1, in: db).first
    }

    /// The newest runs first (at most `limit`), optionally of one state.
    /// - Throws: ``StoreError``.
    public static func runs(state: State? = nil, limit: Int = 100, in db: Database) throws(StoreError) -> [Run] {
        if let state { return try runs(where: "state = ?", [.text(state.rawValue)], limit: limit, in: db) }
        return try runs(where: "1", [], limit: limit, in: db)
    }

    private static func runs(where clause: String, _ values: [DatabaseValue], limit: Int, in db: Database) throws(StoreError) -> [Run] {
        let statement = try db.prepare("""
            SELECT id, source, file, digest, rows, added, changed, removed, state, created_at, decided_at, held_path, reason
            FROM snapshot_runs WHERE \(clause) ORDER BY id DESC LIMIT \(max(1, limit))
            """)
        defer { statement.reset() }
        try statement.bind(values)
        var result: [Run] = []
        while try statement.step() {
            result.append(Run(
                id: statement.int64(0), source: statement.string(1) ?? "", file: statement.string(2) ?? "",
                digest: statement.string(3) ?? "", rows: statement.int64(4), added: statement.int64(5), changed: statement.int64(6),
                removed: statement.int64(7), state: State(rawValue: statement.string(8) ?? "") ?? .held,
                createdAt: statement.string(9) ?? "", decidedAt: statement.string(10), heldPath: statement.string(11),
                reason: statement.string(12)))
        }
        return result
    }
}
