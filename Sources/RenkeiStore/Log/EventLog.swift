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
