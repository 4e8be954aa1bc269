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

    /// The twins rule needs a twin: a given name that differs blocks the auto-link while someone
    /// else born that day shares the candidate's surname or address, and only then.
    @Test func theTwinsRuleHoldsWhileASiblingIsIndexed() {
        let record: JSONObject = ["name": "佐藤 陽奈子", "name_kana": "サトウ ヒナコ", "birth_date": "2015-03-03", "address": "新宿区西新宿2-8-1"]
        // With her twin 結菜 (uid 3) removed, 陽菜 has no sibling born that day: the differing given
        // name is weighed, not a bar (with the tuned defaults this pair scores below auto_link
        // anyway, so a low threshold shows the rule itself).
        var alone = index()
        alone.set(3, nil)
        let low = LinkingThresholds(autoLink: 0.5, review: 0.3)
        guard case .link(let candidate) = alone.decide(MatchProfile(identity: record), weights: .standard, thresholds: low, include: { _, _ in true }) else {
            Issue.record("without a sibling, a differing given name alone kept the record from its person")
            return
        }
        #expect(candidate.number == 2)
        #expect(candidate.comparison.givenDiffers)
        #expect(candidate.reasons.contains(MatchReasons.noSiblingNote))
        // With the twin indexed, the same record is a review with the twins note.
        guard case .review(let candidates) = index().decide(MatchProfile(identity: record), weights: .standard, thresholds: low, include: { _, _ in true })
        else {
            Issue.record("a twin was auto-linked")
            return
        }
        #expect(candidates.contains { $0.reasons.contains(MatchReasons.twinsNote) })
        // A sibling born another day, or at another address with another surname, is not a twin.
        var others = alone
        others.set(5, MatchProfile(identity: ["name": "佐藤 結菜", "name_kana": "サトウ ユイナ", "birth_date": "2016-03-03", "address": "東京都新宿区西新宿2丁目8番1号"], standing: .active))
        others.set(6, MatchProfile(identity: ["name": "田中 結菜", "name_kana": "タナカ ユイナ", "birth_date": "2015-03-03", "address": "東京都港区芝1-1-1"], standing: .active))
        if case .link = others.decide(MatchProfile(identity: record), weights: .standard, thresholds: low, include: { _, _ in true }) {} else {
            Issue.record("a sibling born another day, or a stranger born the same day, was taken for a twin")
        }
    }

    /// Latin-script names also block on their two longest words, and Latin addresses on their
    /// numbers: a record with a misspelt surname and a wrong birth date is still compared.
    @Test func latinRecordsBlockOnWordsAndAddressNumbers() {
        var index = MatchIndex()
        index.set(1, MatchProfile(identity: ["name": "chloe musolino", "birth_date": "1971-04-22", "address": "19 warrumbul street, gordonvale, 3782 nt"], standing: .active))
        let byWord = MatchProfile(identity: ["name": "Chloe Musoilno", "birth_date": "1917-04-22"])
        #expect(index.candidates(byWord) == [1])
        let byNumbers = MatchProfile(identity: ["name": "kloe mussolini", "address": "19 warumbul st, gordon vale, 3782"])
        #expect(index.candidates(byNumbers) == [1])
        let neither = MatchProfile(identity: ["name": "kloe mussolini", "birth_date": "1917-04-22", "address": "20 warrumbul street, 3782 nt"])
        #expect(index.candidates(neither).isEmpty)
        // Japanese addresses do not block on their numbers (1-1 is everywhere).
        index.set(2, MatchProfile(identity: ["name": "山田 花子", "address": "千代田区九段南1-1"], standing: .active))
        #expect(index.candidates(MatchProfile(identity: ["name": "鈴木 一郎", "address": "新宿区西新宿1-1"])).isEmpty)
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
