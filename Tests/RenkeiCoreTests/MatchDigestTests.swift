import Testing

@testable import RenkeiCore

/// The digests that dismiss candidates before their signatures are read: a candidate may only be
/// dismissed when the full comparison would not keep it, so no decision can change. Checked
/// against the full comparison (the reference model) on random near pairs under random weights,
/// and on a synthetic town under the standard weights.
@Suite struct MatchDigestTests {
    typealias Random = MatchIndexStructureTests.Random

    // MARK: - Random near pairs

    /// Small vocabularies, so that random identities often share or nearly share a field: 旧字体
    /// and 異体字, spaces, Latin case and order, half-width and hiragana kana, near dates.
    static let surnames = ["高橋", "髙橋", "渡辺", "渡邊", "山崎", "山﨑", "斉藤", "齋藤", "NGUYEN", "Nguyen"]
    static let givens = ["一郎", "一朗", "陽菜", "結菜", "陽奈子", "Van Anh", "VAN ANH", "Anh"]
    static let kanaSurnames = ["タカハシ", "ﾀｶﾊｼ", "たかはし", "タカバシ", "ワタナベ", "ワタナヘ", "ヤマザキ", "ヤマサキ", "サイトウ", "サイトー"]
    static let kanaGivens = ["イチロウ", "イチロー", "ヒナ", "ﾋﾅ", "ユイナ", "ヒナコ", "いちろう"]
    static let dates = ["1985-06-12", "1985-12-06", "1985-06-21", "1985-06-13", "1958-06-12", "2015-03-03", "19850612", "1985-06"]
    static let addresses = [
        "東京都千代田区九段南1丁目2番1号", "千代田区九段南１－２－１", "東京都千代田区九段南1-2-3", "東京都新宿区西新宿2丁目8番1号",
        "新宿区西新宿2-8-1", "大阪府大阪市北区1-1",
    ]

    static func identity(_ random: inout Random) -> JSONObject {
        var identity = JSONObject()
        func pick(_ values: [String]) -> String { values[random.next(values.count)] }
        if random.next(8) != 0 {
            let space = [" ", "", "\u{3000}"][random.next(3)]
            identity["name"] = .string(random.next(6) == 0 ? pick(givens) + " " + pick(surnames) : pick(surnames) + space + pick(givens))
        }
        if random.next(5) != 0 {
            identity["name_kana"] = .string(pick(kanaSurnames) + (random.next(4) == 0 ? "" : " ") + pick(kanaGivens))
        }
        if random.next(8) != 0 { identity["birth_date"] = .string(pick(dates)) }
        if random.next(3) != 0 { identity["sex"] = .string(random.next(2) == 0 ? "male" : "female") }
        if random.next(6) != 0 { identity["address"] = .string(pick(addresses)) }
        return identity
    }

    /// Weights of any sign and order, fractions that round, and the standard ones.
    static func weights(_ random: inout Random) -> MatchWeights {
        guard random.next(4) != 0 else { return .standard }
        let rows = MatchField.allCases.map { _ in
            AgreementLevel.allCases.map { _ in Double(random.next(241)) / 10 - 12 }
        }
        var weights = MatchWeights(weights: rows, prior: -Double(random.next(200)) / 10, sameHousehold: Double(random.next(161)) / 10 - 4)
        weights.namesCombined = random.next(2) == 0  // estimated weights count the stronger of name and kana
        return weights
    }

    static let reviews: [Double] = [0, 0.3, 0.5, 0.75, 0.9, 0.92, 0.999, 1]

    @Test func theBoundIsNeverBelowTheComparisonAndKeepsEveryCandidateTheDecisionWould() {
        var random = Random(state: 23)
        var dismissed = 0
        var kept = 0
        for _ in 0..<3_000 {
            let weights = Self.weights(&random)
            let thresholds = LinkingThresholds(autoLink: 0.92, review: Self.reviews[random.next(Self.reviews.count)])
            let record = MatchProfile(identity: Self.identity(&random))
            let household: String? = random.next(3) == 0 ? "H1" : nil
            let bound = MatchDigest.Bound(record.signature, weights: weights, thresholds: thresholds, household: household)
            for _ in 0..<20 {
                let candidate = MatchProfile(identity: Self.identity(&random), standing: .active)
                let digest = MatchDigest(candidate.signature)
                for quick in [true, false] {
                    let same = household != nil && random.next(2) == 0
                    let comparison = MatchComparison(record, candidate, weights: weights, sameHousehold: same, quick: quick)
                    #expect(bound.total(digest) >= comparison.total, "\(record.name) / \(candidate.name)")
                    let keeps = comparison.score >= thresholds.review || comparison.total > bound.cutoff
                    if keeps {
                        kept += 1
                        #expect(bound.mayMatter(digest), "dismissed a pair the decision keeps: \(record.name) / \(candidate.name)")
                    } else if !bound.mayMatter(digest) {
                        dismissed += 1
                    }
                }
            }
        }
        #expect(kept > 10_000 && dismissed > 10_000, "the generator should give both kinds: \(kept) kept, \(dismissed) dismissed")
    }

    @Test func theReviewCeilingLeavesEveryReviewScoreAbove() {
        for review in Self.reviews + [0.75 + 1e-12, 0.0001] {
            let ceiling = MatchDigest.Bound.reviewCeiling(review)
            guard ceiling.isFinite else { continue }
            #expect(MatchWeights.score(ceiling) < review, "review \(review), ceiling \(ceiling)")
            #expect(MatchWeights.score(ceiling + 3) >= review || review < 0.01, "the ceiling should not be far below: \(review)")
        }
        #expect(MatchDigest.Bound.reviewCeiling(0) == -.infinity)
        #expect(MatchDigest.Bound.reviewCeiling(1) == .infinity)
    }

    @Test func datesSurviveTheNibbleRoundTrip() {
        var random = Random(state: 3)
        for _ in 0..<10_000 {
            let text = (0..<8).map { _ in String(random.next(10)) }.joined()
            let packed = MatchProfile.packedDate(text)
            #expect(MatchDigest.packedDate(MatchDigest.nibbles(packed)) == packed, "\(text)")
        }
        #expect(MatchDigest(MatchSignature()).birthDate == .max, "a missing date is no date")
    }

    @Test func foldedSketchesNeverRuleOutWhatTheFullSketchAllows() {
        var random = Random(state: 19)
        for _ in 0..<20_000 {
            var a = MatchSignature.Sketch()
            var b = MatchSignature.Sketch()
            a.count = UInt16(random.next(300))
            b.count = UInt16(max(0, Int(a.count) + random.next(5) - 2))
            a.bits = UInt64(random.next(1 << 30)) << 34 | UInt64(random.next(1 << 30))
            b.bits = a.bits
            for _ in 0..<random.next(4) { b.bits ^= 1 << UInt64(random.next(64)) }
            guard a.mayBeOneEditFrom(b) else { continue }
            #expect(
                MatchDigest.mayBeOneEdit(
                    UInt32(min(a.count, 255)), UInt32(MatchDigest.fold(a.bits)), UInt32(min(b.count, 255)),
                    UInt32(MatchDigest.fold(b.bits))))
        }
    }

    // MARK: - A synthetic town

    @Test func inASyntheticTownNoDismissedCandidateWouldBeKept() {
        var population = SyntheticPopulation(residents: 20_000)
        let records = population.records(count: 2_000)
        var index = MatchIndex()
        for (number, resident) in population.residents.enumerated() {
            index.set(number + 1, MatchProfile(identity: resident.identity, standing: .active, household: resident.household))
        }
        let thresholds = LinkingThresholds()
        var blocked = 0
        var compared = 0
        for record in records {
            let profile = MatchProfile(identity: record.identity)
            let all = index.candidates(profile)
            let full = index.candidates(profile, weights: .standard, thresholds: thresholds)
            blocked += all.count
            compared += full.count
            #expect(Set(full).isSubset(of: all))
            for number in Set(all).subtracting(full) {
                let comparison = MatchComparison(profile, index.profile(number)!, weights: .standard)
                #expect(comparison.score < thresholds.review && comparison.total <= MatchWeights.standard.prior + MatchIndex.keptAbovePrior)
            }
        }
        #expect(compared * 2 < blocked, "most candidates should be dismissed: \(compared) of \(blocked)")
    }
}
