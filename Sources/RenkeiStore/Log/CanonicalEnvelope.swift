import RenkeiCore

/// One envelope serialised member by member in canonical form (`JSONValue.canonicalBytes`: compact,
/// keys sorted by their UTF-8 bytes), so that the stored body and the hashed record — the body plus
/// `"lsn"` and `"recorded_at"` — come from a single serialisation pass.
///
/// The log's tests check both against `JSONValue.canonicalBytes` computed independently.
struct CanonicalEnvelope {
    /// Each top-level member: its key's UTF-8 bytes and its serialised `"key":value`.
    private let members: [(key: [UInt8], bytes: [UInt8])]

    init(_ envelope: JSONObject) {
        members = envelope.members.map { Self.member($0.key, $0.value) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// The canonical bytes of the envelope (equal to `Event.contentBytes`).
    var body: [UInt8] { Self.join(members) }

    /// The canonical bytes of the envelope with `"lsn": lsn` and `"recorded_at": recordedAt` added,
    /// replacing members of those names should the envelope carry them.
    ///
    /// With a `provenance` (issue 13), a `"provenance"` member is added as well (replacing one of that
    /// name); without, the record is exactly what it was before provenance existed, so older rows verify.
    func record(lsn: Int64, recordedAt: String, provenance: JSONValue? = nil) -> [UInt8] {
        let lsnKey = Array("lsn".utf8), recordedAtKey = Array("recorded_at".utf8), provenanceKey = Array("provenance".utf8)
        var all = members.filter {
            $0.key != lsnKey && $0.key != recordedAtKey && (provenance == nil || $0.key != provenanceKey)
        }
        all.append(Self.member("lsn", .integer(lsn)))
        all.append(Self.member("recorded_at", .string(recordedAt)))
        if let provenance { all.append(Self.member("provenance", provenance)) }
        all.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return Self.join(all)
    }

    private static func member(_ key: String, _ value: JSONValue) -> (key: [UInt8], bytes: [UInt8]) {
        var bytes = JSONValue.string(key).canonicalBytes
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: value.canonicalBytes)
        return (Array(key.utf8), bytes)
    }

    private static func join(_ members: [(key: [UInt8], bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(members.reduce(2) { $0 + $1.bytes.count + 1 })
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: member.bytes)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension JSONValue {
    /// This value as parsing its canonical bytes would give it back: object members in key order at
    /// every level, integral doubles as integers (what the serialiser writes for them).
    var canonicalForm: JSONValue {
        switch self {
        case .object(let object):
            let members = object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(JSONObject(members.map { JSONObject.Member(key: $0.key, value: $0.value.canonicalForm) }))
        case .array(let elements):
            return .array(elements.map(\.canonicalForm))
        case .double(let double):
            if let exact = Int64(exactly: double), abs(exact) < 9_000_000_000_000_000 { return .integer(exact) }
            return self
        default:
            return self
        }
    }
}
