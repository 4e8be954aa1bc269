// MARK: - Stored form

extension PersonRecord {
    /// The record as a JSON object: `uid`, `version`, `lsn`, `atena_no`, `guardian_of`, `records`
    /// [{`source`, `subject`, `method`, `score`?, `identity`, `facts`, `municipality`?}]. Strings keep
    /// their exact code points.
    public var jsonValue: JSONValue {
        let records: [JSONValue] = records.map { record in
            var object: JSONObject = [
                "source": .string(record.link.source), "subject": .string(record.link.subject),
                "method": .string(record.link.method),
            ]
            if let score = record.link.score { object["score"] = .double(score) }
            if !record.link.reasons.isEmpty { object["reasons"] = .array(record.link.reasons.map { .string($0) }) }
            object["identity"] = .object(record.identity)
            object["facts"] = .object(record.facts)
            if let municipality = record.municipality { object["municipality"] = .string(municipality) }
            return .object(object)
        }
        var object: JSONObject = [
            "uid": .string(uid), "version": .integer(version), "lsn": .integer(lsn),
            "atena_no": atenaNo.map { .string($0) } ?? .null, "guardian_of": .array(guardianOf.map { .string($0) }),
            "records": .array(records),
        ]
        if let mergedInto { object["merged_into"] = .string(mergedInto) }
        if !otherAtenaNos.isEmpty { object["other_atena_nos"] = .array(otherAtenaNos.map { .string($0) }) }
        return .object(object)
    }

    /// Compact JSON bytes of ``jsonValue``, for storage.
    public var encoded: [UInt8] { jsonValue.serializedBytes }

    /// Reads a record back from ``encoded`` bytes.
    /// - Throws: ``RenkeiError`` with code `database` when the bytes are not a stored person record.
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "person record")
        var records: [SourceRecord] = []
        for element in try stored.array("records") {
            guard let object = element.objectValue else { throw stored.damaged("records") }
            let part = StoredJSON(object: object, what: "person record \(try stored.string("uid"))")
            var score: Double?
            switch object["score"] {
            case nil, .null?: score = nil
            case .double(let value)?: score = value
            case .integer(let value)?: score = Double(value)
            default: throw part.damaged("score")
            }
            let reasons = object["reasons"] == nil ? [] : try part.strings("reasons")
            let link = PersonLink(
                source: try part.string("source"), subject: try part.string("subject"),
                method: try part.string("method"), score: score, reasons: reasons)
            // A record stored before issue 16's municipality has none: its view shows null until a rebuild.
            records.append(
                SourceRecord(
                    link: link, identity: try part.objectMember("identity"), facts: try part.objectMember("facts"),
                    municipality: try part.optionalString("municipality")))
        }
        self.init(
            uid: try stored.string("uid"), version: try stored.integer("version"), lsn: try stored.integer("lsn"),
            atenaNo: try stored.optionalString("atena_no"), records: records,
            guardianOf: try stored.strings("guardian_of"))
        mergedInto = try stored.optionalString("merged_into")
        if stored.object["other_atena_nos"] != nil { otherAtenaNos = try stored.strings("other_atena_nos") }
    }
}

extension HouseholdRecord {
    /// The record as a JSON object (`household_no`, `members`, `protected_members`,
    /// `all_members_tax_exempt`, `version`, `lsn`, `municipality`?).
    public var jsonValue: JSONValue {
        var object: JSONObject = [
            "household_no": .string(householdNo), "members": .array(members.map { .string($0) }),
            "protected_members": .array(protectedMembers.map { .string($0) }),
            "all_members_tax_exempt": .bool(allMembersTaxExempt), "version": .integer(version), "lsn": .integer(lsn),
        ]
        if let municipality { object["municipality"] = .string(municipality) }
        return .object(object)
    }

    /// Compact JSON bytes of ``jsonValue``, for storage.
    public var encoded: [UInt8] { jsonValue.serializedBytes }

    /// Reads a record back from ``encoded`` bytes.
    /// - Throws: ``RenkeiError`` with code `database` when the bytes are not a stored household record.
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "household record")
        self.init(
            householdNo: try stored.string("household_no"), members: try stored.strings("members"),
            protectedMembers: try stored.strings("protected_members"),
            allMembersTaxExempt: try stored.bool("all_members_tax_exempt"), version: try stored.integer("version"),
            lsn: try stored.integer("lsn"), municipality: try stored.optionalString("municipality"))
    }
}

extension ProjectionMeta {
    /// `{"next_uid": N, "lsn": L}` (and `"next_review"` once a review was raised) as compact JSON
    /// bytes, for storage.
    public var encoded: [UInt8] {
        var object: JSONObject = ["next_uid": .integer(nextUID), "lsn": .integer(lsn)]
        if nextReview > 1 { object["next_review"] = .integer(nextReview) }
        return JSONValue.object(object).serializedBytes
    }

    /// Reads meta back from ``encoded`` bytes.
    /// - Throws: ``RenkeiError`` with code `database` when the bytes are not stored meta.
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "projection meta")
        self.init(nextUID: try stored.integer("next_uid"), lsn: try stored.integer("lsn"))
        if stored.object["next_review"] != nil { nextReview = try stored.integer("next_review") }
    }
}
