public import RenkeiCore
import RenkeiCrypto

/// The durable, hash-chained event log (contract §1): SQL over a ``Database`` the caller owns.
///
/// Table `events`, one row per event, `lsn` gap-free from 1. `body` holds the canonical bytes of the
/// envelope (`Event.contentBytes`); `hash` the 32-byte chain hash; `provenance` how the event came in
/// (``Provenance``, canonical JSON; NULL in rows from before issue 13), outside the body. Rows are append-only: triggers refuse
/// UPDATE and DELETE. Appending goes through ``LogWriter``, the single writer.
///
/// There is deliberately no index by subject: a batch touches many subjects, so such an index dirties
/// most of its pages at every commit (measured: 40% more WAL frames and ~2x the append time). Reads by
/// subject belong in the projection's own tables.
public enum EventLog {
    /// The table and its triggers, as migration 1 of ``StateSchema`` creates them (frozen text).
    static let schema = """
        CREATE TABLE IF NOT EXISTS events (
            lsn INTEGER PRIMARY KEY CHECK (lsn >= 1),
            source TEXT NOT NULL,
            event_id TEXT NOT NULL,
            type TEXT NOT NULL,
            subject TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            body BLOB NOT NULL,
            hash BLOB NOT NULL CHECK (length(hash) = 32),
            provenance BLOB,
            UNIQUE (source, event_id)
        );
        CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: rows cannot be updated'); END;
        CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: rows cannot be deleted'); END;
        """

    static let selectHead = "SELECT lsn, hash FROM events ORDER BY lsn DESC LIMIT 1"
    static let selectAfter = """
        SELECT lsn, recorded_at, hash, body FROM events WHERE lsn > ? ORDER BY lsn LIMIT ?
        """

    /// The last event's log sequence number and chain hash, or `(0, 32 zero bytes)` for an empty log.
    /// - Throws: ``StoreError``.
    public static func head(in db: Database) throws(StoreError) -> (lsn: Int64, hash: [UInt8]) {
        let statement = try db.prepare(selectHead)
        defer { statement.reset() }
        guard try statement.step() else { return (0, LogChain.genesis) }
        return (statement.int64(0), statement.blob(1) ?? [])
    }

    /// Up to `limit` events with a log sequence number greater than `lsn`, in log order.
    ///
    /// Each is rebuilt from its stored canonical body, so the envelope's members come back in sorted key
    /// order with their exact code points.
    /// - Throws: ``StoreError``; code `corruptLog` when a stored body is not a valid envelope.
    public static func read(in db: Database, after lsn: Int64, limit: Int) throws(StoreError) -> [LoggedEvent] {
        let statement = try db.prepare(selectAfter)
        defer { statement.reset() }
        try statement.bind([.integer(lsn), .integer(Int64(max(0, limit)))])
        var events: [LoggedEvent] = []
        while try statement.step() {
            let lsn = statement.int64(0)
            let event = try decode(body: statement.blob(3) ?? [], lsn: lsn)
            events.append(
                LoggedEvent(
                    lsn: lsn, recordedAt: statement.string(1) ?? "", hash: (statement.blob(2) ?? []).hexString,
                    event: event))
        }
        return events
    }

    /// The cause (`source`, `event_id`, `type`) of the event at `lsn`, read from its columns without
    /// parsing its body; `nil` when there is no such event.
    /// - Throws: ``StoreError``.
    public static func cause(in db: Database, lsn: Int64) throws(StoreError) -> DeltaCause? {
        let statement = try db.prepare("SELECT source, event_id, type FROM events WHERE lsn = ?")
        defer { statement.reset() }
        try statement.bind([.integer(lsn)])
        guard try statement.step() else { return nil }
        return DeltaCause(source: statement.string(0) ?? "", eventID: statement.string(1) ?? "", type: statement.string(2) ?? "")
    }

    /// Per source: how many events the log holds up to `lsn`, and the `recorded_at` of the newest.
    /// - Throws: ``StoreError``.
    public static func countsBySource(upTo lsn: Int64, in db: Database) throws -> [(source: String, events: Int64, lastRecordedAt: String?)] {
        try db.prepare("SELECT source, COUNT(*), MAX(recorded_at) FROM events WHERE lsn <= ? GROUP BY source")
            .rows([.integer(lsn)]) { row in (row.string(0) ?? "", row.int64(1), row.string(2)) }
    }

    /// One stored event's columns, its canonical body unparsed and its provenance, as
    /// ``rows(ofSources:in:_:)`` hands them over.
    public struct Row {
        /// The event's log sequence number.
        public var lsn: Int64
        /// The envelope's `source`, `event_id`, `type` and `subject` (the columns).
        public var source: String
        /// See ``source``.
        public var eventID: String
        /// See ``source``.
        public var type: String
        /// See ``source``.
        public var subject: String
        /// When it was logged (RFC 3339).
        public var recordedAt: String
        /// The canonical envelope bytes; read only when needed.
        public var body: () -> [UInt8]
        /// The stored ``Provenance`` JSON, `nil` for rows from before issue 13.
        public var provenance: [UInt8]?
    }

    /// Calls `body` with every event of `sources`, in lsn order (a pass over the log: there is no
    /// index by subject). Bodies are copied out only when `body` asks for them.
    /// - Throws: ``StoreError``, or what `body` throws.
    public static func rows(ofSources sources: [String], in db: Database, _ body: (Row) throws -> Void) throws {
        let placeholders = sources.map { _ in "?" }.joined(separator: ", ")
        let statement = try db.prepare(
            """
            SELECT lsn, source, event_id, type, subject, recorded_at, body, provenance FROM events
            WHERE source IN (\(placeholders)) ORDER BY lsn
            """)
        defer { statement.reset() }
        try statement.bind(sources.map { .text($0) })
        while try statement.step() {
            try body(
                Row(
                    lsn: statement.int64(0), source: statement.string(1) ?? "", eventID: statement.string(2) ?? "",
                    type: statement.string(3) ?? "", subject: statement.string(4) ?? "", recordedAt: statement.string(5) ?? "",
                    body: { statement.blob(6) ?? [] }, provenance: statement.blob(7)))
        }
    }

    /// Rebuilds an event from the canonical envelope bytes stored in `body`.
    static func decode(body: [UInt8], lsn: Int64) throws(StoreError) -> Event {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw StoreError(.corruptLog, "the event at lsn \(lsn) is not valid JSON (\(error)); run `renkeictl verify`")
        }
        guard let envelope = value.objectValue else {
            throw StoreError(.corruptLog, "the event at lsn \(lsn) is not a JSON object; run `renkeictl verify`")
        }
        do {
            return try Event(envelope: envelope)
        } catch {
            throw StoreError(.corruptLog, "the event at lsn \(lsn) is not a valid envelope (\(error)); run `renkeictl verify`")
        }
    }
}

extension Database {
    /// `BEGIN IMMEDIATE` … `COMMIT` around a typed-throwing body, joining the caller's transaction when
    /// one is already open.
    func inTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if isInsideTransaction { return try body() }
        try prepare("BEGIN IMMEDIATE").run([])
        do {
            let value = try body()
            try prepare("COMMIT").run([])
            return value
        } catch {
            rollbackIfNeeded()
            throw error
        }
    }
}
