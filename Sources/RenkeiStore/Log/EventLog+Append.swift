import RenkeiCore
import RenkeiCrypto

extension EventLog {
    /// The last appended event: where the next one chains on.
    struct Head: Sendable, Hashable {
        var lsn: Int64
        var hash: [UInt8]
    }

    static let selectByKey = "SELECT lsn, body FROM events WHERE source = ? AND event_id = ?"
    static let insertEvent = """
        INSERT INTO events (lsn, source, event_id, type, subject, recorded_at, body, hash, provenance)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Appends `events` inside the transaction the caller has open, chaining on `head` and advancing it.
    ///
    /// Duplicate detection compares canonical BYTES (never `String ==`, which would equate a CJK
    /// compatibility ideograph with its unified form) and sees rows written earlier in the same
    /// transaction, so it holds within a batch and across batches gathered into one commit.
    /// - Parameters:
    ///   - provenance: how the events came in, stored beside each appended one and covered by its hash;
    ///     a duplicate keeps the provenance of its first arrival.
    ///   - appended: Receives the newly written events, as ``read(in:after:limit:)`` would return them.
    /// - Returns: One outcome per input event, in input order.
    /// - Throws: ``StoreError``; the caller must roll back what this call wrote.
    static func append(
        _ events: [Event], recordedAt: String, provenance: Provenance? = nil, head: inout Head, in db: Database,
        appended: inout [LoggedEvent]
    ) throws(StoreError) -> [AppendOutcome] {
        let provenanceJSON = provenance?.json
        let provenanceValue: DatabaseValue = provenanceJSON.map { .blob($0.canonicalBytes) } ?? .null
        let lookup = try db.prepare(selectByKey)
        let insert = try db.prepare(insertEvent)
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(events.count)
        for event in events {
            let canonical = CanonicalEnvelope(event.envelope)
            let body = canonical.body
            try lookup.bind([.text(event.source), .text(event.eventID)])
            if try lookup.step() {
                let existingLSN = lookup.int64(0)
                let existingBody = lookup.blob(1) ?? []
                lookup.reset()
                outcomes.append(existingBody == body ? .duplicate(lsn: existingLSN) : .conflict(existingLSN: existingLSN))
                continue
            }
            // Hand on what reading back will yield (the canonical form), and refuse an Event whose typed
            // fields disagree with its envelope: the columns and the body must tell the same story.
            let lsn = head.lsn + 1
            guard let envelope = JSONValue.object(event.envelope).canonicalForm.objectValue,
                let stored = try? Event(envelope: envelope),
                stored.source.utf8.elementsEqual(event.source.utf8),
                stored.eventID.utf8.elementsEqual(event.eventID.utf8),
                stored.type.utf8.elementsEqual(event.type.utf8),
                stored.subject.utf8.elementsEqual(event.subject.utf8)
            else {
                throw StoreError(
                    .invalidArgument,
                    "an event's source, event_id, type or subject differ from its envelope (bug in Renkei)")
            }
            let hash = LogChain.hash(
                previous: head.hash, record: canonical.record(lsn: lsn, recordedAt: recordedAt, provenance: provenanceJSON))
            try insert.run([
                .integer(lsn), .text(stored.source), .text(stored.eventID), .text(stored.type), .text(stored.subject),
                .text(recordedAt), .blob(body), .blob(hash), provenanceValue,
            ])
            head = Head(lsn: lsn, hash: hash)
            appended.append(LoggedEvent(lsn: lsn, recordedAt: recordedAt, hash: hash.hexString, event: stored))
            outcomes.append(.appended(lsn: lsn))
        }
        return outcomes
    }
}
