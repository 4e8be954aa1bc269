@testable import RenkeiCore
import Testing

/// ``PersonViewParts`` must build the view the contract describes, and its comparisons must answer
/// exactly what comparing two built views byte for byte answers: a wrong "unchanged" would skip a
/// version and a delta, a wrong "profile unchanged" would leave the blocking index stale.
@Suite struct PersonViewPartsTests {
    /// The person view as the projection built it before ``PersonViewParts`` existed: member by
    /// member from the record, the reference the parts are checked against.
    static func referenceView(_ person: PersonRecord) -> JSONObject {
        if let mergedInto = person.mergedInto {
            return ["uid": .string(person.uid), "merged_into": .string(mergedInto)]
        }
        // (Not `flatMap { $0.isNull ? nil : $0 }`: JSONValue takes `nil` as a literal, so that is `.null`.)
        func nonNull(_ value: JSONValue?) -> JSONValue? {
            guard let value, !value.isNull else { return nil }
            return value
        }
        let resident = person.resident
        let protected = resident?.facts["protected"]?.boolValue ?? false
        var view = JSONObject()
        view["uid"] = .string(person.uid)
        let code = resident?.municipality ?? person.records.first { $0.municipality != nil }?.municipality
        view["municipality"] = code.map { .string($0) } ?? .null
        view["status"] = resident.map { $0.facts["status"] ?? "active" } ?? "unregistered"
        view["protected"] = .bool(protected)
        for field in PersonRecord.identityFields {
            var value = nonNull(resident?.identity[field])
            for record in person.records where value == nil && record.link.source != "resident" {
                value = nonNull(record.identity[field])
            }
            view[field] = value ?? .null
        }
        for field in PersonRecord.residentOnlyFields { view[field] = nonNull(resident?.identity[field]) ?? .null }
        view["links"] = .array(person.records.map { $0.link.viewValue(protected: protected) })
        view["tax"] = person.latestTax.map { facts in
            .object(JSONObject(["fiscal_year", "taxable", "income_levy", "per_capita_levy"].map {
                JSONObject.Member(key: $0, value: facts[$0] ?? .null)
            }))
        } ?? .null
        if let record = person.records.last(where: { $0.link.source == "childcare" }) {
            var childcare: JSONObject = ["child_no": .string(record.link.subject)]
            for field in ["status", "facility_code", "certification", "monthly_fee"] { childcare[field] = record.facts[field] ?? .null }
            view["childcare"] = .object(childcare)
        } else {
            view["childcare"] = .null
        }
        let library = person.records.filter { $0.link.source == "library" }
        if let record = library.first(where: { $0.facts["status"]?.stringValue == "active" }) ?? library.first {
            view["library"] = ["patron_no": .string(record.link.subject), "status": record.facts["status"] ?? "active"]
        } else {
            view["library"] = .null
        }
        view["guardian_of"] = .array(person.guardianOf.map { .string($0) })
        return view
    }

    /// Random records built from few values, so two of them often agree in part: precomposed and
    /// decomposed kana (equal as Swift strings, different bytes), integral doubles against integers,
    /// nulls against missing members, address reasons while protected.
    struct Maker {
        var random: SplitMix

        mutating func pick<T>(_ values: [T]) -> T { values[random.below(values.count)] }

        mutating func value(_ values: [JSONValue]) -> JSONValue? {
            random.chance(0.15) ? nil : pick(values)
        }

        mutating func identity(resident: Bool) -> JSONObject {
            var object = JSONObject()
            let fields: [(String, [JSONValue])] = [
                ("name", ["山田 太郎", "山田 花子", "ヤマダ", .null]),
                ("name_kana", ["ガクト", "カ\u{3099}クト", "ヤマダ タロウ", .null]),
                ("birth_date", ["1980-01-02", "1980-01-03", .null]),
                ("sex", ["male", "female", .null]),
                ("address", ["東京都千代田区1-1", "東京都千代田区１－１", .null]),
                ("postal_code", ["100-0001", "100-0002", .null]),
            ]
            for (field, values) in fields { object[field] = value(values) }
            if resident {
                object["household_no"] = value(["H1", "H2", .null])
                object["relationship"] = value(["世帯主", "世帯員"])
                object["my_number"] = value(["123456789018", .null])
            }
            return object
        }

        mutating func link(_ source: String, _ subject: String) -> PersonLink {
            let method = pick(["key", "match", "operator"])
            guard method == "match" else { return PersonLink(source: source, subject: subject, method: method) }
            return PersonLink(
                source: source, subject: subject, method: method, score: pick([0.9, 0.95, 1.0]),
                reasons: Array(pick([["name: 一致"], ["name: 一致", "address: 一致"], ["address: 番地まで一致"], []])))
        }

        mutating func record(_ source: String) -> SourceRecord {
            let subject = pick(["1", "2", "3"])
            var facts = JSONObject()
            switch source {
            case "resident":
                facts["status"] = value(["active", "moved_out", "deceased"])
                facts["protected"] = value([.bool(true), .bool(false)])
            case "tax":
                facts["fiscal_year"] = value([2024, 2025, .double(2025)])
                facts["taxable"] = value([.bool(true), .bool(false)])
                facts["income_levy"] = value([0, 1000, .double(1000)])
                facts["per_capita_levy"] = value([0, 5000])
            case "childcare":
                facts["status"] = value(["applied", "enrolled"])
                facts["facility_code"] = value(["F1", "F2"])
                facts["certification"] = value(["2号", "3号"])
                facts["monthly_fee"] = value([0, 12000])
            default:
                facts["status"] = value(["active", "withdrawn"])
            }
            return SourceRecord(link: link(source, subject), identity: identity(resident: source == "resident"), facts: facts)
        }

        mutating func person() -> PersonRecord {
            var person = PersonRecord(uid: pick(["U0000000001", "U0000000002"]), lsn: 1)
            for _ in 0..<random.below(5) { person.records.append(record(pick(["resident", "tax", "childcare", "library"]))) }
            person.guardianOf = pick([[], ["U0000000003"], ["U0000000003", "U0000000004"]])
            if random.chance(0.1) { person.mergedInto = pick(["U0000000005", "U0000000006"]) }
            return person
        }

        /// `person` with one thing changed (or, now and then, nothing).
        mutating func variant(of person: PersonRecord) -> PersonRecord {
            var copy = person
            switch random.below(8) {
            case 0 where !copy.records.isEmpty:
                let index = random.below(copy.records.count)
                copy.records[index].facts = record(copy.records[index].link.source).facts
            case 1 where !copy.records.isEmpty:
                let index = random.below(copy.records.count)
                copy.records[index].identity = identity(resident: copy.records[index].link.source == "resident")
            case 2 where !copy.records.isEmpty:
                let index = random.below(copy.records.count)
                copy.records[index].link = link(copy.records[index].link.source, copy.records[index].link.subject)
            case 3:
                copy.records.append(record(pick(["resident", "tax", "childcare", "library"])))
            case 4 where !copy.records.isEmpty:
                copy.records.remove(at: random.below(copy.records.count))
            case 5:
                copy.guardianOf = pick([[], ["U0000000003"], ["U0000000004"]])
            case 6:
                copy.mergedInto = random.chance(0.5) ? nil : pick(["U0000000005", "U0000000006"])
            default:
                break
            }
            return copy
        }
    }

    @Test func theJSONIsTheReferenceView() {
        var maker = Maker(random: SplitMix(seed: 17))
        for _ in 0..<1000 {
            let person = maker.person()
            let built = PersonViewParts(person).json
            let reference = Self.referenceView(person)
            #expect(
                JSONValue.object(built).serializedString == JSONValue.object(reference).serializedString,
                "\(person)")
        }
    }

    /// Every comparison against comparing the built views, on pairs that often agree in part (3,000
    /// pairs: a test runs on the shared cooperative pool, and a longer one starved other suites' servers).
    @Test func comparisonsAgreeWithTheViewsBytes() {
        var maker = Maker(random: SplitMix(seed: 23))
        var counts = (same: 0, differ: 0, profile: 0, household: 0, links: 0)
        for _ in 0..<3000 {
            let before = maker.person()
            let after = maker.variant(of: before)
            let old = Self.referenceView(before), new = Self.referenceView(after)
            let parts = PersonViewParts(after), previous = PersonViewParts(before)
            let differs = !JSONValue.object(new).isByteIdentical(to: .object(old))
            #expect(parts.differs(from: previous) == differs, "\(before) → \(after)")
            let groups: [(PersonViewParts.FieldGroup, [String])] = [
                (.profile, Projection.profileFields), (.household, Projection.householdFields),
                (.links, ["links", "merged_into"]),
            ]
            for (group, fields) in groups {
                let expected = Projection.differ(old, new, in: fields)
                #expect(parts.differs(from: previous, in: group) == expected, "\(group): \(before) → \(after)")
                if expected {
                    switch group {
                    case .profile: counts.profile += 1
                    case .household: counts.household += 1
                    case .links: counts.links += 1
                    }
                }
            }
            if differs { counts.differ += 1 } else { counts.same += 1 }
        }
        // The pairs exercise every answer, so a comparison stuck at one answer cannot pass.
        #expect(counts.same > 150 && counts.differ > 150, "\(counts)")
        #expect(counts.profile > 75 && counts.household > 75 && counts.links > 75, "\(counts)")
    }

    /// Two spellings Unicode calls equivalent are equal Swift strings but different views.
    @Test func canonicallyEquivalentNamesDiffer() {
        let precomposed = SourceRecord(
            link: PersonLink(source: "library", subject: "L1"), identity: ["name_kana": "ガクト"], facts: ["status": "active"])
        var decomposed = precomposed
        decomposed.identity["name_kana"] = "カ\u{3099}クト"
        #expect(precomposed == decomposed)
        let a = PersonRecord(uid: "U0000000001", lsn: 1, records: [precomposed])
        let b = PersonRecord(uid: "U0000000001", lsn: 1, records: [decomposed])
        #expect(PersonViewParts(b).differs(from: PersonViewParts(a)))
        #expect(PersonViewParts(b).differs(from: PersonViewParts(a), in: .profile))
        #expect(!PersonViewParts(b).differs(from: PersonViewParts(a), in: .household))
    }
}
