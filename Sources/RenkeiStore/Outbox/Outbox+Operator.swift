public import RenkeiCore

// MARK: - Operator actions on the outbox (status socket, writer connection)

extension Outbox {
    /// A row an operator action changed, for the lane's in-memory queue.
    public struct Changed: Sendable {
        /// The subscription whose lane holds it.
        public var subscription: String
        /// The row as the lane's queue takes it back.
        public var row: QueueRow
    }

    /// Puts a dead-lettered delta back in line as a fresh delivery (attempts from zero); the deltas
    /// of its uid that waited behind it follow once it is delivered.
    /// - Returns: the row as it is now, or `nil` if there is no dead letter with that id.
    public static func retryDeadLetter(id: Int64, in db: Database) throws -> Changed? {
        try db.prepare(
            """
            UPDATE outbox SET state = \(OutboxState.pending.sql), attempts = 0, next_attempt_ms = 0 WHERE seq = ? AND state = \(OutboxState.dead.sql)
            RETURNING subscription, seq, uid
            """
        ).rows([.integer(id)], changed).first
    }

    /// Gives up on a dead-lettered delta: it is kept as `skipped` (never sent again, never in the
    /// disclosure ledger) and the later deltas of its uid flow. Their `prev_version` still names the
    /// last delta *planned*, so the receiver sees the gap the skip left.
    /// - Returns: the row (its queue fields as they were), or `nil` if there is no dead letter with that id.
    public static func skipDeadLetter(id: Int64, at: String, in db: Database) throws -> Changed? {
        try db.prepare(
            """
            UPDATE outbox SET state = \(OutboxState.skipped.sql), next_attempt_ms = 0, delivered_at = NULL,
                skip_reason = 'skipped by an operator (POST /v1/dead-letters/{id}/skip)',
                last_attempt_at = COALESCE(last_attempt_at, ?) WHERE seq = ? AND state = \(OutboxState.dead.sql)
            RETURNING subscription, seq, uid
            """
        ).rows([.text(at), .integer(id)], changed).first
    }

    /// Queues again, as new attempts with the same delta ids and bodies, every delta of
    /// `subscription` with `lsn >= fromLSN` that was delivered. They keep their place in the outbox
    /// (log order), so per uid they go out in version order, ahead of anything still pending.
    /// Pending, dead-lettered and skipped deltas are left as they are.
    /// - Returns: the rows queued again.
    public static func replay(subscription: String, fromLSN: Int64, in db: Database) throws -> [Changed] {
        try db.prepare(
            """
            UPDATE outbox SET state = \(OutboxState.pending.sql), attempts = 0, next_attempt_ms = 0, last_error = NULL
            WHERE subscription = ? AND lsn >= ? AND state = \(OutboxState.delivered.sql)
            RETURNING subscription, seq, uid
            """
        ).rows([.text(subscription), .integer(fromLSN)], changed)
    }

    /// A row as UPDATE … RETURNING subscription, seq, uid gives it, back in line (attempts zero, due now).
    private static func changed(_ row: Statement) -> Changed {
        Changed(
            subscription: row.string(0) ?? "",
            row: QueueRow(seq: row.int64(1), uid: row.string(2) ?? "", attempts: 0, nextAttemptMs: 0, isDead: false))
    }

    /// The skipped deltas (for `GET /v1/dead-letters?state=skipped`).
    public static func skipped(subscription: String?, in db: Database) throws -> [JSONValue] {
        try letters(state: .skipped, subscription: subscription, in: db)
    }

    /// The state of one delta (`pending`, `delivered`, `dead`, `skipped`), or `nil` if none has that id.
    public static func state(deltaID: String, in db: Database) throws -> OutboxState? {
        try db.prepare("SELECT state FROM outbox WHERE delta_id = ?").rows([.text(deltaID)]) {
            $0.string(0).flatMap(OutboxState.init(rawValue:))
        }.first ?? nil
    }
}
