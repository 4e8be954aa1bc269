import RenkeiCore
import Testing

/// 通称 and 旧氏 compared as alternative names (issue 14): a record written under either links to
/// the resident, in either arrival order, and the reasons say which name matched.
@Suite struct ProjectionAlternativeNameTests: LoggedProjection {
    var projection = Projection()
    var nextLSN: Int64 = 1
    var log: [LoggedEvent] = []

    static let nguyen =
        #"{"reason":"move_in","name":"NGUYEN VAN AN","name_kana":"グエン ヴァン アン","name_alias":"中村 安","name_alias_kana":"ナカムラ ヤス","birth_date":"1990-01-02","sex":"male","address":"東京都千代田区九段南1丁目2番1号","household_no":"H1","relationship":"世帯主"}"#
    static let sato =
        #"{"reason":"move_in","name":"佐藤 花子","name_kana":"サトウ ハナコ","former_surname":"高橋","former_surname_kana":"タカハシ","birth_date":"1988-07-07","sex":"female","address":"東京都千代田区一番町5","household_no":"H2","relationship":"世帯主"}"#

    static func resident(_ atena: String, id: String, _ data: String) -> String {
        #"{"source":"resident","event_id":"\#(id)","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(atena)","data":\#(data)}"#
    }

    static func patron(_ subject: String, id: String, name: String, kana: String, birth: String, address: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":{"name":"\#(name)","name_kana":"\#(kana)","birth_date":"\#(birth)","address":"\#(address)"}}"#
    }

    static let aliasPatron = patron("LIB-1", id: "L1", name: "中村 安", kana: "ナカムラ ヤス", birth: "1990-01-02", address: "千代田区九段南１－２－１")
    static let maidenPatron = patron("LIB-2", id: "L2", name: "高橋 花子", kana: "タカハシ ハナコ", birth: "1988-07-07", address: "千代田区一番町５")

    @Test func theNewFieldsAreValidUnderTheSchemas() throws {
        for (type, data) in [
            ("resident.registered", Self.nguyen), ("resident.registered", Self.sato),
            ("resident.corrected", #"{"former_surname":"高橋"}"#),
            ("resident.name_changed", #"{"name":"佐藤 花子","former_surname":"高橋","name_alias":null}"#),
        ] {
            let envelope: JSONObject = [
                "source": "resident", "event_id": "R", "type": .string(type), "occurred_at": "2026-04-01T09:00:00+09:00",
                "subject": "000000001", "data": try JSONParser.parse(data),
            ]
            if case .failure(let rejection) = SchemaFixtures.validator.validate(value: .object(envelope), expectedSource: "resident") {
                Issue.record("\(type) rejected: \(rejection.description)")
            }
        }
    }

    @Test func theMatcherTakesTheBestNameAndSaysWhichMatched() throws {
        var index = MatchIndex()
        let resident = MatchProfile(identity: try JSONParser.parse(Self.nguyen).objectValue!, standing: .active)
        #expect(resident.alternatives.map(\.form) == [.alias])
        index.set(1, resident)
        let record = MatchProfile(identity: ["name": "中村 安", "name_kana": "ナカムラ ヤス", "birth_date": "1990-01-02", "address": "千代田区九段南1-2-1"])
        guard case .link(let candidate) = index.decide(record, weights: .standard, thresholds: LinkingThresholds(), include: { _, _ in true }) else {
            Issue.record("not linked")
            return
        }
        #expect(candidate.number == 1 && candidate.alternative == .alias)
        #expect(candidate.reasons.first == "name: 通称で比較 (compared with the registered alias, 通称) · 一致 (exact)")
        // The name itself still matches as before, with the plain reason.
        let byName = MatchProfile(identity: ["name": "Nguyen Van An", "birth_date": "1990-01-02", "address": "千代田区九段南1-2-1"])
        guard case .link(let plain) = index.decide(byName, weights: .standard, thresholds: LinkingThresholds(), include: { _, _ in true }) else {
            Issue.record("not linked by the name")
            return
        }
        #expect(plain.alternative == nil && plain.reasons.first == "name: 表記ゆれ 全角/半角・大文字/小文字・語順 (width, case or order)")
        // Removed with the person.
        index.set(1, nil)
        #expect(index.decide(record, weights: .standard, thresholds: LinkingThresholds(), include: { _, _ in true }) == .none)
    }

    @Test func theNameWithTheFormerSurnameKeepsTheGivenName() throws {
        let profile = MatchProfile(identity: try JSONParser.parse(Self.sato).objectValue!)
        let former = try #require(profile.alternatives.first)
        #expect(former.form == .formerSurname && former.profile.name == "高橋 花子" && former.profile.kana == "タカハシ ハナコ")
        // Without a given name to keep, no alternative.
        #expect(MatchProfile(identity: ["name": "佐藤", "former_surname": "高橋"]).alternatives.isEmpty)
    }

    @Test mutating func aPatronUnderTheAliasOrTheFormerSurnameLinks() throws {
        try apply(Self.resident("000000001", id: "R1", Self.nguyen))
        try apply(Self.resident("000000002", id: "R2", Self.sato))
        try apply(Self.aliasPatron)
        try apply(Self.maidenPatron)
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        #expect(projection.uid(source: "library", subject: "LIB-2") == "U0000000002")
        #expect(projection.openReviews.isEmpty)
        // The view is unchanged: the alternatives are the matcher's, not a view field.
        #expect(projection.personView("U0000000001")?["name_alias"] == nil)
        let rebuilt = self.rebuilt
        expectSamePersons(rebuilt)
    }

    @Test mutating func theOrderOfArrivalDoesNotMatter() throws {
        try apply(Self.aliasPatron)
        try apply(Self.maidenPatron)
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        try apply(Self.resident("000000001", id: "R1", Self.nguyen))
        try apply(Self.resident("000000002", id: "R2", Self.sato))
        #expect(projection.uid(source: "resident", subject: "000000001") == projection.uid(source: "library", subject: "LIB-1"))
        #expect(projection.uid(source: "resident", subject: "000000002") == projection.uid(source: "library", subject: "LIB-2"))
        #expect(projection.openReviews.isEmpty)
    }

    @Test mutating func withoutTheFieldsThePatronsStayApart() throws {
        var plain = try JSONParser.parse(Self.nguyen).objectValue!
        plain["name_alias"] = nil
        plain["name_alias_kana"] = nil
        try apply(Self.resident("000000001", id: "R1", JSONValue.object(plain).serializedString))
        try apply(Self.aliasPatron)
        #expect(projection.uid(source: "library", subject: "LIB-1") != "U0000000001")
    }

    @Test mutating func aNameChangeKeepsOrRemovesThem() throws {
        try apply(Self.resident("000000002", id: "R2", Self.sato))
        // The name changes; the 旧氏 is not mentioned, so it stays.
        try apply(#"{"source":"resident","event_id":"R3","type":"resident.name_changed","occurred_at":"2026-04-02T09:00:00+09:00","subject":"000000002","data":{"name":"佐藤 花子","name_kana":"サトウ ハナコ"}}"#)
        try apply(Self.maidenPatron)
        #expect(projection.uid(source: "library", subject: "LIB-2") == "U0000000001")
        // Removed (null): a second patron under the former surname no longer links.
        try apply(#"{"source":"resident","event_id":"R4","type":"resident.name_changed","occurred_at":"2026-04-04T09:00:00+09:00","subject":"000000002","data":{"name":"佐藤 花子","name_kana":"サトウ ハナコ","former_surname":null,"former_surname_kana":null}}"#)
        try apply(Self.patron("LIB-3", id: "L3", name: "高橋 花子", kana: "タカハシ ハナコ", birth: "1988-07-07", address: "千代田区一番町５"))
        #expect(projection.uid(source: "library", subject: "LIB-3") != "U0000000001")
    }
}
