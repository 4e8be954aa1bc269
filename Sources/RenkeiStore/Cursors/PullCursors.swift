/// The `pull_cursors` table (migration 2): one cursor per pulled source, written in the transaction
/// that appends the events it covers.
public enum PullCursors {
    /// The stored cursor of `source`, or nil before its first successful pull.
    /// - Throws: ``StoreError``.
    public static func cursor(of source: String, in db: Database) throws(StoreError) -> String? {
        let statement = try db.prepare("SELECT cursor FROM pull_cursors WHERE source = ?")
        defer { statement.reset() }
        try statement.bind([.text(source)])
        guard try statement.step() else { return nil }
        return statement.string(0)
    }

    /// Stores the cursor of `source` (inside the caller's transaction), with the time it was stored.
    /// - Parameter at: RFC 3339 time, `updated_at`.
    /// - Throws: ``StoreError``.
    public static func store(_ cursor: String, for source: String, at: String, in db: Database) throws(StoreError) {
        try db.prepare("""
            INSERT INTO pull_cursors (source, cursor, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at
            """).run([.text(source), .text(cursor), .text(at)])
    }
}
