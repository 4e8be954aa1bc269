import RenkeiCore
import Testing

/// Municipality scoping (issue 16): two municipalities on one daemon never share a 宛名番号, a
/// household or a link; the home municipality's views are exactly those of a daemon without scoping.
@Suite struct ProjectionMunicipalityTests {
    static func resident(_ atena: String, id: String, municipality: String?, name: String, household: String = "H1") -> String {
        let code = municipality.map { #","municipality":"\#($0)""# } ?? ""
        return #"{"source":"resident","event_id":"\#(id)","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(atena)"\#(code),"data":{"reason":"move_in","name":"\#(name)","birth_date":"1980-01-01","sex":"female","address":"東京都千代田区1-1","household_no":"\#(household)","relationship":"世帯主"}}"#
    }

    static func tax(_ subject: String, id: String, atena: String, municipality: String?, taxable: Bool) -> String {
        let code = municipality.map { #","municipality":"\#($0)""# } ?? ""
        return #"{"source":"tax","event_id":"\#(id)","type":"tax.assessed","occurred_at":"2026-06-01T08:00:00+09:00","subject":"\#(subject)"\#(code),"data":{"fiscal_year":2026,"taxable":\#(taxable),"income_levy":100,"per_capita_levy":5000,"atena_no":"\#(atena)"}}"#
    }

    static func project(_ lines: [String], home: String?) throws -> Projection {
        var projection = Projection()
        projection.homeMunicipality = home
        for (index, line) in lines.enumerated() { projection.apply(try EventLog.event(line, lsn: Int64(index + 1))) }
        return projection
    }

    @Test func twoMunicipalitiesKeepTheirNumbersApart() throws {
        let projection = try Self.project([
            Self.resident("000000001", id: "R1", municipality: "131016", name: "山田 花子"),
            Self.resident("000000001", id: "R1", municipality: "272108", name: "佐藤 良子"),
            Self.tax("T1", id: "T1", atena: "000000001", municipality: "272108", taxable: false),
            Self.tax("T1", id: "T2", atena: "000000001", municipality: nil, taxable: true),
        ], home: "131016")
        #expect(projection.personCount == 2)
        #expect(projection.uid(atenaNo: "000000001") == "U0000000001")
        #expect(projection.uid(atenaNo: "272108:000000001") == "U0000000002")
        #expect(projection.uid(source: "resident", subject: "272108:000000001") == "U0000000002")
        #expect(projection.uid(source: "tax", subject: "272108:T1") == "U0000000002")
        #expect(projection.uid(source: "tax", subject: "T1") == "U0000000001")
        let other = try #require(projection.personView("U0000000002"))
        #expect(other.text("name") == #""佐藤 良子""#)
        #expect(other.text("household_no") == #""272108:H1""#)
        #expect(other["tax"]?["taxable"] == false)
        #expect(projection.personView("U0000000001")?["tax"]?["taxable"] == true)
        #expect(projection.householdView("H1")?.text("members") == #"["U0000000001"]"#)
        #expect(projection.householdView("272108:H1")?.text("members") == #"["U0000000002"]"#)
        #expect(projection.householdView("272108:H1")?["all_members_tax_exempt"] == true)
    }

    @Test func theHomeMunicipalityReadsAsBefore() throws {
        // The same log with the home code filled in (as ingest now does) and without it (as logged
        // before), and a projection that scopes nothing: byte-identical views and households.
        let filled = [
            Self.resident("000000001", id: "R1", municipality: "131016", name: "山田 花子"),
            Self.tax("T1", id: "T1", atena: "000000001", municipality: "131016", taxable: false),
        ]
        let bare = [
            Self.resident("000000001", id: "R1", municipality: nil, name: "山田 花子"),
            Self.tax("T1", id: "T1", atena: "000000001", municipality: nil, taxable: false),
        ]
        let scoped = try Self.project(filled, home: "131016")
        let unscoped = try Self.project(bare, home: nil)
        let old = try Self.project(bare, home: "131016")
        #expect(ProjectionRestoreTests.snapshot(old, households: ["H1"]) == ProjectionRestoreTests.snapshot(scoped, households: ["H1"]))
        // Without a configured code and without one in the events, the view says it does not know;
        // everything else is the same.
        #expect(scoped.personView("U0000000001")?["municipality"] == "131016")
        #expect(unscoped.personView("U0000000001")?["municipality"] == .null)
        var withoutCode = try #require(scoped.personView("U0000000001"))
        withoutCode["municipality"] = .null
        #expect(JSONValue.object(withoutCode).serializedString == JSONValue.object(try #require(unscoped.personView("U0000000001"))).serializedString)
        var household = try #require(scoped.householdView("H1"))
        #expect(household["municipality"] == "131016" && unscoped.householdView("H1")?["municipality"] == .null)
        household["municipality"] = .null
        #expect(unscoped.householdView("H1") == household)
    }

    @Test func viewsCarryTheCodeTheirRecordsWereAcceptedUnder() throws {
        let library = #"{"source":"library","event_id":"L1","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"L-1","municipality":"272108","data":{"name":"鈴木 一郎","birth_date":"1970-03-03","address":"大阪府東大阪市1-1"}}"#
        let projection = try Self.project([
            Self.resident("000000001", id: "R1", municipality: nil, name: "山田 花子"),
            Self.resident("000000001", id: "R1", municipality: "272108", name: "佐藤 良子"),
            Self.tax("T1", id: "T1", atena: "000000001", municipality: "272108", taxable: false),
            library,
        ], home: "131016")
        #expect(projection.personView("U0000000001")?["municipality"] == "131016")  // logged without: the home code
        #expect(projection.personView("U0000000002")?["municipality"] == "272108")  // its registry record's
        #expect(projection.personView("U0000000003")?["municipality"] == "272108")  // unregistered: its first record's
        #expect(Array(try #require(projection.personView("U0000000002")).keys.prefix(3)) == ["uid", "municipality", "status"])
        #expect(projection.householdView("H1")?["municipality"] == "131016")
        #expect(projection.householdView("272108:H1")?["municipality"] == "272108")
        let household = try #require(projection.householdRecord("272108:H1"))
        #expect(try HouseholdRecord(decoding: household.encoded) == household)
        // Stored and restored, the records keep their codes.
        let record = try #require(projection.personRecord("U0000000002"))
        let restored = try PersonRecord(decoding: record.encoded)
        #expect(restored.records.map(\.municipality) == ["272108", "272108"])
        #expect(restored.view == record.view)
    }
}
