import RenkeiCore
import RenkeiStore

/// A person's events with their provenance, for `GET /v1/persons/{uid}/history` (contract §7, issue 13).
///
/// The events are those of every (source, subject) record the person holds now — records merged into
/// the person included, since a merge moves them to the uid that stays — and the operator events that
/// name the person's uid or one of those records, in lsn order. Only metadata is listed (`lsn`,
/// `recorded_at`, `source`, `event_id`, `type`, `subject`, `occurred_at`, `provenance`), never `data`:
/// so no `my_number` and, for a protected person, no address, postal code or household number can
/// leave through it, and the listing is the same for every person.
///
/// It reads the log's events of the person's sources and filters them by subject: there is no index
/// by subject (see ``EventLog``), so a history costs a pass over the log.
enum PersonHistory {
    /// The entries, or `nil` for an unknown uid. A retired uid (merged into another) answers for the
    /// person it stands for now; `uid` is that live uid.
    static func events(of asked: String, in db: Database) throws -> (uid: String, events: [JSONValue])? {
        let lookup = DecisionLookup(db: db)
        guard let uid = try lookup.live(asked), let person = try lookup.record(uid) else { return nil }
        let records = Set(person.records.map { Key(source: $0.link.source, subject: $0.link.subject) })
        let sources = Set(records.map(\.source)).union([EventValidatorOperator.source]).sorted()
        var entries: [JSONValue] = []
        try EventLog.rows(ofSources: sources, in: db) { row in
            let isOperator = row.source == EventValidatorOperator.source
            // Columns first: only the bodies of the person's events (and operator events) are parsed.
            guard isOperator || records.contains(Key(source: row.source, subject: row.subject)) else { return }
            let envelope = (try? JSONParser.parse(row.body()))?.objectValue ?? [:]
            if isOperator {
                // operator.linked / unlinked {uid, source, subject}: the person's if it names them or one of their records.
                let data = envelope["data"]?.objectValue ?? [:]
                let named = data["uid"]?.stringValue.map { $0 == uid || $0 == asked } ?? false
                let record = Key(source: data["source"]?.stringValue ?? "", subject: data["subject"]?.stringValue ?? "")
                guard named || records.contains(record) else { return }
            }
            let provenance = row.provenance.flatMap { try? JSONParser.parse($0) } ?? .null
            entries.append([
                "lsn": .integer(row.lsn), "recorded_at": .string(row.recordedAt),
                "source": .string(row.source), "event_id": .string(row.eventID),
                "type": .string(row.type), "subject": .string(row.subject),
                "occurred_at": envelope["occurred_at"] ?? .null, "provenance": provenance,
            ])
        }
        return (uid, entries)
    }

    private struct Key: Hashable {
        var source: String
        var subject: String
    }
}
