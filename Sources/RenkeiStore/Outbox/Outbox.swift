public import RenkeiCore

/// The outbox, delivery bookkeeping and disclosure ledger: the SQL over their tables (which
/// ``StateSchema`` creates).
///
/// Rows are written on the writer connection (inside the projection's transaction, or through
/// `LogWriter.perform`); the delivery lanes read on the store's threads (``StoreExecutor``). Row
/// states are ``OutboxState``.
///
/// A delta's body lives in `outbox_bodies`, written once when the delta is planned, apart from its
/// `outbox` row, whose state every attempt's outcome rewrites: SQLite writes a whole row on UPDATE,
/// so a body in the row (about 600 bytes) was copied into the WAL again with every outcome.
public enum Outbox {
    /// One delta waiting to be sent.
    public struct Pending: Sendable {
        /// The row's seq (log order).
        public var seq: Int64
        /// The person's uid; for `household.changed`, the 世帯番号.
        public var uid: String
        /// The delta id (`webhook-id`), the same on every attempt.
        public var deltaID: String
        /// `person.changed`, `person.merged`, `household.changed`, …
        public var kind: String
        /// The body as planned (`outbox_bodies`).
        public var body: [UInt8]
        /// Attempts made so far.
        public var attempts: Int
        /// When the next attempt is due (ms since 1970).
        public var nextAttemptMs: Int64
        /// The disclosed field names, comma-separated.
        public var fields: String
        /// The lsn of the event that caused the delta.
        public var lsn: Int64

        /// Creates a row as ``Outbox/deltas(seqs:linkedTo:in:)`` reads it.
        public init(
            seq: Int64, uid: String, deltaID: String, kind: String, body: [UInt8], attempts: Int, nextAttemptMs: Int64,
            fields: String, lsn: Int64
        ) {
            self.seq = seq
            self.uid = uid
            self.deltaID = deltaID
            self.kind = kind
            self.body = body
            self.attempts = attempts
            self.nextAttemptMs = nextAttemptMs
            self.fields = fields
            self.lsn = lsn
        }
    }

    /// One outbox row as a lane's in-memory queue holds it (no body).
    public struct QueueRow: Sendable, Equatable {
        /// The row's seq (log order).
        public var seq: Int64
        /// The person's uid; for a household delta, the 世帯番号.
        public var uid: String
        /// Attempts made so far.
        public var attempts: Int
        /// When the next attempt is due (ms since 1970).
        public var nextAttemptMs: Int64
        /// Whether the row is ``OutboxState/dead``.
        public var isDead: Bool

        /// Creates a row.
        public init(seq: Int64, uid: String, attempts: Int, nextAttemptMs: Int64, isDead: Bool) {
            self.seq = seq
            self.uid = uid
            self.attempts = attempts
            self.nextAttemptMs = nextAttemptMs
            self.isDead = isDead
        }
    }

    /// Adds a planned delta to the outbox, its body to `outbox_bodies`; a delta id already there is
    /// left as it is. Call inside the transaction that plans it.
    public static func enqueue(_ delta: PlannedDelta, in db: Database, nowMs: Int64) throws {
        try db.prepare(
            """
            INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, fields, created_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(delta_id) DO NOTHING
            """
        ).run([
            .text(delta.subscription), .text(delta.uid), .text(delta.deltaID), .text(delta.kind),
            .integer(delta.version), .integer(delta.lsn), .text(delta.disclosedFields.joined(separator: ",")),
            .integer(nowMs),
        ])
        // sqlite3_changes is 0 when ON CONFLICT DO NOTHING skipped the row; otherwise the new row's
        // rowid is its seq (an INTEGER PRIMARY KEY is the rowid).
        guard db.changes == 1 else { return }
        try db.prepare("INSERT INTO outbox_bodies(seq, body) VALUES (?, ?)").run([
            .integer(db.lastInsertRowID), .blob(delta.body),
        ])
    }

    /// The first `limit` undelivered rows (`pending` and `dead`) of a subscription after `seq`, in log
    /// order, as the lane's in-memory queue holds them (no bodies). At start-up `after` is 0; later,
    /// the highest seq already read, so each read returns only new rows (the outbox gets them from
    /// the one writer in seq order).
    ///
    /// Each state is read as its own range of `outbox_by_state`, already in seq order, and only the
    /// `limit` lowest of the two are kept: `state IN (…) ORDER BY seq` would sort every undelivered
    /// row of the subscription on each read.
    public static func queueRows(subscription: String, after seq: Int64, limit: Int, in db: Database) throws -> [QueueRow] {
        try db.prepare(
            """
            SELECT seq, uid, attempts, next_attempt_ms, state FROM (
                SELECT * FROM (
                    SELECT seq, uid, attempts, next_attempt_ms, state FROM outbox
                    WHERE subscription = ?1 AND state = \(OutboxState.pending.sql) AND seq > ?2 ORDER BY seq LIMIT ?3)
                UNION ALL
                SELECT * FROM (
                    SELECT seq, uid, attempts, next_attempt_ms, state FROM outbox
                    WHERE subscription = ?1 AND state = \(OutboxState.dead.sql) AND seq > ?2 ORDER BY seq LIMIT ?3))
            ORDER BY seq LIMIT ?3
            """
        ).rows([.text(subscription), .integer(seq), .integer(Int64(limit))]) { row in
            QueueRow(
                seq: row.int64(0), uid: row.string(1) ?? "", attempts: Int(row.int64(2)),
                nextAttemptMs: row.int64(3), isDead: row.string(4) == OutboxState.dead.rawValue)
        }
    }

    /// The rows to send for `seqs` (one statement, one read transaction, whatever the count), each
    /// with its current state (`pending` unless the queue was behind the outbox) and, for a person
    /// delta, what is true of that person *now* (issue 13): whether the live person — the uid itself
    /// or, for a uid a merge retired, the one it was merged into — is protected, and whether it is
    /// linked to `linkedTo`. Household deltas come with default facts: their members are looked up
    /// with ``householdFacts(members:linkedTo:in:)``.
    /// - Throws: ``RenkeiError`` when a row has no body (the outbox is damaged: nothing is sent, and
    ///   the caller tries again later), or a ``StoreError``.
    public static func deltas(
        seqs: [Int64], linkedTo: String? = nil, in db: Database
    ) throws -> [(state: OutboxState?, pending: Pending, facts: SendTimePolicy.Facts)] {
        guard !seqs.isEmpty else { return [] }
        let list = "[" + seqs.map(String.init).joined(separator: ",") + "]"
        let rows = try db.prepare(
            """
            SELECT o.seq, o.uid, o.delta_id, b.body, o.attempts, o.next_attempt_ms, o.fields, o.lsn, o.kind, o.state,
                   json_extract(CAST(p.view AS TEXT), '$.protected'), json_extract(CAST(p.view AS TEXT), '$.merged_into'),
                   ?2 IS NULL OR EXISTS (SELECT 1 FROM person_links l WHERE l.uid = o.uid AND l.source = ?2)
            FROM json_each(?1) j JOIN outbox o ON o.seq = j.value
            LEFT JOIN outbox_bodies b ON b.seq = o.seq
            LEFT JOIN persons p ON p.uid = o.uid AND o.kind != '\(SendTimePolicy.householdKind)'
            """
        ).rows([.text(list), linkedTo.map { .text($0) } ?? .null]) { row in
            // Left-joined so that a missing body is an error rather than a row silently left out,
            // which the lane would take for a delta that is gone.
            guard !row.isNull(3) else {
                throw RenkeiError(
                    .database,
                    "outbox delta \(row.string(2) ?? "?") (seq \(row.int64(0))) has no body in outbox_bodies; the database is damaged: restore it from a backup")
            }
            let pending = Pending(
                seq: row.int64(0), uid: row.string(1) ?? "", deltaID: row.string(2) ?? "",
                kind: row.string(8) ?? "", body: row.blob(3) ?? [], attempts: Int(row.int64(4)),
                nextAttemptMs: row.int64(5), fields: row.string(6) ?? "", lsn: row.int64(7))
            let facts = SendTimePolicy.Facts(
                isProtected: !row.isNull(10) && row.int64(10) == 1, inScope: row.int64(12) == 1)
            return (row.string(9).flatMap(OutboxState.init(rawValue:)), pending, facts, row.string(11))
        }
        return try rows.map { state, pending, facts, mergedInto in
            // A retired uid's view is {uid, merged_into}: the person it stands for now is the survivor.
            guard let mergedInto else { return (state, pending, facts) }
            let live = try liveFacts(uid: mergedInto, linkedTo: linkedTo, in: db)
            return (state, pending, SendTimePolicy.Facts(isProtected: live.isProtected, inScope: live.inScope))
        }
    }

    /// Whether the person `uid` stands for now is protected and linked to `linkedTo` (true without
    /// one), following `merged_into` from view to view. A uid with no view (not yet projected) is
    /// neither protected nor linked.
    public static func liveFacts(uid: String, linkedTo: String?, in db: Database) throws -> (isProtected: Bool, inScope: Bool) {
        var current = uid
        var seen = Set<String>()
        while seen.insert(current).inserted {
            let row = try db.prepare(
                """
                SELECT json_extract(CAST(view AS TEXT), '$.protected'), json_extract(CAST(view AS TEXT), '$.merged_into')
                FROM persons WHERE uid = ?
                """
            ).rows([.text(current)]) { ($0.isNull(0) ? 0 : $0.int64(0), $0.string(1)) }.first
            guard let row else { return (false, linkedTo == nil) }
            if let next = row.1 {
                current = next
                continue
            }
            let inScope = try linkedTo.map { source in
                try !db.prepare("SELECT 1 FROM person_links WHERE uid = ? AND source = ? LIMIT 1")
                    .rows([.text(current), .text(source)]) { _ in true }.isEmpty
            } ?? true
            return (row.0 == 1, inScope)
        }
        // A merged_into loop cannot be written by the projection; treat it as the strictest case.
        return (true, false)
    }

    /// For a `household.changed` delta: which of the members it names are protected now, and which
    /// are out of `linkedTo` scope now (following merges, as ``liveFacts(uid:linkedTo:in:)``).
    public static func householdFacts(members: [String], linkedTo: String?, in db: Database) throws -> SendTimePolicy.Facts {
        var facts = SendTimePolicy.Facts()
        for member in members {
            let live = try liveFacts(uid: member, linkedTo: linkedTo, in: db)
            if live.isProtected { facts.protectedMembers.insert(member) }
            if !live.inScope { facts.outOfScopeMembers.insert(member) }
        }
        return facts
    }

    /// Marks a delta delivered and records the disclosure (`fields`: what the sent body's `view` held;
    /// `members`: for a household delta, every person the sent body names, each of whom then finds
    /// the row under their own uid).
    public static func markDelivered(
        _ pending: Pending, subscription: String, legalBasis: String?, status: Int, at: String, fields: String,
        members: [String] = [], in db: Database
    ) throws {
        try db.prepare(
            "UPDATE outbox SET state = \(OutboxState.delivered.sql), attempts = attempts + 1, last_status = ?, last_attempt_at = ?, delivered_at = ?, last_error = NULL WHERE seq = ?"
        ).run([.integer(Int64(status)), .text(at), .text(at), .integer(pending.seq)])
        try db.prepare(
            "INSERT INTO disclosures(subscription, uid, delta_id, fields, lsn, legal_basis, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).run([
            .text(subscription), .text(pending.uid), .text(pending.deltaID), .text(fields), .integer(pending.lsn),
            legalBasis.map { .text($0) } ?? .null, .text(at),
        ])
        guard !members.isEmpty else { return }
        let disclosure = db.lastInsertRowID
        let insert = try db.prepare("INSERT OR IGNORE INTO disclosure_members(uid, disclosure_id) VALUES (?, ?)")
        for member in members { try insert.run([.text(member), .integer(disclosure)]) }
    }

    /// Marks a delta that the policy in force at send time does not let leave as `skipped`, with the
    /// reason: never sent, never in the disclosure ledger; the uid's later deltas then flow.
    public static func markSkipped(seq: Int64, reason: String, at: String, in db: Database) throws {
        try db.prepare(
            "UPDATE outbox SET state = \(OutboxState.skipped.sql), skip_reason = ?, next_attempt_ms = 0, last_attempt_at = COALESCE(last_attempt_at, ?) WHERE seq = ? AND state = \(OutboxState.pending.sql)"
        ).run([.text(reason), .text(at), .integer(seq)])
    }

    /// Records a failed attempt: `dead` dead-letters the delta, otherwise it stays pending until `nextAttemptMs`.
    public static func markFailed(
        seq: Int64, dead: Bool, status: Int?, error: String, excerpt: String?, nextAttemptMs: Int64, at: String,
        in db: Database
    ) throws {
        try db.prepare(
            """
            UPDATE outbox SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, response_excerpt = ?,
                next_attempt_ms = ?, last_attempt_at = ? WHERE seq = ?
            """
        ).run([
            .text((dead ? OutboxState.dead : .pending).rawValue), status.map { .integer(Int64($0)) } ?? .null, .text(error),
            excerpt.map { .text($0) } ?? .null, .integer(nextAttemptMs), .text(at), .integer(seq),
        ])
    }

    /// Counts for `/v1/status`.
    public struct Counts: Sendable {
        /// Not delivered yet: pending and dead.
        public var backlog: Int64 = 0
        /// Dead letters.
        public var dead: Int64 = 0
        /// Delivered.
        public var delivered: Int64 = 0
        /// Skipped (never sent).
        public var skipped: Int64 = 0
        /// Shadowed: recorded by a shadow subscription, never sent (issue 17).
        public var shadowed: Int64 = 0
        /// `created_ms` of the oldest undelivered delta, if any.
        public var oldestUndeliveredMs: Int64?
        /// The newest stored error, scrubbed of personal numbers.
        public var lastError: String?

        /// Zero counts.
        public init() {}
    }

    /// The counts of one subscription, from `outbox_counts` (no count over the outbox); the oldest
    /// undelivered delta is the first `pending` or `dead` row in seq order (`outbox_by_state`), and the
    /// last error the newest row that has one (`outbox_errors`).
    public static func counts(subscription: String, in db: Database) throws -> Counts {
        var counts = Counts()
        for (state, n) in try db.prepare("SELECT state, n FROM outbox_counts WHERE subscription = ?")
            .rows([.text(subscription)], { ($0.string(0) ?? "", $0.int64(1)) })
        {
            switch OutboxState(rawValue: state) {
            case .pending: counts.backlog += n
            case .dead:
                counts.backlog += n
                counts.dead = n
            case .delivered: counts.delivered = n
            case .skipped: counts.skipped = n
            case .shadowed: counts.shadowed = n
            case nil: break
            }
        }
        let oldest = try db.prepare(
            """
            SELECT MIN(created_ms) FROM (
                SELECT created_ms FROM (SELECT created_ms FROM outbox WHERE subscription = ?1 AND state = \(OutboxState.pending.sql) ORDER BY seq LIMIT 1)
                UNION ALL
                SELECT created_ms FROM (SELECT created_ms FROM outbox WHERE subscription = ?1 AND state = \(OutboxState.dead.sql) ORDER BY seq LIMIT 1))
            """
        ).rows([.text(subscription)]) { $0.isNull(0) ? nil : $0.int64(0) }.first
        counts.oldestUndeliveredMs = oldest ?? nil
        counts.lastError = try db.prepare(
            "SELECT last_error FROM outbox WHERE subscription = ? AND last_error IS NOT NULL ORDER BY last_attempt_at DESC LIMIT 1"
        ).rows([.text(subscription)]) { $0.string(0).map(PersonalNumberScrubber.scrub) }.first ?? nil
        return counts
    }

    /// The dead letters (of one subscription, or all), oldest first, as `GET /v1/dead-letters` lists them.
    public static func deadLetters(subscription: String?, in db: Database) throws -> [JSONValue] {
        try letters(state: .dead, subscription: subscription, in: db)
    }

    /// Undelivered deltas in one terminal state (`dead` or `skipped`), oldest first, as
    /// `GET /v1/dead-letters` lists them.
    public static func letters(state: OutboxState, subscription: String?, in db: Database) throws -> [JSONValue] {
        let sql = """
            SELECT seq, subscription, delta_id, uid, last_status, last_error, attempts, last_attempt_at, response_excerpt,
                   skip_reason
            FROM outbox WHERE state = ?2 AND (?1 IS NULL OR subscription = ?1) ORDER BY seq
            """
        return try db.prepare(sql).rows([subscription.map { .text($0) } ?? .null, .text(state.rawValue)]) { row in
            .object([
                "id": .string(String(row.int64(0))),
                "subscription": .string(row.string(1) ?? ""),
                "delta_id": .string(row.string(2) ?? ""),
                "uid": .string(row.string(3) ?? ""),
                "status": row.isNull(4) ? .null : .integer(row.int64(4)),
                // Scrubbed again when shown: rows stored before issue 13 were kept as received.
                "error": row.string(5).map { .string(PersonalNumberScrubber.scrub($0)) } ?? .null,
                "attempts": .integer(row.int64(6)),
                "last_attempt_at": row.string(7).map { .string($0) } ?? .null,
                "response_excerpt": row.string(8).map { .string(PersonalNumberScrubber.scrub($0)) } ?? .null,
                "state": .string(state.rawValue),
                "reason": row.string(9).map { .string($0) } ?? .null,
            ])
        }
    }

    /// The disclosure ledger for `uid` (`GET /v1/disclosures?uid=`), oldest first: the deltas keyed
    /// by it (a person's own deltas; given a 世帯番号, that household's deltas), and the
    /// `household.changed` deltas whose sent body named it as a member. Every entry has `kind`;
    /// household entries also have `household_no`, and when found through membership their `uid` is
    /// the person asked about.
    public static func disclosures(uid: String, in db: Database) throws -> [JSONValue] {
        try db.prepare(
            """
            SELECT d.id, d.subscription, d.uid, d.delta_id, d.fields, d.lsn, d.legal_basis, d.delivered_at, o.kind, 0
            FROM disclosures d LEFT JOIN outbox o ON o.delta_id = d.delta_id
            WHERE d.uid = ?1
            UNION ALL
            SELECT d.id, d.subscription, d.uid, d.delta_id, d.fields, d.lsn, d.legal_basis, d.delivered_at, o.kind, 1
            FROM disclosure_members m JOIN disclosures d ON d.id = m.disclosure_id
            LEFT JOIN outbox o ON o.delta_id = d.delta_id
            WHERE m.uid = ?1
            ORDER BY 1
            """
        ).rows([.text(uid)]) { row in
            let kind = row.string(8)
            let asMember = row.int64(9) == 1
            var entry: JSONObject = [
                "subscription": .string(row.string(1) ?? ""),
                "uid": .string(asMember ? uid : row.string(2) ?? ""),
                "delta_id": .string(row.string(3) ?? ""),
                "fields": .array((row.string(4) ?? "").split(separator: ",").map { .string(String($0)) }),
                "lsn": .integer(row.int64(5)),
                "legal_basis": row.string(6).map { .string($0) } ?? .null,
                "time": .string(row.string(7) ?? ""),
                "kind": kind.map { .string($0) } ?? .null,
            ]
            if kind == SendTimePolicy.householdKind { entry["household_no"] = .string(row.string(2) ?? "") }
            return .object(entry)
        }
    }

    /// Stores whether `subscription` is paused (kept across restarts).
    public static func setPaused(_ paused: Bool, subscription: String, in db: Database) throws {
        try db.prepare(
            "INSERT INTO subscription_control(subscription, paused) VALUES (?, ?) ON CONFLICT(subscription) DO UPDATE SET paused = excluded.paused"
        ).run([.text(subscription), .integer(paused ? 1 : 0)])
    }

    /// The subscriptions stored as paused.
    public static func pausedSubscriptions(in db: Database) throws -> Set<String> {
        Set(try db.prepare("SELECT subscription FROM subscription_control WHERE paused = 1").rows([]) { $0.string(0) ?? "" })
    }
}
