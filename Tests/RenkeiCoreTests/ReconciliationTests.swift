import RenkeiCore
import Testing

/// Reconciliation (突合, issue 17) on the projection: each check opens a finding when an event makes
/// a person fail it and resolves it when a later event makes them pass; explanations; ids; the
/// same findings and history whether saved after every event or once at the end (a rebuild).
@Suite struct ReconciliationTests {
    static func line(_ source: String, _ id: String, _ type: String, _ subject: String, _ data: JSONObject) -> String {
        JSONValue.object([
            "source": .string(source), "event_id": .string(id), "type": .string("\(source).\(type)"),
            "occurred_at": "2026-04-01T09:00:00+09:00", "subject": .string(subject), "data": .object(data),
        ]).serializedString
    }

    static func registered(_ atena: String, _ id: String, name: String, kana: String, birth: String, household: String,
                           relationship: String = "世帯主", address: String = "東京都千代田区九段南1丁目2番1号") -> String {
        line("resident", id, "registered", atena, [
            "reason": "move_in", "name": .string(name), "name_kana": .string(kana), "birth_date": .string(birth),
            "sex": "unknown", "address": .string(address), "household_no": .string(household),
            "relationship": .string(relationship),
        ])
    }

    static func patron(_ subject: String, _ id: String, name: String, kana: String, birth: String) -> String {
        line("library", id, "patron_registered", subject, [
            "name": .string(name), "name_kana": .string(kana), "birth_date": .string(birth),
            "address": "東京都千代田区九段南1丁目2番1号",
        ])
    }

    static func explained(_ id: String, check: String, finding: String, note: String) -> String {
        line("operator", id, "finding_explained", finding, [
            "check": .string(check), "finding_id": .string(finding), "note": .string(note),
        ])
    }

    var projection = Projection()
    var log: [LoggedEvent] = []

    mutating func apply(_ lines: String...) throws {
        for line in lines {
            let event = try EventLog.event(line, lsn: Int64(log.count + 1))
            log.append(event)
            projection.apply(event)
        }
    }

    func open(_ check: String) -> [ReconciliationFinding] {
        projection.reconciliation.openFindings.filter { $0.check == check }
    }

    func uid(_ source: String, _ subject: String) throws -> String {
        try #require(projection.uid(source: source, subject: subject))
    }

    @Test mutating func libraryCardOfADeceasedPersonOpensAndResolves() throws {
        try apply(
            Self.registered("000000001", "R1", name: "髙橋 一郎", kana: "タカハシ イチロウ", birth: "1950-06-12", household: "H1"),
            Self.patron("L1", "P1", name: "高橋 一郎", kana: "タカハシ イチロウ", birth: "1950-06-12"))
        let person = try uid("library", "L1")
        #expect(person == (try uid("resident", "000000001")))
        #expect(open("library_card_of_deceased").isEmpty)
        try apply(Self.line("resident", "R2", "died", "000000001", [:]))
        let finding = try #require(open("library_card_of_deceased").first)
        #expect(finding.uid == person && finding.subject == "library:L1" && finding.state == .open)
        #expect(finding.id == ReconciliationFinding.makeID(check: "library_card_of_deceased", uid: person, subject: "library:L1"))
        #expect(finding.facts["patron_no"] == "L1" && finding.facts["status"] == "deceased")
        #expect(finding.facts["address"] == "東京都千代田区九段南1丁目2番1号")
        #expect(finding.sinceLSN == 3)
        try apply(Self.line("library", "P2", "patron_withdrawn", "L1", [:]))
        #expect(open("library_card_of_deceased").isEmpty)
        #expect(projection.reconciliation.pendingHistory.map(\.kind) == [.opened, .resolved])
    }

    @Test mutating func childcareAfterDepartureAndGuardianApart() throws {
        try apply(
            Self.registered("000000001", "R1", name: "山田 太郎", kana: "ヤマダ タロウ", birth: "1985-01-01", household: "H1"),
            Self.registered("000000002", "R2", name: "山田 花", kana: "ヤマダ ハナ", birth: "2022-01-01", household: "H2"),
            Self.line("childcare", "C1", "applied", "CH-1", [
                "child": ["atena_no": "000000002", "name": "山田 花", "birth_date": "2022-01-01"],
                "guardians": [["atena_no": "000000001", "name": "山田 太郎"]], "preferred_facilities": ["F-1"],
            ]))
        let guardian = try uid("resident", "000000001")
        let child = try uid("resident", "000000002")
        let apart = try #require(open("guardian_child_apart").first)
        #expect(apart.uid == guardian && apart.subject == "child:" + child)
        #expect(apart.facts["child"]?["household_no"] == "H2" && apart.facts["household_no"] == "H1")
        // The child joins the guardian's household: the guardian's finding resolves (a dependent).
        try apply(Self.line("resident", "R3", "household_changed", "000000002", ["household_no": "H1", "relationship": "子"]))
        #expect(open("guardian_child_apart").isEmpty)
        #expect(open("childcare_after_departure").isEmpty)
        try apply(Self.line("resident", "R4", "moved_out", "000000002", [:]))
        let departed = try #require(open("childcare_after_departure").first)
        #expect(departed.uid == child && departed.facts["childcare_status"] == "applied")
        #expect(departed.facts["registry_status"] == "moved_out")
        try apply(Self.line("childcare", "C2", "withdrawn", "CH-1", ["end_date": "2026-05-01"]))
        #expect(open("childcare_after_departure").isEmpty)
    }

    @Test mutating func taxWithoutRegistryButNotForAJutogaiTaxpayer() throws {
        try apply(
            Self.line("tax", "T1", "assessed", "TX-1", [
                "fiscal_year": 2026, "taxable": true, "income_levy": 100, "per_capita_levy": 5000, "atena_no": "000000009",
            ]),
            Self.line("tax", "T2", "assessed", "TX-2", [
                "fiscal_year": 2026, "taxable": true, "income_levy": 100, "per_capita_levy": 5000,
                "name": "住登外 次郎", "birth_date": "1970-01-01", "address": "大阪府大阪市北区1-1",
            ]))
        let findings = open("tax_without_registry")
        #expect(findings.map(\.subject) == ["tax:TX-1"])
        #expect(findings.first?.facts["atena_no"] == "000000009")
        try apply(Self.registered("000000009", "R1", name: "税 太郎", kana: "ゼイ タロウ", birth: "1960-01-01", household: "H9"))
        #expect(open("tax_without_registry").isEmpty)
    }

    @Test mutating func duplicateRegistrationAndItsExplanation() throws {
        try apply(
            Self.registered("000000001", "R1", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03", household: "H1"),
            Self.patron("L1", "P1", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03"),
            Self.patron("L2", "P2", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03"))
        let finding = try #require(open("duplicate_registration").first)
        #expect(finding.facts["subjects"] == ["L1", "L2"])
        // An explanation of another check's id, or of an unknown id, changes nothing.
        try apply(Self.explained("O1", check: "library_card_of_deceased", finding: finding.id, note: "x"))
        #expect(open("duplicate_registration").first?.state == .open)
        try apply(Self.explained("O2", check: "duplicate_registration", finding: finding.id, note: "家族カードとして発行済み"))
        let explained = try #require(open("duplicate_registration").first)
        #expect(explained.state == .explained && explained.explanation?.note == "家族カードとして発行済み")
        #expect(explained.explanation?.lsn == 5)
        #expect(projection.reconciliationCounts.first { $0.check == "duplicate_registration" }.map { [$0.open, $0.explained] } == [0, 1])
        // Withdrawing one card resolves it; registering it again opens it afresh (not explained).
        try apply(Self.line("library", "P3", "patron_withdrawn", "L2", [:]))
        #expect(open("duplicate_registration").isEmpty)
        try apply(Self.patron("L3", "P5", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03"))
        let reopened = try #require(open("duplicate_registration").first)
        #expect(reopened.id == finding.id && reopened.state == .open && reopened.explanation == nil)
        #expect(reopened.facts["subjects"] == ["L1", "L3"])
    }

    @Test mutating func aProtectedPersonsFindingHasNoAddress() throws {
        try apply(
            Self.registered("000000001", "R1", name: "保護 花子", kana: "ホゴ ハナコ", birth: "1980-08-08", household: "H1"),
            Self.patron("L1", "P1", name: "保護 花子", kana: "ホゴ ハナコ", birth: "1980-08-08"),
            Self.line("resident", "R2", "protection_changed", "000000001", ["protected": true]),
            Self.line("resident", "R3", "died", "000000001", [:]))
        let finding = try #require(open("library_card_of_deceased").first)
        #expect(finding.facts["address"] == nil && finding.facts["protected"] == true)
        #expect(!JSONValue.object(finding.json).serializedString.contains("九段南"))
        // A finding stored before protection is withheld when answered.
        var old = finding
        old.facts["address"] = "東京都千代田区九段南1丁目2番1号"
        old.facts["child"] = ["uid": "U0000000009", "household_no": "H9"]
        let shown = old.withholdingProtected { $0 == finding.uid || $0 == "U0000000009" }
        #expect(!JSONValue.object(shown.json).serializedString.contains("九段南"))
        #expect(shown.facts["child"]?["household_no"] == nil && shown.facts["child"]?["protected"] == true)
    }

    /// Saved after every event (the daemon) or once at the end (a rebuild), and restored from what
    /// was saved: the same rows and the same history.
    @Test mutating func savingPerEventOrOnceGivesTheSameRecord() throws {
        try apply(
            Self.registered("000000001", "R1", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03", household: "H1"),
            Self.patron("L1", "P1", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03"),
            Self.patron("L2", "P2", name: "鈴木 一", kana: "スズキ ハジメ", birth: "1975-03-03"),
            Self.line("resident", "R2", "died", "000000001", [:]),
            Self.line("library", "P3", "patron_withdrawn", "L2", [:]))
        let id = try #require(projection.reconciliation.openFindings.first { $0.check == "library_card_of_deceased" }?.id)
        let later = [
            Self.explained("O1", check: "library_card_of_deceased", finding: id, note: "遺族に返却依頼済み"),
            Self.line("library", "P4", "patron_withdrawn", "L1", [:]),
        ]
        var all = log
        for line in later { all.append(try EventLog.event(line, lsn: Int64(all.count + 1))) }

        var rows: [String: ReconciliationFinding] = [:]
        var history: [ReconciliationHistoryEntry] = []
        func save(_ projection: inout Projection) {
            for id in projection.reconciliation.dirty { rows[id] = projection.reconciliation.stored(id) }
            history += projection.reconciliation.pendingHistory
            projection.clearDirty()
        }
        // Event by event, restoring from the saved rows halfway.
        var live = Projection()
        for event in all.prefix(4) {
            live.apply(event)
            save(&live)
        }
        live = Projection(
            restoring: (1...live.personCount).compactMap { live.personRecord(Projection.formatUID(Int64($0))) },
            households: [], meta: live.meta, findings: Array(rows.values))
        for event in all.dropFirst(4) {
            live.apply(event)
            save(&live)
        }
        let liveRows = rows
        let liveHistory = history
        rows = [:]
        history = []
        var rebuilt = Projection()
        rebuilt.cachesViews = false
        for event in all { rebuilt.apply(event) }
        save(&rebuilt)
        #expect(rows == liveRows)
        #expect(history.sorted { ($0.findingID, $0.lsn) < ($1.findingID, $1.lsn) }
            == liveHistory.sorted { ($0.findingID, $0.lsn) < ($1.findingID, $1.lsn) })
        #expect(liveHistory.filter { $0.findingID == id }.map(\.kind) == [.opened, .explained, .resolved])
        #expect(rows[id]?.state == .resolved && rows[id]?.explanation?.note == "遺族に返却依頼済み")
    }

    @Test func idsAreStableAndDistinct() {
        let a = ReconciliationFinding.makeID(check: "duplicate_registration", uid: "U0000000001", subject: "source:library")
        #expect(a == ReconciliationFinding.makeID(check: "duplicate_registration", uid: "U0000000001", subject: "source:library"))
        #expect(a != ReconciliationFinding.makeID(check: "duplicate_registration", uid: "U0000000002", subject: "source:library"))
        #expect(a.count == 17 && a.hasPrefix("F"))
    }
}
