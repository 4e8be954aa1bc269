public import RenkeiCore

// MARK: - Shadow subscriptions (issue 17)

extension Outbox {
    /// `subscription_modes`: the mode (`live` / `shadow`) each subscription last started with, so a
    /// start can tell that one went from shadow to live (migration 4).
    static let modesSchema = """
        CREATE TABLE IF NOT EXISTS subscription_modes(subscription TEXT PRIMARY KEY, mode TEXT NOT NULL) WITHOUT ROWID;
        """

    /// Records a shadow subscription's delta as planned, filtered and recorded, but not sent: the
    /// row becomes ``OutboxState/shadowed``. Nothing enters the disclosure ledger.
    public static func markShadowed(seq: Int64, at: String, in db: Database) throws {
        try db.prepare(
            """
            UPDATE outbox SET state = \(OutboxState.shadowed.sql), next_attempt_ms = 0, last_attempt_at = ?, delivered_at = NULL,
                last_error = NULL WHERE seq = ? AND state = \(OutboxState.pending.sql)
            """
        ).run([.text(at), .integer(seq)])
    }

    /// Stores the modes the subscriptions start with now, and settles a switch from shadow to live:
    /// the deltas such a subscription planned while in shadow and had not shadowed yet (still
    /// `pending`, e.g. while it was paused) become `shadowed` too, so a switch sends nothing
    /// retroactively. Call before the new lanes read the outbox and before anything new is planned.
    /// - Parameter modes: each configured subscription's mode (`live` or `shadow`).
    /// - Returns: per subscription that went from shadow to live, how many pending deltas it kept back.
    @discardableResult
    public static func applyModes(_ modes: [String: String], in db: Database) throws -> [String: Int] {
        var settled: [String: Int] = [:]
        try db.transaction {
            let stored = Dictionary(
                try db.prepare("SELECT subscription, mode FROM subscription_modes").rows([]) { ($0.string(0) ?? "", $0.string(1) ?? "") },
                uniquingKeysWith: { a, _ in a })
            for (name, mode) in modes.sorted(by: { $0.key < $1.key }) {
                if mode == "live", stored[name] == "shadow" {
                    try db.prepare(
                        "UPDATE outbox SET state = \(OutboxState.shadowed.sql), next_attempt_ms = 0 WHERE subscription = ? AND state = \(OutboxState.pending.sql)"
                    ).run([.text(name)])
                    settled[name] = db.changes
                }
                guard stored[name] != mode else { continue }
                try db.prepare(
                    "INSERT INTO subscription_modes(subscription, mode) VALUES (?, ?) ON CONFLICT(subscription) DO UPDATE SET mode = excluded.mode"
                ).run([.text(name), .text(mode)])
            }
        }
        return settled
    }

    /// Queues again, as new attempts, every delta of a live `subscription` with `lsn >= fromLSN` that
    /// was shadowed (planned while it ran in shadow, never sent): `--from-lsn` after a switch to live.
    /// - Returns: the rows queued again.
    public static func replayShadowed(subscription: String, fromLSN: Int64, in db: Database) throws -> [Changed] {
        try db.prepare(
            """
            UPDATE outbox SET state = \(OutboxState.pending.sql), attempts = 0, next_attempt_ms = 0, last_error = NULL
            WHERE subscription = ? AND lsn >= ? AND state = \(OutboxState.shadowed.sql)
            RETURNING subscription, seq, uid
            """
        ).rows([.text(subscription), .integer(fromLSN)]) { row in
            Changed(
                subscription: row.string(0) ?? "",
                row: QueueRow(seq: row.int64(1), uid: row.string(2) ?? "", attempts: 0, nextAttemptMs: 0, isDead: false))
        }
    }

    /// The seq of the newest delta per person that `subscription` holds (`shadowed`, or `delivered`),
    /// household deltas aside, in uid order: what a receiver of the subscription would hold now. A uid
    /// a merge retired is left out (the person it was merged into stands for it, with its links).
    public static func heldSeqs(subscription: String, in db: Database) throws -> [Int64] {
        try db.prepare(
            """
            SELECT MAX(o.seq) FROM outbox o
            WHERE o.subscription = ? AND o.state IN (\(OutboxState.shadowed.sql), \(OutboxState.delivered.sql))
              AND o.kind != '\(SendTimePolicy.householdKind)'
              AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.uid = o.uid
                              AND json_extract(CAST(p.view AS TEXT), '$.merged_into') IS NOT NULL)
            GROUP BY o.uid ORDER BY o.uid
            """
        ).rows([.text(subscription)]) { $0.int64(0) }
    }

    /// Every person's subjects in `source` (`person_links`), by uid.
    public static func subjects(source: String, in db: Database) throws -> [String: [String]] {
        var subjects: [String: [String]] = [:]
        for (uid, subject) in try db.prepare("SELECT uid, subject FROM person_links WHERE source = ? ORDER BY subject")
            .rows([.text(source)], { ($0.string(0) ?? "", $0.string(1) ?? "") })
        {
            subjects[uid, default: []].append(subject)
        }
        return subjects
    }
}
