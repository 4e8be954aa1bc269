/// One row of a full file (snapshot), mapped: its key, subject, registration event and a digest per
/// top-level `data` field.
public struct SnapshotRow: Sendable, Hashable {
    /// The snapshot key (the key columns' values joined with U+001F).
    public var key: String
    /// The row's 1-based line.
    public var line: Int
    /// The event's subject.
    public var subject: String
    /// The registration event the row maps to (with the mapping's event id).
    public var registration: JSONValue
    /// Each top-level `data` field's digest.
    public var fields: [String: String]
    /// A digest of the row's bytes and the mapping: a row whose digest is the stored one is unchanged
    /// and is not mapped again (empty when not known).
    public var rowDigest: String

    /// Creates a row.
    public init(key: String, line: Int, subject: String, registration: JSONValue, fields: [String: String], rowDigest: String = "") {
        self.key = key
        self.line = line
        self.subject = subject
        self.registration = registration
        self.fields = fields
        self.rowDigest = rowDigest
    }
}

/// What the database keeps per key of a snapshot source: the subject and a digest per field, never
/// the values themselves.
public struct SnapshotEntry: Sendable, Hashable {
    /// The subject the key's events carry.
    public var subject: String
    /// Each top-level `data` field's digest.
    public var fields: [String: String]
    /// The digest of the row's bytes and the mapping it was read with (see ``SnapshotRow/rowDigest``).
    public var rowDigest: String

    /// Creates an entry.
    public init(subject: String, fields: [String: String], rowDigest: String = "") {
        self.subject = subject
        self.fields = fields
        self.rowDigest = rowDigest
    }

    /// The stored form: a canonical JSON object {field: digest}.
    public var fieldsText: String {
        JSONValue.object(JSONObject(fields.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) })).canonicalString
    }

    /// Reads the stored form back (an unreadable one counts as no fields, so the row shows as changed).
    public static func fields(fromText text: String) -> [String: String] {
        guard let object = (try? JSONParser.parse(text))?.objectValue else { return [:] }
        var fields: [String: String] = [:]
        for member in object { if let digest = member.value.stringValue { fields[member.key] = digest } }
        return fields
    }
}

/// A full file compared with the source's last accepted snapshot (issue 16): only the differences.
public struct SnapshotDiff: Sendable {
    /// A changed key: its row and the fields whose digest differs.
    public struct Change: Sendable, Hashable {
        /// The new row.
        public var row: SnapshotRow
        /// The changed top-level `data` fields, sorted.
        public var fields: [String]
    }

    /// Rows in the file.
    public var rows: Int
    /// Keys not in the previous snapshot.
    public var added: [SnapshotRow]
    /// Keys whose fields changed.
    public var changed: [Change]
    /// Keys whose fields are the same but whose row bytes differ (a column no event carries): their
    /// stored row digest is refreshed, nothing is sent.
    public var refreshed: [SnapshotRow]
    /// Keys of the previous snapshot missing from the file, with what was kept of them.
    public var removed: [(key: String, entry: SnapshotEntry)]
    /// Keys in the previous snapshot.
    public var previousCount: Int

    /// Compares.
    /// - Parameters:
    ///   - rows: the file's mapped rows (keys unique).
    ///   - previous: the last accepted snapshot, by key.
    ///   - keeping: keys whose row was in the file but refused, or unchanged byte for byte and so not
    ///     mapped: kept as they were, never removed.
    ///   - rowCount: the rows in the file (default: `rows.count`, when every row was mapped).
    public init(rows: [SnapshotRow], previous: [String: SnapshotEntry], keeping: Set<String> = [], rowCount: Int? = nil) {
        self.rows = rowCount ?? rows.count
        previousCount = previous.count
        var added: [SnapshotRow] = []
        var changed: [Change] = []
        var refreshed: [SnapshotRow] = []
        var seen = keeping
        for row in rows {
            seen.insert(row.key)
            guard let old = previous[row.key] else {
                added.append(row)
                continue
            }
            let fields = Set(row.fields.keys).union(old.fields.keys).filter { row.fields[$0] != old.fields[$0] }.sorted()
            if !fields.isEmpty || old.subject != row.subject {
                changed.append(Change(row: row, fields: fields))
            } else if old.rowDigest != row.rowDigest {
                refreshed.append(row)
            }
        }
        self.added = added
        self.changed = changed
        self.refreshed = refreshed
        removed = previous.filter { !seen.contains($0.key) }.sorted { $0.key < $1.key }.map { (key: $0.key, entry: $0.value) }
    }

    /// Compares when the previous snapshot was only partly read (the byte-level path): the entries
    /// of the mapped rows' keys, and the keys found missing (stored digests no row had).
    /// - Parameters:
    ///   - rows: the mapped rows (keys unique): those whose row digest differs or whose key is new.
    ///   - previous: the stored entries of those rows' keys (when stored) and of `removed`.
    ///   - removed: the previous keys missing from the file (and not refused in it).
    ///   - previousCount: keys in the previous snapshot.
    ///   - rowCount: the rows in the file.
    public init(rows: [SnapshotRow], previous: [String: SnapshotEntry], removed: [String], previousCount: Int, rowCount: Int) {
        var partial = SnapshotDiff(rows: rows, previous: previous, keeping: Set(previous.keys), rowCount: rowCount)
        partial.previousCount = previousCount
        partial.removed = removed.sorted().compactMap { key in previous[key].map { (key: key, entry: $0) } }
        self = partial
    }

    /// The share of the previous keys this file removes (0 when there were none).
    public var removedShare: Double {
        previousCount == 0 ? 0 : Double(removed.count) / Double(previousCount)
    }

    /// The events that carry the differences.
    /// - Parameters:
    ///   - mapping: the source's mapping (its `snapshot` section names the change and withdrawal types).
    ///   - run: a tag unique to this file (its digest, shortened), which makes the event ids.
    ///   - at: RFC 3339 time of the change and withdrawal events (when the run is applied).
    /// - Returns: registrations (the row's own event, its id tagged with the run), change events
    ///   carrying the changed fields' new values, withdrawals; in key order within each kind.
    public func events(mapping: FileMapping, run: String, at: String) -> [JSONValue] {
        guard let snapshot = mapping.snapshot else { return [] }
        var events: [JSONValue] = []
        func envelope(type: String, subject: String, id: String, occurredAt: String, data: JSONValue) -> JSONValue {
            .object([
                "source": .string(mapping.source), "event_id": .string(String(id.prefix(128))), "type": .string(type),
                "occurred_at": .string(occurredAt), "subject": .string(subject), "data": data,
            ])
        }
        for row in added {
            guard var object = row.registration.objectValue else { continue }
            object["event_id"] = .string(String("\(row.subject)@\(run)+".prefix(128)))
            events.append(.object(object))
        }
        for change in changed {
            let newData = change.row.registration["data"]?.objectValue ?? JSONObject()
            let data = JSONObject(newData.filter { change.fields.contains($0.key) })
            // A field that was emptied cannot be carried by an update event: the digest records it.
            guard !data.isEmpty else { continue }
            events.append(envelope(
                type: snapshot.changed, subject: change.row.subject, id: "\(change.row.subject)@\(run)~", occurredAt: at,
                data: .object(data)))
        }
        for removal in removed {
            var data = JSONValue.object(JSONObject())
            for entry in snapshot.removedData {
                if case .constant(let value) = entry.spec { data = MappedFile.set(data, entry.path[...], value) }
            }
            events.append(envelope(
                type: snapshot.removed, subject: removal.entry.subject, id: "\(removal.entry.subject)@\(run)-", occurredAt: at,
                data: data))
        }
        return events
    }
}
