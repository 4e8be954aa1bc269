import RenkeiCore

extension EventLog {
    static let selectAll = """
        SELECT lsn, source, event_id, type, subject, recorded_at, body, hash, provenance FROM events ORDER BY lsn
        """

    /// How often ``verify(in:progress:)`` reports progress, in events.
    static let progressInterval: Int64 = 10_000

    /// Walks the whole log in lsn order, streaming in constant memory, and checks that lsns run
    /// gap-free from 1, every body is a canonical envelope matching its row, and every hash recomputes
    /// (over the record with its provenance, when the row has one).
    ///
    /// It stops at the first bad event. On the writer's connection it holds up appends while it runs; a
    /// separate read-only ``Database`` on the same file can verify alongside the writer (WAL readers do
    /// not block it).
    /// - Parameters:
    ///   - db: The connection to read through.
    ///   - progress: Called with the lsn reached every 10,000 events and at the end.
    /// - Returns: The report: `ok` with the count, or the first bad lsn and why.
    /// - Throws: ``StoreError`` when the database itself cannot be read.
    public static func verify(in db: Database, progress: ((Int64) -> Void)? = nil) throws(StoreError) -> VerifyReport {
        let statement = try db.prepare(selectAll)
        defer { statement.reset() }
        try statement.bind([])
        var previous = Head(lsn: 0, hash: LogChain.genesis)
        var checked: Int64 = 0
        while try statement.step() {
            let lsn = statement.int64(0)
            func bad(_ lsn: Int64, _ why: String) -> VerifyReport {
                VerifyReport(ok: false, checked: checked, firstBadLSN: lsn, error: why)
            }
            guard lsn == previous.lsn + 1 else {
                return bad(previous.lsn + 1, "lsn gap after \(previous.lsn): the next row is lsn \(lsn)")
            }
            let body = statement.blob(6) ?? []
            let value: JSONValue
            do {
                value = try JSONParser.parse(body)
            } catch {
                return bad(lsn, "body is not valid JSON (\(error))")
            }
            guard let envelope = value.objectValue else { return bad(lsn, "body is not a JSON object") }
            guard value.canonicalBytes == body else { return bad(lsn, "body is not in canonical form") }
            guard let event = try? Event(envelope: envelope) else { return bad(lsn, "body is not a valid envelope") }
            let columns: [(String, String, String?)] = [
                ("source", event.source, statement.string(1)), ("event_id", event.eventID, statement.string(2)),
                ("type", event.type, statement.string(3)), ("subject", event.subject, statement.string(4)),
            ]
            for (name, inBody, inColumn) in columns where !(inColumn?.utf8.elementsEqual(inBody.utf8) ?? false) {
                return bad(lsn, "column \(name) does not match the body")
            }
            guard let recordedAt = statement.string(5) else { return bad(lsn, "recorded_at is missing") }
            // Issue 13: a stored provenance is part of the hashed record; a row without one (older
            // than provenance) hashes as it always did.
            var provenance: JSONValue?
            if let bytes = statement.blob(8) {
                guard let value = try? JSONParser.parse(bytes), value.objectValue != nil, value.canonicalBytes == bytes else {
                    return bad(lsn, "provenance is not a canonical JSON object")
                }
                provenance = value
            }
            let hash = LogChain.hash(
                previous: previous.hash,
                record: LogChain.recordBytes(envelope: envelope, lsn: lsn, recordedAt: recordedAt, provenance: provenance))
            guard statement.blob(7) == hash else { return bad(lsn, "hash mismatch") }
            previous = Head(lsn: lsn, hash: hash)
            checked += 1
            if checked % progressInterval == 0 { progress?(lsn) }
        }
        progress?(previous.lsn)
        return VerifyReport(ok: true, checked: checked)
    }
}
