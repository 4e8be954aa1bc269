public import RenkeiCore

/// The journal of file subscriptions' files (migration 5, issue 17): which file of which
/// subscription holds which deltas, so that a file counts as delivered exactly when it is in its
/// folder, across any crash.
///
/// A file's life: its bytes are written to a temporary name and synced; ``begin(_:rows:at:in:)``
/// records it as `writing` with the rows it holds (what the ledger will say of each); the file is
/// renamed into place; ``publish(subscription:fileSeq:legalBasis:at:in:)`` then marks its deltas
/// delivered and writes the disclosure rows with the file's name, in one transaction. After a crash,
/// a `writing` cut whose temporary file is still there was never renamed: it is
/// ``abandon(subscription:fileSeq:in:)``ed (its deltas are still pending and go into a new file);
/// one whose temporary is gone was renamed, and is published. Sequence numbers only grow.
public enum FileCuts {
    static let schema = """
        CREATE TABLE IF NOT EXISTS file_cuts(
            subscription TEXT NOT NULL, file_seq INTEGER NOT NULL, name TEXT NOT NULL, temporary TEXT NOT NULL,
            kind TEXT NOT NULL, state TEXT NOT NULL, rows INTEGER NOT NULL, created_at TEXT NOT NULL,
            published_at TEXT, PRIMARY KEY(subscription, file_seq)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS file_cut_rows(
            subscription TEXT NOT NULL, file_seq INTEGER NOT NULL, n INTEGER NOT NULL, outbox_seq INTEGER,
            uid TEXT NOT NULL, delta_id TEXT NOT NULL, fields TEXT NOT NULL, lsn INTEGER NOT NULL,
            members TEXT NOT NULL DEFAULT '', PRIMARY KEY(subscription, file_seq, n)) WITHOUT ROWID;
        """

    /// Migration 4: the journal's tables, and `disclosures.file` unless it is there already (a database
    /// adopted as legacy runs the migrations again over tables it may already have).
    static func migrate(_ db: Database) throws(StoreError) {
        try db.execute(schema)
        if try !LegacyAdoption.columns(of: "disclosures", in: db).contains("file") {
            try db.execute("ALTER TABLE disclosures ADD COLUMN file TEXT")
        }
    }

    /// What a file holds: deltas (from the outbox) or a full export of the views (全件).
    public enum Kind: String, Sendable {
        /// Deltas, each an outbox row.
        case deltas
        /// A full export: one row per person in scope, none from the outbox.
        case export
    }

    /// One file of a subscription.
    public struct Cut: Sendable, Hashable {
        /// The subscription.
        public var subscription: String
        /// Its sequence number (1, 2, …; in the name).
        public var fileSeq: Int64
        /// The name it is published under.
        public var name: String
        /// The temporary name it is written under.
        public var temporary: String
        /// Deltas or an export.
        public var kind: Kind
        /// Rows it holds.
        public var rows: Int

        /// Creates a cut.
        public init(subscription: String, fileSeq: Int64, name: String, temporary: String, kind: Kind, rows: Int) {
            self.subscription = subscription
            self.fileSeq = fileSeq
            self.name = name
            self.temporary = temporary
            self.kind = kind
            self.rows = rows
        }
    }

    /// What the ledger will record of one row once the file is published.
    public struct Row: Sendable, Hashable {
        /// The outbox row it delivers (nil for an export row).
        public var outboxSeq: Int64?
        /// The person's uid (for a household delta, the 世帯番号).
        public var uid: String
        /// The delta id (an export row: `{subscription}:export:{file_seq}`).
        public var deltaID: String
        /// The view fields it discloses, comma-separated.
        public var fields: String
        /// The lsn of its cause (an export row: the view's lsn).
        public var lsn: Int64
        /// For a household delta, every person it names.
        public var members: [String]

        /// Creates a row.
        public init(outboxSeq: Int64?, uid: String, deltaID: String, fields: String, lsn: Int64, members: [String] = []) {
            self.outboxSeq = outboxSeq
            self.uid = uid
            self.deltaID = deltaID
            self.fields = fields
            self.lsn = lsn
            self.members = members
        }
    }

    /// The next file sequence number of `subscription` (1 for the first).
    public static func nextSequence(subscription: String, in db: Database) throws -> Int64 {
        try db.prepare("SELECT COALESCE(MAX(file_seq), 0) + 1 FROM file_cuts WHERE subscription = ?")
            .rows([.text(subscription)]) { $0.int64(0) }.first ?? 1
    }

    /// Records a synced temporary file as `writing`, with its rows, under the next sequence number
    /// (taken in the same transaction, so a delta file and an export never share one). Call before
    /// renaming it. A row with an empty `deltaID` (an export row) gets `{subscription}:export:{file_seq}`.
    /// - Parameter name: the published name for a sequence number.
    /// - Returns: the cut as recorded.
    public static func begin(
        subscription: String, temporary: String, kind: Kind, rows: [Row], at: String, name: (Int64) -> String,
        in db: Database
    ) throws -> Cut {
        try db.transaction {
            let fileSeq = try nextSequence(subscription: subscription, in: db)
            let cut = Cut(subscription: subscription, fileSeq: fileSeq, name: name(fileSeq), temporary: temporary, kind: kind, rows: rows.count)
            try db.prepare(
                "INSERT INTO file_cuts(subscription, file_seq, name, temporary, kind, state, rows, created_at) VALUES (?, ?, ?, ?, ?, 'writing', ?, ?)"
            ).run([
                .text(cut.subscription), .integer(cut.fileSeq), .text(cut.name), .text(cut.temporary), .text(cut.kind.rawValue),
                .integer(Int64(cut.rows)), .text(at),
            ])
            let insert = try db.prepare(
                "INSERT INTO file_cut_rows(subscription, file_seq, n, outbox_seq, uid, delta_id, fields, lsn, members) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            let exportID = "\(subscription):export:\(fileSeq)"
            for (n, row) in rows.enumerated() {
                try insert.run([
                    .text(cut.subscription), .integer(cut.fileSeq), .integer(Int64(n)), row.outboxSeq.map { .integer($0) } ?? .null,
                    .text(row.uid), .text(row.deltaID.isEmpty ? exportID : row.deltaID), .text(row.fields), .integer(row.lsn),
                    .text(row.members.joined(separator: ",")),
                ])
            }
            return cut
        }
    }

    /// The file is in its folder: marks its deltas delivered and writes a disclosure row for each
    /// row, naming the file, in one transaction.
    public static func publish(subscription: String, fileSeq: Int64, legalBasis: String?, at: String, in db: Database) throws {
        try db.transaction {
            guard let name = try db.prepare("SELECT name FROM file_cuts WHERE subscription = ? AND file_seq = ? AND state = 'writing'")
                .rows([.text(subscription), .integer(fileSeq)], { $0.string(0) }).first ?? nil
            else { return }
            let rows = try db.prepare(
                "SELECT outbox_seq, uid, delta_id, fields, lsn, members FROM file_cut_rows WHERE subscription = ? AND file_seq = ? ORDER BY n"
            ).rows([.text(subscription), .integer(fileSeq)]) { row in
                (row.isNull(0) ? nil : row.int64(0), row.string(1) ?? "", row.string(2) ?? "", row.string(3) ?? "", row.int64(4), row.string(5) ?? "")
            }
            let deliver = try db.prepare(
                "UPDATE outbox SET state = \(OutboxState.delivered.sql), attempts = attempts + 1, last_status = NULL, last_attempt_at = ?, delivered_at = ?, last_error = NULL WHERE seq = ? AND state = \(OutboxState.pending.sql)")
            let disclose = try db.prepare(
                "INSERT INTO disclosures(subscription, uid, delta_id, fields, lsn, legal_basis, delivered_at, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            let member = try db.prepare("INSERT OR IGNORE INTO disclosure_members(uid, disclosure_id) VALUES (?, ?)")
            for (seq, uid, deltaID, fields, lsn, members) in rows {
                if let seq { try deliver.run([.text(at), .text(at), .integer(seq)]) }
                try disclose.run([
                    .text(subscription), .text(uid), .text(deltaID), .text(fields), .integer(lsn), legalBasis.map { .text($0) } ?? .null,
                    .text(at), .text(name),
                ])
                if !members.isEmpty {
                    let id = db.lastInsertRowID
                    for uid in members.split(separator: ",") { try member.run([.text(String(uid)), .integer(id)]) }
                }
            }
            try db.prepare("DELETE FROM file_cut_rows WHERE subscription = ? AND file_seq = ?").run([.text(subscription), .integer(fileSeq)])
            try db.prepare("UPDATE file_cuts SET state = 'published', published_at = ? WHERE subscription = ? AND file_seq = ?")
                .run([.text(at), .text(subscription), .integer(fileSeq)])
        }
    }

    /// Forgets a `writing` cut whose file was never renamed into place: its deltas stay pending.
    public static func abandon(subscription: String, fileSeq: Int64, in db: Database) throws {
        try db.transaction {
            try db.prepare("DELETE FROM file_cut_rows WHERE subscription = ? AND file_seq = ?").run([.text(subscription), .integer(fileSeq)])
            try db.prepare("DELETE FROM file_cuts WHERE subscription = ? AND file_seq = ? AND state = 'writing'")
                .run([.text(subscription), .integer(fileSeq)])
        }
    }

    /// The cuts of `subscription` still `writing` (after a crash), oldest first.
    public static func unfinished(subscription: String, in db: Database) throws -> [Cut] {
        try db.prepare(
            "SELECT file_seq, name, temporary, kind, rows FROM file_cuts WHERE subscription = ? AND state = 'writing' ORDER BY file_seq"
        ).rows([.text(subscription)]) { row in
            Cut(
                subscription: subscription, fileSeq: row.int64(0), name: row.string(1) ?? "", temporary: row.string(2) ?? "",
                kind: Kind(rawValue: row.string(3) ?? "") ?? .deltas, rows: Int(row.int64(4)))
        }
    }

    /// The newest published file of `subscription`: its name and when (for `/v1/status`).
    public static func lastPublished(subscription: String, in db: Database) throws -> (name: String, at: String)? {
        try db.prepare(
            "SELECT name, published_at FROM file_cuts WHERE subscription = ? AND state = 'published' ORDER BY file_seq DESC LIMIT 1"
        ).rows([.text(subscription)]) { ($0.string(0) ?? "", $0.string(1) ?? "") }.first
    }

    /// The person views an export of a subscription covers — not retired by a merge, and linked to
    /// `linkedTo` when given — after `uid`, in uid order, at most `limit` (an export reads them page
    /// by page, so a city's million views are never in memory at once); each with whether the person
    /// is protected now.
    public static func exportViews(
        linkedTo: String?, after uid: String = "", limit: Int = 5000, in db: Database
    ) throws -> [(uid: String, view: [UInt8], isProtected: Bool)] {
        try db.prepare(
            """
            SELECT p.uid, p.view, json_extract(CAST(p.view AS TEXT), '$.protected') FROM persons p
            WHERE p.uid > ?2 AND json_extract(CAST(p.view AS TEXT), '$.merged_into') IS NULL
              AND (?1 IS NULL OR EXISTS (SELECT 1 FROM person_links l WHERE l.uid = p.uid AND l.source = ?1))
            ORDER BY p.uid LIMIT ?3
            """
        ).rows([linkedTo.map { .text($0) } ?? .null, .text(uid), .integer(Int64(limit))]) { row in
            (row.string(0) ?? "", row.blob(1) ?? [], !row.isNull(2) && row.int64(2) == 1)
        }
    }
}
