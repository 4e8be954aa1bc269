import RenkeiCore
import Testing

/// A small labelled set through the blocking index and the decision rules.
@Suite struct MatchingTests {
    static let residents: [JSONObject] = [
        ["name": "髙橋 一郎", "name_kana": "タカハシ イチロウ", "birth_date": "1985-06-12", "sex": "male",
         "address": "東京都千代田区九段南1丁目2番1号"],
        ["name": "佐藤 陽菜", "name_kana": "サトウ ヒナ", "birth_date": "2015-03-03", "sex": "female",
         "address": "東京都新宿区西新宿2丁目8番1号"],
        ["name": "佐藤 結菜", "name_kana": "サトウ ユイナ", "birth_date": "2015-03-03", "sex": "female",
         "address": "東京都新宿区西新宿2丁目8番1号"],
        ["name": "NGUYEN Van Anh", "birth_date": "1992-10-01", "sex": "female", "address": "東京都足立区千住1-1-1"],
    ]

    func index() -> MatchIndex {
        var index = MatchIndex()
        for (offset, identity) in Self.residents.enumerated() {
            index.set(offset + 1, MatchProfile(identity: identity, standing: .active, household: offset == 1 || offset == 2 ? "H2" : "H\(offset)"))
        }
        return index
    }

    func decide(_ identity: JSONObject) -> MatchIndex.Decision {
        index().decide(MatchProfile(identity: identity), weights: .standard, thresholds: LinkingThresholds()) { _, _ in true }
    }

    static let samePerson: [(JSONObject, Int)] = [
        (["name": "高橋 一郎", "name_kana": "ﾀｶﾊｼ ｲﾁﾛｳ", "birth_date": "1985-06-12", "address": "千代田区九段南１－２－１"], 1),
        (["name": "高橋一郎", "name_kana": "たかはし いちろう", "birth_date": "1985-06-12", "address": "大阪府大阪市北区1-1"], 1),
        (["name": "Anh Van NGUYEN", "birth_date": "1992-10-01", "address": "足立区千住1-1-1"], 4),
    ]

    @Test func linksTheSamePerson() {
        for (identity, expected) in Self.samePerson {
            guard case .link(let candidate) = decide(identity) else {
                Issue.record("not linked: \(JSONValue.object(identity).serializedString)")
                continue
            }
            #expect(candidate.number == expected)
            #expect(candidate.comparison.score >= 0.92 && candidate.comparison.score <= 0.999)
            #expect(!candidate.reasons.joined().contains("九段"))
        }
    }

    @Test func twinsAreNeverAutoLinked() {
        // Given name of neither twin, everything else agrees: at most a review.
        let decision = decide(["name": "佐藤 陽奈子", "name_kana": "サトウ ヒナコ", "birth_date": "2015-03-03", "address": "新宿区西新宿2-8-1"])
        if case .link = decision { Issue.record("a twin was auto-linked") }
        // The right twin by given name is linked, not the other.
        guard case .link(let candidate) = decide(["name": "佐藤 結菜", "name_kana": "サトウ ユイナ", "birth_date": "2015-03-03"]) else {
            Issue.record("twin not linked")
            return
        }
        #expect(candidate.number == 3)
    }

    @Test func strangersAreNotLinked() {
        #expect(decide(["name": "佐藤 健", "name_kana": "サトウ ケン", "birth_date": "1979-09-09", "address": "東京都新宿区西新宿2-8-1"]) == .none)
    }

    @Test func reasonsAreBilingualAndWithholdProtectedAddresses() {
        var index = MatchIndex()
        index.set(1, MatchProfile(identity: Self.residents[0], standing: .active, isProtected: true))
        let decision = index.decide(
            MatchProfile(identity: ["name": "高橋 一郎", "birth_date": "1985-06-12", "address": "千代田区九段南1-2-1"]),
            weights: .standard, thresholds: LinkingThresholds()) { _, _ in true }
        guard case .link(let candidate) = decision else {
            Issue.record("not linked")
            return
        }
        #expect(candidate.reasons.contains("name: 異体字 高/髙 (variant kanji)"))
        #expect(candidate.reasons.contains("birth_date: 一致 (exact)"))
        #expect(candidate.reasons.contains("address: 支援措置のため非表示 (withheld: protected person)"))
    }

    @Test func syntheticQuality() {
        var population = SyntheticPopulation(residents: 3000, seed: 5)
        let records = population.records(count: 300, seed: 9)
        var index = MatchIndex()
        for (offset, resident) in population.residents.enumerated() {
            index.set(offset + 1, MatchProfile(identity: resident.identity, standing: .active, household: resident.household))
        }
        var wrong = 0
        for record in records {
            if case .link(let candidate) = index.decide(
                MatchProfile(identity: record.identity), weights: .standard, thresholds: LinkingThresholds(), include: { _, _ in true })
            {
                if candidate.number != record.truth.map({ $0 + 1 }) { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }
}
