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
        object["version"] = .integer(version)
        object["lsn"] = .integer(lsn)
        return object
    }

    /// The view without `version` and `lsn`: what decides whether an event changed the person.
    var viewWithoutVersion: JSONObject {
        if let mergedInto { return ["uid": .string(uid), "merged_into": .string(mergedInto)] }
        let resident = self.resident
        var object: JSONObject = ["uid": .string(uid)]
        object["status"] = resident.map { $0.facts["status"] ?? "active" } ?? "unregistered"
        object["protected"] = .bool(isProtected)
        for field in Self.identityFields {
            object[field] = identityValue(field, resident: resident)
        }
        for field in Self.residentOnlyFields {
            object[field] = nonNull(resident?.identity[field]) ?? .null
        }
        let protected = isProtected
        object["links"] = .array(records.map { $0.link.viewValue(protected: protected) })
        object["tax"] = latestTax.map(Self.taxView) ?? .null
        object["childcare"] = childcareView
        object["library"] = libraryView
        object["guardian_of"] = .array(guardianOf.map { .string($0) })
        return object
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
        .object([
            "fiscal_year": facts["fiscal_year"] ?? .null, "taxable": facts["taxable"] ?? .null,
            "income_levy": facts["income_levy"] ?? .null, "per_capita_levy": facts["per_capita_levy"] ?? .null,
        ])
    }

    /// The newest childcare record (the last in link order).
    private var childcareView: JSONValue {
        guard let record = records.last(where: { $0.link.source == "childcare" }) else { return .null }
        return .object([
            "child_no": .string(record.link.subject), "status": record.facts["status"] ?? .null,
            "facility_code": record.facts["facility_code"] ?? .null,
            "certification": record.facts["certification"] ?? .null,
            "monthly_fee": record.facts["monthly_fee"] ?? .null,
        ])
    }

    /// The first active library record in link order, else the first one.
    private var libraryView: JSONValue {
        let library = records.filter { $0.link.source == "library" }
        guard let record = library.first(where: { $0.facts["status"]?.stringValue == "active" }) ?? library.first
        else { return .null }
        return .object(["patron_no": .string(record.link.subject), "status": record.facts["status"] ?? "active"])
    }
}
