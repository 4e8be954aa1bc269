// MARK: - Person view (contract §3)
//
// Shape decisions, so every view has the same keys in the same order:
// - identity fields (`name` … `my_number`) are always present, `null` when no source gives them;
// - `tax`, `childcare`, `library` are `null` when no such record is linked; inside `childcare`
//   unknown values are `null`;
// - `links` and `guardian_of` are arrays, empty when there are none;
// - `household_no` keeps the last registered household after `moved_out`/`deceased` (the person
//   is no longer counted as a member of it).

extension PersonRecord {
    /// The identity fields every source may give; the registry's value wins, others fill gaps.
    public static let identityFields = ["name", "name_kana", "birth_date", "sex", "address", "postal_code"]
    /// Fields only the resident registry gives.
    public static let residentOnlyFields = ["household_no", "relationship", "my_number"]
    /// The fields withheld while a person is protected (支援措置).
    public static let protectedFields = ["address", "postal_code", "household_no"]
    /// Every key of a person view, in order.
    public static let viewFields = [
        "uid", "status", "protected", "name", "name_kana", "birth_date", "sex", "address", "postal_code",
        "household_no", "relationship", "my_number", "links", "tax", "childcare", "library", "guardian_of",
        "version", "lsn",
    ]

    /// The full internal person view, `my_number` included: what subscriptions are planned from.
    public var view: JSONObject {
        var object = viewWithoutVersion
        object.appendUnique("version", .integer(version))
        object.appendUnique("lsn", .integer(lsn))
        return object
    }

    /// The view without `version` and `lsn`: what decides whether an event changed the person.
    ///
    /// Built member by member in ``viewFields`` order (every key once, so no lookups): the projection
    /// computes it for every person an event touches.
    var viewWithoutVersion: JSONObject {
        if let mergedInto {
            return JSONObject(uniqueMembers: [
                .init(key: "uid", value: .string(uid)), .init(key: "merged_into", value: .string(mergedInto)),
            ])
        }
        let resident = self.resident
        let protected = resident?.facts["protected"]?.boolValue ?? false
        var members: [JSONObject.Member] = []
        members.reserveCapacity(Self.viewFields.count)
        members.append(.init(key: "uid", value: .string(uid)))
        members.append(.init(key: "status", value: resident.map { $0.facts["status"] ?? "active" } ?? "unregistered"))
        members.append(.init(key: "protected", value: .bool(protected)))
        for field in Self.identityFields {
            members.append(.init(key: field, value: identityValue(field, resident: resident)))
        }
        for field in Self.residentOnlyFields {
            members.append(.init(key: field, value: nonNull(resident?.identity[field]) ?? .null))
        }
        members.append(.init(key: "links", value: .array(records.map { $0.link.viewValue(protected: protected) })))
        members.append(.init(key: "tax", value: latestTax.map(Self.taxView) ?? .null))
        members.append(.init(key: "childcare", value: childcareView))
        members.append(.init(key: "library", value: libraryView))
        members.append(.init(key: "guardian_of", value: .array(guardianOf.map { .string($0) })))
        return JSONObject(uniqueMembers: members)
    }

    /// The registry's value if it has one, else the first other record's in link order.
    private func identityValue(_ field: String, resident: SourceRecord?) -> JSONValue {
        if let value = nonNull(resident?.identity[field]) { return value }
        for record in records where record.link.source != "resident" {
            if let value = nonNull(record.identity[field]) { return value }
        }
        return .null
    }

    private func nonNull(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    private static func taxView(_ facts: JSONObject) -> JSONValue {
        .object(JSONObject(uniqueMembers: [
            .init(key: "fiscal_year", value: facts["fiscal_year"] ?? .null),
            .init(key: "taxable", value: facts["taxable"] ?? .null),
            .init(key: "income_levy", value: facts["income_levy"] ?? .null),
            .init(key: "per_capita_levy", value: facts["per_capita_levy"] ?? .null),
        ]))
    }

    /// The newest childcare record (the last in link order).
    private var childcareView: JSONValue {
        guard let record = records.last(where: { $0.link.source == "childcare" }) else { return .null }
        return .object(JSONObject(uniqueMembers: [
            .init(key: "child_no", value: .string(record.link.subject)),
            .init(key: "status", value: record.facts["status"] ?? .null),
            .init(key: "facility_code", value: record.facts["facility_code"] ?? .null),
            .init(key: "certification", value: record.facts["certification"] ?? .null),
            .init(key: "monthly_fee", value: record.facts["monthly_fee"] ?? .null),
        ]))
    }

    /// The first active library record in link order, else the first one.
    private var libraryView: JSONValue {
        let library = records.filter { $0.link.source == "library" }
        guard let record = library.first(where: { $0.facts["status"]?.stringValue == "active" }) ?? library.first
        else { return .null }
        return .object(JSONObject(uniqueMembers: [
            .init(key: "patron_no", value: .string(record.link.subject)),
            .init(key: "status", value: record.facts["status"] ?? "active"),
        ]))
    }
}
