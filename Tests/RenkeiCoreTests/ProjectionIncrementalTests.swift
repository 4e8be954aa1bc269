@testable import RenkeiCore
import Testing

/// The projection's shortcuts (a per-batch view cache, reindexing only when a match field changed,
/// refreshing a household only when a member's part in it changed) must leave exactly the state
/// that doing everything every time would: checked along a synthetic town's life.
@Suite struct ProjectionIncrementalTests {
    /// Registrations, tax by 宛名番号, library patrons to be matched, then moves, corrections,
    /// protection, household changes, 更正, name changes, moves out and deaths.
    static func townLog(residents count: Int) throws -> [LoggedEvent] {
        var population = SyntheticPopulation(residents: count, seed: 11)
        let patrons = population.records(count: count / 5, residentShare: 0.8)
        var lines: [String] = []
        func atena(_ index: Int) -> String { "9" + String(100_000_000 + index).suffix(8) }
        func line(_ source: String, _ id: String, _ type: String, _ subject: String, _ data: JSONObject) -> String {
            JSONValue.object([
                "source": .string(source), "event_id": .string(id), "type": .string(type),
                "occurred_at": "2026-04-01T09:00:00+09:00", "subject": .string(subject), "data": .object(data),
            ]).serializedString
        }
        for (index, resident) in population.residents.enumerated() {
            var data = resident.identity
            data["reason"] = "move_in"
            data["household_no"] = .string(resident.household)
            data["relationship"] = "世帯員"
            lines.append(line("resident", "R\(index)", "resident.registered", atena(index), data))
            if index % 2 == 0 {
                lines.append(line("tax", "T\(index)", "tax.assessed", "TX\(index)", [
                    "fiscal_year": 2025, "taxable": .bool(index % 4 == 0), "income_levy": 0, "per_capita_levy": 0,
                    "atena_no": .string(atena(index)),
                ]))
            }
        }
        for (number, patron) in patrons.enumerated() {
            var data = patron.identity
            data["sex"] = nil
            lines.append(line("library", "L\(number)", "library.patron_registered", "LIB\(number)", data))
        }
        var random = SplitMix(seed: 5)
        for serial in 0..<(count * 6) {
            let index = random.below(count)
            let subject = atena(index)
            switch serial % 12 {
            case 0, 1, 2:
                lines.append(line("resident", "M\(serial)", "resident.moved", subject, [
                    "address": .string("東京都千代田区神田\(random.below(5) + 1)丁目\(random.below(9) + 1)番"),
                ]))
            case 3, 4:
                lines.append(line("resident", "C\(serial)", "resident.corrected", subject, [
                    "postal_code": .string("101-00\(10 + random.below(80))"),
                ]))
            case 5:
                lines.append(line("resident", "P\(serial)", "resident.protection_changed", subject, [
                    "protected": .bool(random.chance(0.5)),
                ]))
            case 6:
                lines.append(line("resident", "H\(serial)", "resident.household_changed", subject, [
                    "household_no": .string("H\(random.below(count / 3) + 1)"), "relationship": "世帯員",
                ]))
            case 7, 8:
                lines.append(line("tax", "U\(serial)", "tax.corrected", "TX\(index)", [
                    "fiscal_year": 2025, "taxable": .bool(random.chance(0.5)), "income_levy": 0, "per_capita_levy": 0,
                    "atena_no": .string(subject),
                ]))
            case 9:
                lines.append(line("resident", "N\(serial)", "resident.name_changed", subject, [
                    "name": .string("改姓 \(serial)"), "name_kana": "カイセイ タロウ",
                ]))
            case 10:
                lines.append(line("library", "LU\(serial)", "library.patron_updated", "LIB\(random.below(max(1, count / 5)))", [
                    "postal_code": .string("102-00\(10 + random.below(80))"),
                ]))
            default:
                lines.append(line("resident", "X\(serial)", random.chance(0.5) ? "resident.moved_out" : "resident.died", subject, [:]))
            }
        }
        return try EventLog.events(lines.joined(separator: "\n"))
    }

    /// Every cached view is the view built afresh; every indexed profile is the person's profile;
    /// no household would change if refreshed from its members.
    static func expectConsistent(_ projection: Projection, after lsn: Int64) {
        for (uid, record) in projection.persons {
            let cached = projection.personView(uid).map { JSONValue.object($0).serializedBytes }
            #expect(cached == JSONValue.object(record.view).serializedBytes, "view of \(uid) after lsn \(lsn)")
            let number = Projection.uidNumber(uid)
            #expect(projection.matchIndex.profile(number) == Projection.profile(of: record), "profile of \(uid) after lsn \(lsn)")
        }
        var copy = projection
        for householdNo in Set(projection.households.keys).union(projection.householdMembers.keys) {
            #expect(copy.refreshHousehold(householdNo, lsn: lsn + 1) == nil, "household \(householdNo) is stale after lsn \(lsn)")
        }
    }

    @Test func shortcutsLeaveTheStateEveryRecomputationWould() throws {
        let log = try Self.townLog(residents: 240)
        var projection = Projection()
        // The (source, subject) → uid rows as the daemon stores them: rewritten only for `dirtyLinks`.
        var linkRows: [String: String] = [:]
        func save() {
            #expect(projection.dirtyLinks.isSubset(of: projection.dirtyPersons))
            for uid in projection.dirtyLinks {
                linkRows = linkRows.filter { $0.value != uid }
                for record in projection.persons[uid]?.records ?? [] { linkRows[record.link.source + "|" + record.link.subject] = uid }
            }
            projection.clearDirty()
            var truth: [String: String] = [:]
            for (uid, person) in projection.persons {
                for record in person.records { truth[record.link.source + "|" + record.link.subject] = uid }
            }
            #expect(linkRows == truth, "stored links differ after lsn \(projection.lsn)")
        }
        for (index, event) in log.enumerated() {
            projection.apply(event)
            // The daemon saves and clears the dirty sets (and the view cache) after each batch.
            if index % 37 == 36 || index == log.count - 1 { save() }
            if index % 50 == 49 || index == log.count - 1 { Self.expectConsistent(projection, after: event.lsn) }
        }
    }

    @Test func dropsTheViewCacheWithTheDirtySets() throws {
        let log = try Self.townLog(residents: 30)
        var projection = Projection()
        for event in log.prefix(40) { projection.apply(event) }
        #expect(!projection.viewCache.isEmpty)
        projection.clearDirty()
        #expect(projection.viewCache.isEmpty)
        projection.apply(log[40])
        projection.dropViewCache()
        #expect(projection.viewCache.isEmpty)
        Self.expectConsistent(projection, after: 41)
        // As a rebuild runs: no view is kept, however many events, and the state is the same.
        var rebuilding = Projection()
        rebuilding.cachesViews = false
        for event in log.prefix(41) { rebuilding.apply(event) }
        #expect(rebuilding.viewCache.isEmpty)
        Self.expectConsistent(rebuilding, after: 41)
    }

    /// `profileFields` must list every view field `profile(of:)` reads: changing any other field of a
    /// person leaves the profile as it is (else the index would keep an outdated profile).
    @Test func profileDependsOnlyOnTheProfileFields() throws {
        let resident = SourceRecord(
            link: PersonLink(source: "resident", subject: "000000001"),
            identity: [
                "name": "山田 太郎", "name_kana": "ヤマダ タロウ", "birth_date": "1980-01-02", "sex": "male",
                "address": "東京都千代田区1-1", "postal_code": "100-0001", "household_no": "H1", "relationship": "世帯主",
                "my_number": "123456789018",
            ],
            facts: ["status": "active", "protected": false])
        let base = PersonRecord(uid: "U0000000001", lsn: 1, atenaNo: "000000001", records: [resident])
        var variants: [(String, PersonRecord)] = []
        var record = base
        record.records[0].identity["postal_code"] = "100-0002"
        variants.append(("postal_code", record))
        record = base
        record.records[0].identity["relationship"] = "世帯員"
        variants.append(("relationship", record))
        record = base
        record.records[0].identity["my_number"] = nil
        variants.append(("my_number", record))
        record = base
        record.records.append(SourceRecord(
            link: PersonLink(source: "tax", subject: "TX1"),
            facts: ["fiscal_year": 2025, "taxable": true, "income_levy": 1, "per_capita_levy": 2]))
        variants.append(("tax", record))
        record = base
        record.records.append(SourceRecord(
            link: PersonLink(source: "library", subject: "L1", method: "match", score: 0.95, reasons: ["name: 一致"]),
            facts: ["status": "active"]))
        variants.append(("library, links", record))
        record = base
        record.records.append(SourceRecord(link: PersonLink(source: "childcare", subject: "C1"), facts: ["status": "applied"]))
        variants.append(("childcare", record))
        record = base
        record.guardianOf = ["U0000000002"]
        variants.append(("guardian_of", record))
        let profile = Projection.profile(of: base)
        for (field, variant) in variants {
            let changed = Projection.viewFields(variant.viewWithoutVersion, base.viewWithoutVersion)
            #expect(!changed.isEmpty && changed.allSatisfy { !Projection.profileFields.contains($0) }, "\(field): \(changed)")
            #expect(Projection.profile(of: variant) == profile, "changing \(field) changed the match profile")
        }
    }
}

extension Projection {
    /// The view fields a person's match profile is made of (``profile(of:parts:)`` reads only these,
    /// and `merged_into`): ``PersonViewParts/FieldGroup/profile`` must compare exactly these, and
    /// changing any other field must leave the profile as it is.
    static let profileFields = [
        "uid", "merged_into", "status", "protected", "name", "name_kana", "birth_date", "sex", "address", "household_no",
    ]

    /// The view fields behind a person's part in their household record besides membership and
    /// linked sources: ``PersonViewParts/FieldGroup/household`` must compare exactly these.
    static let householdFields = ["protected", "tax"]

    /// Whether the two views differ (byte for byte) in any of `fields`: the reference the
    /// ``PersonViewParts`` comparisons are checked against.
    static func differ(_ old: JSONObject, _ new: JSONObject, in fields: [String]) -> Bool {
        fields.contains { field in
            switch (old[field], new[field]) {
            case (nil, nil): return false
            case (let a?, let b?): return !a.isByteIdentical(to: b)
            default: return true
            }
        }
    }

    /// The keys whose values differ between two views (byte for byte).
    static func viewFields(_ a: JSONObject, _ b: JSONObject) -> [String] {
        Set(a.keys + b.keys).sorted().filter { differ(a, b, in: [$0]) }
    }
}
