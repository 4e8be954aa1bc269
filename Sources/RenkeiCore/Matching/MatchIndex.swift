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
        /// The person's other name that scored best (通称, 旧氏), or `nil` for the name itself.
        public var alternative: MatchProfile.AlternativeName.Form? = nil
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

    /// Each uid number's profile, in three parallel arrays: the signature scoring reads for every
    /// candidate, and the household and scalar keys it reads rarely.
    private var signatures: ContiguousArray<MatchSignature> = []
    private var households: ContiguousArray<String?> = []
    private var keys: ContiguousArray<MatchKeys> = []
    private var present: [Bool] = []
    /// The uid numbers ``reserveCapacity(numbers:keys:)`` made room for.
    private var reserved = 0
    /// Record numbers per blocking key.
    private var blocks = BlockTable()
    /// The persons' other names (``MatchProfile/alternatives``), in an index of their own whose
    /// numbers are listed in ``alternativeOwners`` (empty, or one index: a struct cannot hold
    /// itself directly). Few people have one, so it stays small and costs the others nothing.
    private var alternativeIndex: [MatchIndex] = []
    /// Per number in ``alternativeIndex``: the uid number it belongs to and which name it is.
    private var alternativeOwners: [(owner: Int, form: MatchProfile.AlternativeName.Form)] = []
    /// The numbers in ``alternativeIndex`` of each uid number that has alternatives.
    private var alternativesOf: [Int: [Int]] = [:]
    /// Numbers in ``alternativeIndex`` free for reuse, lowest last.
    private var freeAlternatives: [Int] = []

    /// A blocking key shared by more records than this (a very common kana reading such as サトウ
    /// ハナコ, or a placeholder birth date) is too unselective to block on: comparing against all of
    /// them would make each new record cost O(n). Such a block is skipped when gathering candidates;
    /// the record's other keys (birth date, folded name) still find its true matches.
    public static let maximumBlockSize = 500
    /// A candidate whose total weight exceeds the prior by more than this is kept (as a possible
    /// runner-up that makes the best one ambiguous) even when its score is below `review`.
    static let keptAbovePrior = 8.0
    /// Number of profiles held.
    public private(set) var count = 0

    /// An empty index.
    public init() {}

    /// Makes room for uid numbers below `numbers` and `keys` blocking keys, so that loading a large
    /// population does not grow (and briefly double) the storage many times.
    public mutating func reserveCapacity(numbers: Int, keys: Int) {
        if numbers > present.count {
            reserved = Swift.max(reserved, numbers)
            signatures.reserveCapacity(numbers)
            households.reserveCapacity(numbers)
            self.keys.reserveCapacity(numbers)
            present.reserveCapacity(numbers)
        }
        blocks.reserveCapacity(keys: keys)
    }

    /// Whether someone else in the index was born the same day as `number` and shares its
    /// surname (as written or read) or its address: a sibling — a twin — a record whose given
    /// name differs from `number`'s may be. Reads the birth date's block (at most
    /// ``maximumBlockSize``; a larger block counts as holding a sibling).
    func hasSibling(_ number: Int) -> Bool {
        let person = signatures[number]
        guard person.birthDate != 0 else { return true }
        var found = false
        var listed = false
        blocks.forEach(in: person.dateBlockingKey, ifAtMost: Self.maximumBlockSize) { record, _ in
            listed = true
            let other = Int(record)
            guard !found, other != number, present[other] else { return }
            let s = signatures[other]
            found = s.birthDate == person.birthDate
                && (person.surname != 0 && s.surname == person.surname || person.kanaSurname != 0 && s.kanaSurname == person.kanaSurname
                    || person.addressHash != 0 && s.addressHash == person.addressHash)
        }
        return found || !listed
    }

    /// The profile of a uid number, if indexed.
    public func profile(_ number: Int) -> MatchProfile? {
        guard number < present.count && present[number] else { return nil }
        var profile = MatchProfile()
        profile.signature = signatures[number]
        profile.household = households[number]
        profile.keys = keys[number]
        return profile
    }

    /// Puts (or replaces, or with `nil` removes) the profile of a uid number, with its alternative
    /// names (``MatchProfile/alternatives``).
    public mutating func set(_ number: Int, _ profile: MatchProfile?) {
        if !(profile?.alternatives.isEmpty ?? true) || alternativesOf[number] != nil {
            setAlternatives(number, profile?.alternatives ?? [])
        }
        if number >= present.count {
            // Fill what was reserved first (no copy); beyond it, grow by half.
            let spare = reserved - present.count
            let grow = Swift.max(number + 1 - present.count, spare > 0 ? spare : present.count / 2)
            signatures.append(contentsOf: repeatElement(MatchSignature(), count: grow))
            households.append(contentsOf: repeatElement(nil, count: grow))
            keys.append(contentsOf: repeatElement(MatchKeys(), count: grow))
            present.append(contentsOf: repeatElement(false, count: grow))
        }
        let record = UInt32(number)
        if present[number] {
            if let profile, profile.signature == signatures[number], profile.household == households[number],
                profile.keys == keys[number]
            {
                return
            }
            signatures[number].forEachBlockingKey { blocks.remove(record, from: $0) }
            count -= 1
        }
        present[number] = profile != nil
        signatures[number] = profile?.signature ?? MatchSignature()
        households[number] = profile?.household
        keys[number] = profile?.keys ?? MatchKeys()
        guard let profile else { return }
        count += 1
        let digest = MatchDigest(profile.signature)
        let signatures = self.signatures  // the digest of a record already alone under a key
        profile.forEachBlockingKey { key in
            blocks.insert(record, digest, into: key) { MatchDigest(signatures[Int($0)]) }
        }
    }

    /// Replaces the alternative names of a uid number in ``alternativeIndex``.
    private mutating func setAlternatives(_ number: Int, _ alternatives: [MatchProfile.AlternativeName]) {
        var numbers = alternativesOf[number] ?? []
        if alternativeIndex.isEmpty { alternativeIndex.append(MatchIndex()) }
        while numbers.count > alternatives.count {
            let freed = numbers.removeLast()
            alternativeIndex[0].set(freed, nil)
            freeAlternatives.append(freed)
            freeAlternatives.sort(by: >)
        }
        while numbers.count < alternatives.count {
            if let free = freeAlternatives.popLast() {
                numbers.append(free)
            } else {
                numbers.append(alternativeOwners.count)
                alternativeOwners.append((number, .alias))
            }
        }
        for (slot, alternative) in zip(numbers, alternatives) {
            var profile = alternative.profile
            profile.alternatives = []
            alternativeOwners[slot] = (number, alternative.form)
            alternativeIndex[0].set(slot, profile)
        }
        alternativesOf[number] = numbers.isEmpty ? nil : numbers
    }

    /// The uid numbers sharing a blocking key with `profile`, ascending, without duplicates.
    public func candidates(_ profile: MatchProfile) -> [Int] {
        candidates(profile) { _ in true }
    }

    /// The uid numbers that ``decide(_:weights:thresholds:household:maxReview:include:)`` compares
    /// in full with `profile`: those sharing a blocking key with it, less the listed ones whose
    /// digest shows they cannot be kept (see ``MatchDigest/Bound``); ascending, without duplicates.
    public func candidates(
        _ profile: MatchProfile, weights: MatchWeights, thresholds: LinkingThresholds, household: String? = nil
    ) -> [Int] {
        let bound = MatchDigest.Bound(profile.signature, weights: weights, thresholds: thresholds, household: household)
        return candidates(profile) { bound.mayMatter($0) }
    }

    /// The candidates under `profile`'s blocking keys, less the listed records whose digest
    /// `mayMatter` refuses (it is asked once per listed record, so it must not copy the bound).
    private func candidates(_ profile: MatchProfile, keeping mayMatter: (MatchDigest) -> Bool) -> [Int] {
        var found: [Int] = []
        profile.forEachBlockingKey { key in
            blocks.forEach(in: key, ifAtMost: Self.maximumBlockSize) { record, digest in
                if let digest, !mayMatter(digest) { return }
                found.append(Int(record))
            }
        }
        // A record under two keys is found twice: sort, then drop repeats in place.
        found.sort()
        var kept = 0
        for index in found.indices where kept == 0 || found[kept - 1] != found[index] {
            found[kept] = found[index]
            kept += 1
        }
        found.removeLast(found.count - kept)
        return found
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
        // Most candidates (people born the same day, namesakes born on another) are dismissed by
        // the digests read in the blocks' lists (about 10 of 88 remain in the link bench). The
        // rest are settled from their signatures (plain values); a candidate's scalar keys are
        // read only for near misses. The signatures are first gathered into one buffer: those
        // loads do not depend on each other, so the memory system fetches them in parallel
        // instead of taking one cache miss per comparison (measured: about 1.3× the records/s).
        let bound = MatchDigest.Bound(profile.signature, weights: weights, thresholds: thresholds, household: household)
        let numbers = candidates(profile) { bound.mayMatter($0) }
        let gathered = numbers.map { signatures[$0] }
        keys.withUnsafeBufferPointer { keys in
            for (number, signature) in zip(numbers, gathered) where present[number] {
                guard include(number, signature.standing) else { continue }
                let same = household != nil && households[number] == household
                let comparison = MatchComparison(profile, signature, weights: weights, sameHousehold: same) {
                    keys[number]
                }
                if comparison.score >= thresholds.review || comparison.total > bound.cutoff {
                    scored.append((number, comparison))
                }
            }
        }
        // Other names (通称, 旧氏), the candidates' and the record's own (so the order in which the
        // two arrive does not matter): each person is scored by the best pair of names. Apart, so the
        // common case (no one has another name) pays one check and nothing is captured.
        var alternativeOf: [Int: AlternativeMatch] = [:]
        if !alternativeIndex.isEmpty || !profile.alternatives.isEmpty {
            alternativeOf = scoreAlternatives(
                profile, weights: weights, thresholds: thresholds, bound: bound, household: household, into: &scored, include: include)
        }
        scored.sort { $0.comparison.total != $1.comparison.total ? $0.comparison.total > $1.comparison.total : $0.number < $1.number }
        guard let best = scored.first, best.comparison.score >= thresholds.review else { return .none }
        let second = scored.dropFirst().first
        let ambiguous = second.map { best.comparison.total - $0.comparison.total < thresholds.margin } ?? false
        // The twins rule: a candidate whose given name differs is never linked automatically
        // while someone else born the same day shares its surname or address — a twin the record
        // may be. Without such a sibling in the index, the name's disagreement is weighed like any
        // other (a mistyped or replaced given name; the twin of a resident lives there too).
        let twinsRule = best.comparison.givenDiffers && hasSibling(best.number)
        if best.comparison.score >= thresholds.autoLink && !twinsRule && !ambiguous {
            let notes = best.comparison.givenDiffers ? [MatchReasons.noSiblingNote] : []
            return .link(Candidate(
                number: best.number, comparison: best.comparison, reasons: reasons(profile, best.number, best.comparison, notes, alternativeOf),
                alternative: alternativeOf[best.number]?.form))
        }
        var review: [Candidate] = []
        for entry in scored.prefix(maxReview) where entry.comparison.score >= thresholds.review {
            var notes: [String] = []
            if entry.comparison.score >= thresholds.autoLink {
                if entry.comparison.givenDiffers && hasSibling(entry.number) { notes.append(MatchReasons.twinsNote) }
                if ambiguous { notes.append(MatchReasons.ambiguousNote) }
            }
            review.append(Candidate(
                number: entry.number, comparison: entry.comparison, reasons: reasons(profile, entry.number, entry.comparison, notes, alternativeOf),
                alternative: alternativeOf[entry.number]?.form))
        }
        return review.isEmpty ? .none : .review(review)
    }

    /// Which other name scored a person, and the two profiles compared.
    typealias AlternativeMatch = (form: MatchProfile.AlternativeName.Form, record: MatchProfile, candidate: MatchProfile)

    /// Scores `profile` against the candidates' other names and with its own other names against
    /// the candidates, replacing a person's entry in `scored` when another name scores higher.
    /// Returns the persons scored by another name.
    private func scoreAlternatives(
        _ profile: MatchProfile, weights: MatchWeights, thresholds: LinkingThresholds, bound: MatchDigest.Bound, household: String?,
        into scored: inout [(number: Int, comparison: MatchComparison)], include: (Int, MatchProfile.Standing) -> Bool
    ) -> [Int: AlternativeMatch] {
        var found: [Int: AlternativeMatch] = [:]
        func consider(_ owner: Int, _ comparison: MatchComparison, _ match: AlternativeMatch, _ scored: inout [(number: Int, comparison: MatchComparison)]) {
            guard comparison.score >= thresholds.review || comparison.total > bound.cutoff else { return }
            if let index = scored.firstIndex(where: { $0.number == owner }) {
                guard comparison.total > scored[index].comparison.total else { return }
                scored[index].comparison = comparison
            } else {
                scored.append((owner, comparison))
            }
            found[owner] = match
        }
        if let alternatives = alternativeIndex.first, alternatives.count > 0 {
            for slot in alternatives.candidates(profile, keeping: { bound.mayMatter($0) }) {
                guard let candidate = alternatives.profile(slot) else { continue }
                let (owner, form) = alternativeOwners[slot]
                guard owner < present.count, present[owner], include(owner, signatures[owner].standing) else { continue }
                let same = household != nil && households[owner] == household
                consider(owner, MatchComparison(profile, candidate, weights: weights, sameHousehold: same), (form, profile, candidate), &scored)
            }
        }
        for alternative in profile.alternatives {
            let record = alternative.profile
            let recordBound = MatchDigest.Bound(record.signature, weights: weights, thresholds: thresholds, household: household)
            for number in candidates(record, keeping: { recordBound.mayMatter($0) }) where present[number] {
                guard include(number, signatures[number].standing), let candidate = self.profile(number) else { continue }
                let same = household != nil && households[number] == household
                consider(number, MatchComparison(record, candidate, weights: weights, sameHousehold: same), (alternative.form, record, candidate), &scored)
            }
        }
        return found
    }

    /// The reasons against the names that scored a candidate; with another name, the name's reason says which.
    private func reasons(
        _ profile: MatchProfile, _ number: Int, _ comparison: MatchComparison, _ notes: [String], _ alternatives: [Int: AlternativeMatch]
    ) -> [String] {
        guard let (form, record, candidate) = alternatives[number] else {
            return MatchReasons.reasons(comparison, record: profile, candidate: self.profile(number)!, notes: notes)
        }
        return MatchReasons.reasons(comparison, record: record, candidate: candidate, notes: notes).map {
            $0.hasPrefix("name: ") ? "name: " + form.reason + " · " + $0.dropFirst(6) : $0
        }
    }
}
