import RenkeiCore
import Testing

/// Linking order, versions, status transitions and protection, on small hand-made logs.
@Suite struct ProjectionRulesTests {
    static func registered(
        _ atena: String, id: String, name: String = "山田 太郎", household: String = "H1", relationship: String = "世帯主",
        myNumber: String? = nil
    ) -> String {
        let number = myNumber.map { #","my_number":"\#($0)""# } ?? ""
        return #"{"source":"resident","event_id":"\#(id)","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(atena)","data":{"reason":"birth","name":"\#(name)","birth_date":"1990-01-01","sex":"male","address":"東京都千代田区1-1","postal_code":"100-0001","household_no":"\#(household)","relationship":"\#(relationship)"\#(number)}}"#
    }

    static func resident(_ atena: String, id: String, _ type: String, _ data: String) -> String {
        #"{"source":"resident","event_id":"\#(id)","type":"resident.\#(type)","occurred_at":"2026-04-02T09:00:00+09:00","subject":"\#(atena)","data":\#(data)}"#
    }

    static func tax(_ subject: String, id: String, atena: String, year: Int, taxable: Bool, type: String = "assessed") -> String {
        #"{"source":"tax","event_id":"\#(id)","type":"tax.\#(type)","occurred_at":"2026-06-01T08:00:00+09:00","subject":"\#(subject)","data":{"fiscal_year":\#(year),"taxable":\#(taxable),"income_levy":100,"per_capita_levy":5000,"atena_no":"\#(atena)"}}"#
    }

    var projection = Projection()
    var nextLSN: Int64 = 1

    @discardableResult
    mutating func apply(_ line: String) throws -> ProjectionEffect {
        defer { nextLSN += 1 }
        return projection.apply(try EventLog.event(line, lsn: nextLSN))
    }

    func view(_ uid: String) throws -> JSONObject { try #require(projection.personView(uid)) }

    // MARK: - Out of order

    @Test mutating func taxBeforeResidentReservesTheAtenaNumber() throws {
        let effect = try apply(Self.tax("TX-1", id: "T1", atena: "000000001", year: 2026, taxable: true))
        #expect(effect.persons == [.init(uid: "U0000000001", oldVersion: nil, newVersion: 1)])
        var person = try view("U0000000001")
        #expect(person.text("status") == #""unregistered""#)
        #expect(person.text("tax") == #"{"fiscal_year":2026,"taxable":true,"income_levy":100,"per_capita_levy":5000}"#)
        #expect(projection.uid(atenaNo: "000000001") == "U0000000001")

        let later = try apply(Self.registered("000000001", id: "R1"))
        #expect(later.persons == [.init(uid: "U0000000001", oldVersion: 1, newVersion: 2)])
        #expect(later.households == [.init(householdNo: "H1", oldVersion: nil, newVersion: 1)])
        person = try view("U0000000001")
        #expect(person.text("status") == #""active""#)
        #expect(
            person.text("links") == #"[{"source":"tax","subject":"TX-1","method":"key"},"#
                + #"{"source":"resident","subject":"000000001","method":"key"}]"#)
        #expect(projection.personCount == 1)
        // A later event of the known tax subject goes to the same uid.
        try apply(Self.tax("TX-1", id: "T2", atena: "000000001", year: 2027, taxable: false))
        #expect(try view("U0000000001")["tax"]?["fiscal_year"] == 2027)
        #expect(projection.householdView("H1")?["all_members_tax_exempt"] == true)
    }

    @Test mutating func guardianBeforeResidentIsReservedAndRegistryWinsIdentity() throws {
        let applied = #"{"source":"childcare","event_id":"EVENT_ID","type":"childcare.applied","occurred_at":"2026-06-10T14:00:00+09:00","subject":"CH-1","data":{"child":{"atena_no":"000000002","name":"山田 花","birth_date":"2022-01-01"},"guardians":[{"atena_no":"000000001","name":"山田 太郎"},{"name":"山田 母"}],"preferred_facilities":["F-1"]}}"#
        try apply(applied.split(separator: "EVENT_ID").joined(separator: "C1"))
        // Child U1 (reserved 000000002), guardian U2 (reserved 000000001); the unnamed guardian waits for matching.
        #expect(projection.personCount == 2)
        #expect(try view("U0000000002").text("guardian_of") == #"["U0000000001"]"#)
        #expect(try view("U0000000001").text("name") == #""山田 花""#)
        #expect(try view("U0000000001").text("childcare") == #"{"child_no":"CH-1","status":"applied","facility_code":null,"certification":null,"monthly_fee":null}"#)

        try apply(Self.registered("000000002", id: "R1", name: "山田 はな", relationship: "子"))
        try apply(Self.registered("000000001", id: "R2"))
        #expect(try view("U0000000001").text("name") == #""山田 はな""#)
        #expect(try view("U0000000001").text("status") == #""active""#)
        // Applying again relates no duplicate.
        try apply(applied.split(separator: "EVENT_ID").joined(separator: "C2"))
        #expect(try view("U0000000002").text("guardian_of") == #"["U0000000001"]"#)
        #expect(projection.householdView("H1")?.text("members") == #"["U0000000001","U0000000002"]"#)
    }

    // MARK: - Versions

    @Test mutating func eventsThatChangeNothingLeaveVersionAlone() throws {
        try apply(Self.registered("000000001", id: "R1"))
        try apply(Self.tax("TX-1", id: "T1", atena: "000000001", year: 2026, taxable: true))
        #expect(try view("U0000000001")["version"] == 2)
        // An older fiscal year arriving late does not replace the latest.
        let late = try apply(Self.tax("TX-1", id: "T0", atena: "000000001", year: 2025, taxable: false))
        #expect(late.isEmpty)
        // A correction giving the same values changes nothing.
        let same = try apply(Self.resident("000000001", id: "R2", "corrected", #"{"name":"山田 太郎"}"#))
        #expect(same.isEmpty)
        let person = try view("U0000000001")
        #expect(person["version"] == 2)
        #expect(person["lsn"] == 2)
        #expect(projection.lsn == 4)
        // An event at or below the projection lsn is ignored (already applied).
        let again = projection.apply(try EventLog.event(Self.resident("000000001", id: "R9", "died", "{}"), lsn: 3))
        #expect(again.isEmpty)
        #expect(try view("U0000000001").text("status") == #""active""#)
    }

    /// A `linked_to` subscriber sees only the members linked to its source, so a member gaining a
    /// source is a new household version: two different scoped views never share a delta id.
    @Test mutating func householdVersionFollowsTheSourcesOfItsMembers() throws {
        func applied(_ child: String, atena: String, id: String) -> String {
            #"{"source":"childcare","event_id":"\#(id)","type":"childcare.applied","occurred_at":"2026-06-10T14:00:00+09:00","subject":"\#(child)","data":{"child":{"atena_no":"\#(atena)","name":"山田 花","birth_date":"2022-01-01"},"guardians":[{"atena_no":"000000001","name":"山田 太郎"}],"preferred_facilities":["F-1"]}}"#
        }
        try apply(Self.registered("000000001", id: "R1"))
        try apply(Self.registered("000000002", id: "R2", name: "山田 花", relationship: "子"))
        try apply(Self.registered("000000003", id: "R3", name: "山田 葉", relationship: "子"))
        #expect(projection.householdView("H1")?["version"] == 3)

        let first = try apply(applied("CH-1", atena: "000000002", id: "C1"))
        #expect(first.households == [.init(householdNo: "H1", oldVersion: 3, newVersion: 4)])
        // Same members, same sources: no new version.
        let enrolled = try apply(#"{"source":"childcare","event_id":"C2","type":"childcare.enrolled","occurred_at":"2026-07-01T09:00:00+09:00","subject":"CH-1","data":{"facility_code":"F-1","start_date":"2026-08-01","certification":"3"}}"#)
        #expect(enrolled.households.isEmpty)
        // The second child's application brings a second member into a childcare subscriber's scope.
        let second = try apply(applied("CH-2", atena: "000000003", id: "C3"))
        #expect(second.households == [.init(householdNo: "H1", oldVersion: 4, newVersion: 5)])
        // A tax link that also flips exemption is one new version, not two.
        let taxed = try apply(Self.tax("TX-1", id: "T1", atena: "000000001", year: 2026, taxable: true))
        #expect(taxed.households == [.init(householdNo: "H1", oldVersion: 5, newVersion: 6)])
        #expect(projection.householdView("H1")?["lsn"] == 7)
    }

    @Test mutating func correctionToCompatibilityIdeographIsAChange() throws {
        try apply(Self.registered("000000001", id: "R1", name: "山崎 太郎"))
        let effect = try apply(Self.resident("000000001", id: "R2", "corrected", "{\"name\":\"山\u{FA11} 太郎\"}"))
        #expect(effect.persons == [.init(uid: "U0000000001", oldVersion: 1, newVersion: 2)])
        #expect(try view("U0000000001")["name"]?.stringValue?.unicodeScalars.map(\.value).contains(0xFA11) == true)
    }

    @Test mutating func taxCorrectionReplacesThatYear() throws {
        try apply(Self.registered("000000001", id: "R1"))
        try apply(Self.tax("TX-1", id: "T1", atena: "000000001", year: 2026, taxable: true))
        #expect(projection.householdView("H1")?["all_members_tax_exempt"] == false)
        let effect = try apply(Self.tax("TX-1", id: "T2", atena: "000000001", year: 2026, taxable: false, type: "corrected"))
        #expect(try view("U0000000001")["tax"]?["taxable"] == false)
        // H1: created (1), taxable assessment (2), correction to 非課税 (3).
        #expect(effect.households == [.init(householdNo: "H1", oldVersion: 2, newVersion: 3)])
        #expect(projection.householdView("H1")?["all_members_tax_exempt"] == true)
    }

    @Test mutating func householdWithoutAnyAssessmentIsNotFlaggedExempt() throws {
        try apply(Self.registered("000000001", id: "R1"))
        try apply(Self.registered("000000002", id: "R2", name: "山田 花子", relationship: "子"))
        // Nothing from the tax system yet: not a 非課税世帯 (a benefit must not go out on no data).
        #expect(projection.householdView("H1")?["all_members_tax_exempt"] == false)
        // The parent assessed 非課税; the child has no record (no income) and counts as exempt.
        try apply(Self.tax("TX-1", id: "T1", atena: "000000001", year: 2026, taxable: false))
        #expect(projection.householdView("H1")?["all_members_tax_exempt"] == true)
        try apply(Self.tax("TX-2", id: "T2", atena: "000000002", year: 2026, taxable: true))
        #expect(projection.householdView("H1")?["all_members_tax_exempt"] == false)
    }

    // MARK: - Status and households

    @Test mutating func residentTransitions() throws {
        try apply(Self.registered("000000001", id: "R1"))
        try apply(Self.registered("000000002", id: "R2", name: "山田 次郎", relationship: "子"))
        try apply(Self.resident("000000002", id: "R3", "name_changed", #"{"name":"田中 次郎","name_kana":"タナカ ジロウ"}"#))
        #expect(try view("U0000000002").text("name_kana") == #""タナカ ジロウ""#)
        let split = try apply(Self.resident("000000002", id: "R4", "household_changed", #"{"household_no":"H2","relationship":"世帯主"}"#))
        #expect(split.households.map(\.householdNo) == ["H1", "H2"])
        #expect(projection.householdView("H1")?.text("members") == #"["U0000000001"]"#)
        #expect(projection.householdView("H2")?.text("members") == #"["U0000000002"]"#)
        try apply(Self.resident("000000002", id: "R5", "moved", #"{"address":"東京都港区1-1","household_no":"H1","relationship":"子"}"#))
        #expect(try view("U0000000002").text("postal_code") == "null")
        #expect(projection.householdView("H2")?.text("members") == "[]")
        try apply(Self.resident("000000001", id: "R6", "died", "{}"))
        #expect(try view("U0000000001").text("status") == #""deceased""#)
        #expect(projection.householdView("H1")?.text("members") == #"["U0000000002"]"#)
    }

    @Test mutating func libraryAndChildcareStatuses() throws {
        try apply(#"{"source":"library","event_id":"L1","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-1","data":{"name":"佐藤 健","birth_date":"1979-09-09","address":"新宿区"}}"#)
        try apply(#"{"source":"library","event_id":"L2","type":"library.patron_updated","occurred_at":"2026-04-04T11:00:00+09:00","subject":"LIB-1","data":{"address":"渋谷区"}}"#)
        try apply(#"{"source":"library","event_id":"L3","type":"library.patron_withdrawn","occurred_at":"2026-04-05T11:00:00+09:00","subject":"LIB-1","data":{}}"#)
        let patron = try view("U0000000001")
        #expect(patron.text("address") == #""渋谷区""#)
        #expect(patron.text("library") == #"{"patron_no":"LIB-1","status":"withdrawn"}"#)
        #expect(patron["version"] == 3)

        try apply(#"{"source":"childcare","event_id":"C9","type":"childcare.withdrawn","occurred_at":"2026-07-01T09:00:00+09:00","subject":"CH-9","data":{"end_date":"2026-07-01"}}"#)
        #expect(try view("U0000000002").text("childcare") == #"{"child_no":"CH-9","status":"withdrawn","facility_code":null,"certification":null,"monthly_fee":null}"#)
    }

    // MARK: - Protection

    @Test mutating func protectedPersonAndHouseholdReplies() throws {
        try apply(Self.registered("000000001", id: "R1", myNumber: "123456789018"))
        try apply(Self.registered("000000002", id: "R2", name: "山田 花子", relationship: "妻"))
        try apply(Self.tax("TX-2", id: "T1", atena: "000000002", year: 2026, taxable: true))
        let effect = try apply(Self.resident("000000002", id: "R3", "protection_changed", #"{"protected":true}"#))
        // H1: created (1), second member (2), taxable member (3), protection changes the reply (4).
        #expect(effect.households == [.init(householdNo: "H1", oldVersion: 3, newVersion: 4)])

        let reply = try #require(projection.personReply("U0000000002"))
        #expect(reply["address"] == nil && reply["postal_code"] == nil && reply["household_no"] == nil)
        #expect(reply.text("withheld") == #"["address","postal_code","household_no"]"#)
        #expect(reply["protected"] == true)
        let revealed = try #require(projection.personReply("U0000000002", revealProtected: true))
        #expect(revealed.text("household_no") == #""H1""#)
        #expect(revealed["withheld"] == nil)

        let owner = try #require(projection.personReply("U0000000001"))
        #expect(owner["my_number_on_file"] == true)
        #expect(owner.keys.firstIndex(of: "my_number_on_file") == PersonRecord.viewFields.firstIndex(of: "my_number"))

        let household = try #require(projection.householdView("H1"))
        #expect(household.text("members") == #"["U0000000001"]"#)
        #expect(household["all_members_tax_exempt"] == false)  // the protected member is taxable and still counts
        #expect(projection.householdView("H1", revealProtected: true)?.text("members") == #"["U0000000001","U0000000002"]"#)

        try apply(Self.resident("000000002", id: "R4", "protection_changed", #"{"protected":false}"#))
        #expect(projection.personReply("U0000000002")?.text("address") == #""東京都千代田区1-1""#)
        #expect(projection.householdView("H1")?.text("members") == #"["U0000000001","U0000000002"]"#)
    }
}
