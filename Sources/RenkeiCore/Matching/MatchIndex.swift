/// The blocking index (contract §3 step 2): every person's ``MatchProfile`` by uid number, and
/// for each blocking key (birth date, weak kana, folded name) the uid numbers that have it. A new
/// record is compared with the people who share a key, never with everyone.
public struct MatchIndex: Sendable {
    /// One candidate the decision weighed.
    public struct Candidate: Sendable, Hashable {
        /// The candidate's uid number.
        public var number: Int
        /// The comparison.
        public var comparison: MatchComparison
        /// Reasons, worded for an official.
        public var reasons: [String]
    }

    /// What to do with a record.
    public enum Decision: Sendable, Hashable {
        /// Link to this candidate (score ≥ auto_link, unambiguous, given names agree).
        case link(Candidate)
        /// Raise a review item with these candidates (best first).
        case review([Candidate])
        /// No candidate reaches `review`.
        case none
    }

    private var profiles: ContiguousArray<MatchProfile> = []
    private var present: [Bool] = []
    /// Record numbers per blocking key. Sets, so that an update is O(1) however common the key.
    private var blocks: [UInt64: Set<UInt32>] = [:]

    /// A blocking key shared by more records than this (a very common kana reading such as サトウ
    /// ハナコ, or a placeholder birth date) is too unselective to block on: comparing against all of
    /// them would make each new record cost O(n). Such a block is skipped when gathering candidates;
    /// the record's other keys (birth date, folded name) still find its true matches.
    public static let maximumBlockSize = 500
    /// Number of profiles held.
    public private(set) var count = 0

    /// An empty index.
    public init() {}

    /// The profile of a uid number, if indexed.
    public func profile(_ number: Int) -> MatchProfile? {
        number < profiles.count && present[number] ? profiles[number] : nil
    }

    /// Puts (or replaces, or with `nil` removes) the profile of a uid number.
    public mutating func set(_ number: Int, _ profile: MatchProfile?) {
        if number >= profiles.count {
            let grow = Swift.max(number + 1 - profiles.count, profiles.count / 2)
            profiles.append(contentsOf: repeatElement(MatchProfile(), count: grow))
            present.append(contentsOf: repeatElement(false, count: grow))
        }
        if present[number] {
            let old = profiles[number]
            if let profile, profile == old { return }
            for key in old.blockingKeys {
                blocks[key]?.remove(UInt32(number))
                if blocks[key]?.isEmpty == true { blocks[key] = nil }
            }
            count -= 1
        }
        present[number] = profile != nil
        profiles[number] = profile ?? MatchProfile()
        guard let profile else { return }
        count += 1
        for key in profile.blockingKeys {
            blocks[key, default: []].insert(UInt32(number))
        }
    }

    /// The uid numbers sharing a blocking key with `profile`, ascending, without duplicates.
    public func candidates(_ profile: MatchProfile) -> [Int] {
        var found: [Int] = []
        for key in profile.blockingKeys {
            guard let list = blocks[key], list.count <= Self.maximumBlockSize else { continue }
            for number in list { found.append(Int(number)) }
        }
        found.sort()
        var unique: [Int] = []
        unique.reserveCapacity(found.count)
        for number in found where unique.last != number { unique.append(number) }
        return unique
    }

    /// Scores `profile` against its candidates and decides.
    /// - Parameters:
    ///   - profile: the record's profile.
    ///   - weights: field weights.
    ///   - thresholds: `auto_link`, `review` and the ambiguity margin.
    ///   - household: a household whose members get the same-household weight (guardians).
    ///   - maxReview: at most this many candidates in a review item.
    ///   - include: which candidates (uid number, standing) may be considered (e.g. unregistered only).
    public func decide(
        _ profile: MatchProfile, weights: MatchWeights, thresholds: LinkingThresholds, household: String? = nil,
        maxReview: Int = 5, include: (Int, MatchProfile.Standing) -> Bool
    ) -> Decision {
        guard !profile.isEmpty else { return .none }
        var scored: [(number: Int, comparison: MatchComparison)] = []
        for number in candidates(profile) {
            guard present[number], include(number, profiles[number].standing) else { continue }
            let same = household != nil && profiles[number].household == household
            let comparison = MatchComparison(profile, profiles[number], weights: weights, sameHousehold: same)
            if comparison.score >= thresholds.review || comparison.total > weights.prior + 8 {
                scored.append((number, comparison))
            }
        }
        scored.sort { $0.comparison.total != $1.comparison.total ? $0.comparison.total > $1.comparison.total : $0.number < $1.number }
        guard let best = scored.first, best.comparison.score >= thresholds.review else { return .none }
        let second = scored.dropFirst().first
        let ambiguous = second.map { best.comparison.total - $0.comparison.total < thresholds.margin } ?? false
        if best.comparison.score >= thresholds.autoLink && !best.comparison.givenDiffers && !ambiguous {
            let reasons = MatchReasons.reasons(best.comparison, record: profile, candidate: profiles[best.number])
            return .link(Candidate(number: best.number, comparison: best.comparison, reasons: reasons))
        }
        var review: [Candidate] = []
        for entry in scored.prefix(maxReview) where entry.comparison.score >= thresholds.review {
            var notes: [String] = []
            if entry.comparison.score >= thresholds.autoLink {
                if entry.comparison.givenDiffers { notes.append(MatchReasons.twinsNote) }
                if ambiguous { notes.append(MatchReasons.ambiguousNote) }
            }
            let reasons = MatchReasons.reasons(entry.comparison, record: profile, candidate: profiles[entry.number], notes: notes)
            review.append(Candidate(number: entry.number, comparison: entry.comparison, reasons: reasons))
        }
        return review.isEmpty ? .none : .review(review)
    }
}
