// MARK: - A person view in typed form

/// What a person view (``PersonRecord/viewWithoutVersion``) is made of, read off a record without
/// building the JSON: the values it shows, each the one the view would show, and the records behind
/// `links`, `childcare` and `library`.
///
/// The projection compares these before and after every event (``differs(from:)``,
/// ``differs(from:in:)``) instead of building two JSON views and comparing their bytes, and builds
/// the JSON view (``json``) only when a caller needs it: while a rebuild replays the log, that is
/// once per person instead of twice per event. Comparisons are byte for byte, like the views' own
/// (``JSONValue/isByteIdentical(to:)``): two spellings of a name that Unicode calls equivalent are
/// different views. `PersonViewPartsTests` checks ``json`` against the view built member by member and
/// every comparison against comparing the views' bytes.
struct PersonViewParts {
    /// The groups of view fields the projection asks about: when none of a group's fields changed,
    /// the work that depends on them is skipped.
    enum FieldGroup {
        /// What the match profile reads (``Projection/profile(of:parts:)``): `uid`, `merged_into`,
        /// `status`, `protected`, `name`, `name_kana`, `birth_date`, `sex`, `address`, `household_no`.
        /// Unchanged, the blocking index needs no update.
        case profile
        /// A member's part in their household record besides membership (``PersonRecord/memberOf``)
        /// and linked sources (``PersonRecord/linkedSources``): `protected` and `tax` (非課税, and
        /// whether there is an assessment).
        case household
        /// `links` and `merged_into`: whether the person's (source, subject) rows change.
        case links
    }

    var uid: String
    /// The 全国地方公共団体コード of the registry record, else of the first record that has one
    /// (``SourceRecord/municipality``); `null` when none is known.
    var municipality: JSONValue
    /// Set for a retired uid, whose view is `uid` and `merged_into` only.
    var mergedInto: String?
    var status: JSONValue
    var isProtected: Bool
    /// `name`, `name_kana`, `birth_date`, `sex`, `address`, `postal_code` (``PersonRecord/identityFields``).
    var name: JSONValue
    var nameKana: JSONValue
    /// The registry's 通称 and 旧氏 (``MatchProfile/alternativeNameFields``, `null` where not
    /// given): not in the view, but part of the match profile.
    var alternativeNames: [JSONValue] = []
    var birthDate: JSONValue
    var sex: JSONValue
    var address: JSONValue
    var postalCode: JSONValue
    /// `household_no`, `relationship`, `my_number` (``PersonRecord/residentOnlyFields``).
    var householdNo: JSONValue
    var relationship: JSONValue
    var myNumber: JSONValue
    /// The linked records, in link order: `links` is their links.
    var records: [SourceRecord]
    /// The facts of the latest assessment, behind `tax`.
    var tax: JSONObject?
    /// The newest childcare record, behind `childcare`.
    var childcare: SourceRecord?
    /// The first active library record, else the first one, behind `library`.
    var library: SourceRecord?
    var guardianOf: [String]

    /// Reads the parts of `person`'s view.
    init(_ person: PersonRecord) {
        uid = person.uid
        mergedInto = person.mergedInto
        records = person.records
        guardianOf = person.guardianOf
        // The registry record and the latest assessment are the ones the household and 非課税
        // decisions read (``PersonRecord/resident``, ``PersonRecord/latestTax``): one rule for both.
        let resident = person.resident
        tax = person.latestTax
        var firstLibrary: SourceRecord?
        var activeLibrary: SourceRecord?
        for record in person.records {
            switch record.link.source {
            case "childcare":
                childcare = record
            case "library":
                if firstLibrary == nil { firstLibrary = record }
                if activeLibrary == nil, record.facts["status"]?.stringValue == "active" { activeLibrary = record }
            default:
                break
            }
        }
        library = activeLibrary ?? firstLibrary
        let code = resident?.municipality ?? person.records.first { $0.municipality != nil }?.municipality
        municipality = code.map { .string($0) } ?? .null
        status = resident.map { $0.facts["status"] ?? "active" } ?? "unregistered"
        isProtected = resident?.facts["protected"]?.boolValue ?? false
        func identity(_ field: String) -> JSONValue {
            if let value = Self.nonNull(resident?.identity[field]) { return value }
            for record in person.records where record.link.source != "resident" {
                if let value = Self.nonNull(record.identity[field]) { return value }
            }
            return .null
        }
        name = identity("name")
        nameKana = identity("name_kana")
        if let resident, MatchProfile.alternativeNameFields.contains(where: { resident.identity[$0] != nil }) {
            alternativeNames = MatchProfile.alternativeNameFields.map { Self.nonNull(resident.identity[$0]) ?? .null }
        }
        birthDate = identity("birth_date")
        sex = identity("sex")
        address = identity("address")
        postalCode = identity("postal_code")
        householdNo = Self.nonNull(resident?.identity["household_no"]) ?? .null
        relationship = Self.nonNull(resident?.identity["relationship"]) ?? .null
        myNumber = Self.nonNull(resident?.identity["my_number"]) ?? .null
    }

    private static func nonNull(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    // MARK: Building the view

    /// The view without `version` and `lsn`, member by member in ``PersonRecord/viewFields`` order.
    var json: JSONObject {
        if let mergedInto {
            return JSONObject(uniqueMembers: [
                .init(key: "uid", value: .string(uid)), .init(key: "merged_into", value: .string(mergedInto)),
            ])
        }
        let protected = isProtected
        return JSONObject(uniqueMembers: [
            .init(key: "uid", value: .string(uid)),
            .init(key: "municipality", value: municipality),
            .init(key: "status", value: status),
            .init(key: "protected", value: .bool(protected)),
            .init(key: "name", value: name),
            .init(key: "name_kana", value: nameKana),
            .init(key: "birth_date", value: birthDate),
            .init(key: "sex", value: sex),
            .init(key: "address", value: address),
            .init(key: "postal_code", value: postalCode),
            .init(key: "household_no", value: householdNo),
            .init(key: "relationship", value: relationship),
            .init(key: "my_number", value: myNumber),
            .init(key: "links", value: .array(records.map { $0.link.viewValue(protected: protected) })),
            .init(key: "tax", value: tax.map(Self.taxView) ?? .null),
            .init(key: "childcare", value: childcare.map(Self.childcareView) ?? .null),
            .init(key: "library", value: library.map(Self.libraryView) ?? .null),
            .init(key: "guardian_of", value: .array(guardianOf.map { .string($0) })),
        ])
    }

    static let taxFields = ["fiscal_year", "taxable", "income_levy", "per_capita_levy"]
    static let childcareFacts = ["status", "facility_code", "certification", "monthly_fee"]

    private static func taxView(_ facts: JSONObject) -> JSONValue {
        .object(JSONObject(uniqueMembers: taxFields.map { .init(key: $0, value: facts[$0] ?? .null) }))
    }

    private static func childcareView(_ record: SourceRecord) -> JSONValue {
        var members: [JSONObject.Member] = [.init(key: "child_no", value: .string(record.link.subject))]
        members.reserveCapacity(1 + childcareFacts.count)
        for field in childcareFacts { members.append(.init(key: field, value: record.facts[field] ?? .null)) }
        return .object(JSONObject(uniqueMembers: members))
    }

    private static func libraryView(_ record: SourceRecord) -> JSONValue {
        .object(JSONObject(uniqueMembers: [
            .init(key: "patron_no", value: .string(record.link.subject)),
            .init(key: "status", value: record.facts["status"] ?? "active"),
        ]))
    }

    // MARK: Comparing

    /// Whether the two views differ anywhere (byte for byte): whether an event changed the person.
    func differs(from other: PersonViewParts) -> Bool {
        guard Self.same(mergedInto, other.mergedInto) else { return true }
        if mergedInto != nil { return !JSONObject.sameKey(uid, other.uid) }
        return differs(from: other, in: .profile) || differs(from: other, in: .household)
            || !Self.sameLinks(self, other) || !municipality.isByteIdentical(to: other.municipality)
            || !postalCode.isByteIdentical(to: other.postalCode) || !relationship.isByteIdentical(to: other.relationship)
            || !myNumber.isByteIdentical(to: other.myNumber)
            || !Self.same(childcare, other.childcare, subject: true, facts: Self.childcareFacts, default: .null)
            || !Self.same(library, other.library, subject: true, facts: ["status"], default: "active")
            || !Self.sameStrings(guardianOf, other.guardianOf)
    }

    /// Whether the two views differ (byte for byte) in any field of `group`.
    func differs(from other: PersonViewParts, in group: FieldGroup) -> Bool {
        let merged = mergedInto != nil, otherMerged = other.mergedInto != nil
        switch group {
        case .profile:
            guard JSONObject.sameKey(uid, other.uid), Self.same(mergedInto, other.mergedInto) else { return true }
            if merged { return false }
            return !status.isByteIdentical(to: other.status) || isProtected != other.isProtected
                || !name.isByteIdentical(to: other.name) || !nameKana.isByteIdentical(to: other.nameKana)
                || alternativeNames.count != other.alternativeNames.count
                || !zip(alternativeNames, other.alternativeNames).allSatisfy({ $0.isByteIdentical(to: $1) })
                || !birthDate.isByteIdentical(to: other.birthDate) || !sex.isByteIdentical(to: other.sex)
                || !address.isByteIdentical(to: other.address) || !householdNo.isByteIdentical(to: other.householdNo)
        case .household:
            // A retired uid's view has neither field.
            if merged || otherMerged { return merged != otherMerged }
            return isProtected != other.isProtected || !Self.sameTax(tax, other.tax)
        case .links:
            guard Self.same(mergedInto, other.mergedInto) else { return true }
            if merged { return false }
            return !Self.sameLinks(self, other)
        }
    }

    private static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return JSONObject.sameKey(a, b)
        default: return false
        }
    }

    private static func sameStrings(_ a: [String], _ b: [String]) -> Bool {
        guard a.count == b.count else { return false }
        for index in a.indices where !JSONObject.sameKey(a[index], b[index]) { return false }
        return true
    }

    private static func sameTax(_ a: JSONObject?, _ b: JSONObject?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return taxFields.allSatisfy { (a[$0] ?? .null).isByteIdentical(to: b[$0] ?? .null) }
        default: return false
        }
    }

    /// Whether two optional records show the same: their subjects (when shown) and `facts`, a missing
    /// fact shown as `default`.
    private static func same(
        _ a: SourceRecord?, _ b: SourceRecord?, subject: Bool, facts: [String], default fallback: JSONValue
    ) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?):
            if subject, !JSONObject.sameKey(a.link.subject, b.link.subject) { return false }
            return facts.allSatisfy { (a.facts[$0] ?? fallback).isByteIdentical(to: b.facts[$0] ?? fallback) }
        default: return false
        }
    }

    /// Whether `links` reads the same in both views: each link's members, with address reasons
    /// withheld while the person is protected (``PersonLink/viewValue(protected:)``).
    private static func sameLinks(_ a: PersonViewParts, _ b: PersonViewParts) -> Bool {
        guard a.records.count == b.records.count else { return false }
        for (x, y) in zip(a.records, b.records) {
            let left = x.link, right = y.link
            guard JSONObject.sameKey(left.source, right.source), JSONObject.sameKey(left.subject, right.subject),
                JSONObject.sameKey(left.method, right.method), left.reasons.count == right.reasons.count
            else { return false }
            switch (left.score, right.score) {
            case (nil, nil): break
            case (let s?, let t?): guard s == t || JSONValue.double(s).isByteIdentical(to: .double(t)) else { return false }
            default: return false
            }
            for (p, q) in zip(left.reasons, right.reasons) {
                let shownP = a.isProtected && p.hasPrefix("address: ") ? nil : p
                let shownQ = b.isProtected && q.hasPrefix("address: ") ? nil : q
                guard same(shownP, shownQ) else { return false }
            }
        }
        return true
    }
}
