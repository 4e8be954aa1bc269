/// The outcome of comparing a record with one candidate: agreement level per field, the total
/// weight and score, and the facts the decision rules need.
public struct MatchComparison: Sendable, Hashable {
    /// Agreement per field (name, kana, birth date, sex, address).
    public var levels: (AgreementLevel, AgreementLevel, AgreementLevel, AgreementLevel, AgreementLevel)
    /// The names agree on the surname only (given names differ).
    public var surnameOnly = false
    /// The given names are known on both sides and differ (twins rule: never auto-linked).
    public var givenDiffers = false
    /// A guardian's namesake in the child's household.
    public var sameHousehold = false
    /// The weights gave the address's word-only level (``MatchWeights/givesAddressWordOnly``), so
    /// a Latin-script address at `partial` has most words agreeing and a number differing.
    public var splitsAddress = false
    /// The summed log2 weight, prior included.
    public var total: Double
    /// The posterior score, 0…1.
    public var score: Double

    /// The name weight when only the surnames agree (given names differ).
    static let surnameOnlyWeight = -3.0

    /// Compares `record` with `candidate`.
    /// - Parameters:
    ///   - weights: the field weights.
    ///   - sameHousehold: the candidate lives in the household that gives this evidence (guardians).
    ///   - quick: skip edit distances where they cannot lift the pair to review.
    public init(
        _ record: borrowing MatchProfile, _ candidate: borrowing MatchProfile, weights: borrowing MatchWeights,
        sameHousehold: Bool = false, quick: Bool = true
    ) {
        self.init(record, candidate.signature, weights: weights, sameHousehold: sameHousehold, quick: quick) {
            candidate.keys
        }
    }

    /// Compares `record` with a candidate's signature; `candidateKeys` is called only for the few
    /// pairs whose sketches say the scalar keys could decide a level (one edit, address suffix).
    @inline(__always)
    init(
        _ record: borrowing MatchProfile, _ candidate: MatchSignature, weights: borrowing MatchWeights,
        sameHousehold: Bool = false, quick: Bool = true, candidateKeys: () -> MatchKeys
    ) {
        let a = record.signature
        let date = Self.date(a.birthDate, candidate.birthDate)
        var sex = AgreementLevel.missing
        if a.sex != 0 && candidate.sex != 0 { sex = a.sex == candidate.sex ? .exact : .disagree }
        var address = Self.address(a, candidate, splitsPartial: weights.givesAddressWordOnly) {
            MatchText.isSuffix(record.keys.part(.address), candidateKeys().part(.address))
        } isTypo: {
            MatchText.withinEdits(
                record.keys.part(.address), candidateKeys().part(.address),
                limit: MatchText.typoLimit(Int(min(a.addressCount, candidate.addressCount))))
        } wordAgreement: {
            MatchText.addressWordAgreement(record.keys.part(.addressWords), candidateKeys().part(.addressWords))
        }
        if a.addressGaiji || candidate.addressGaiji, address == .exact || address == .normalised || address == .variant {
            address = .fuzzy
        }
        var name = Self.name(a, candidate)
        // An unmapped 外字 is no character to compare: equal code points from two vendors may be two
        // different characters, so a name holding one agrees at most partly (issue 16).
        if a.nameGaiji || candidate.nameGaiji, name == .exact || name == .normalised || name == .variant { name = .partial }
        var kana = Self.kana(a, candidate)
        // Edit distances only where one edit could still lift the pair to review (log2 odds ≥ 1):
        // strangers sharing a birth date in another street are settled without them.
        if name == .disagree || kana == .disagree {
            let best = weights.prior + weights.weight(.birthDate, date) + weights.weight(.sex, sex)
                + weights.weight(.address, address) + (sameHousehold ? weights.sameHousehold : 0)
                + (name == .disagree
                    ? max(weights.weight(.name, .partial), weights.weight(.name, .fuzzy), weights.weight(.name, .wordOnly))
                    : weights.weight(.name, name))
                + (kana == .disagree ? weights.weight(.nameKana, .partial) : weights.weight(.nameKana, kana))
            if !quick || best >= 1 {
                if name == .disagree, a.nameFolded.mayBeOneEditFrom(candidate.nameFolded),
                    MatchText.withinOneEdit(record.keys.part(.nameFolded), candidateKeys().part(.nameFolded))
                {
                    name = .partial
                } else if name == .disagree, a.nameLatin, candidate.nameLatin {
                    let x = record.keys.part(.latinWords), y = candidateKeys().part(.latinWords)
                    if MatchText.latinNamesAgree(x, y) {
                        name = .fuzzy
                    } else if MatchText.latinNameWordAgrees(x, y) {
                        name = .partial
                    } else if weights.givesWordOnly, MatchText.latinNameWordShared(x, y) {
                        name = .wordOnly
                    }
                }
                if kana == .disagree, a.kanaStrong.mayBeOneEditFrom(candidate.kanaStrong),
                    MatchText.withinOneEdit(record.keys.part(.kanaStrong), candidateKeys().part(.kanaStrong))
                {
                    kana = .partial
                }
            }
        }
        self.levels = (name, kana, date, sex, address)
        self.splitsAddress = weights.givesAddressWordOnly
        self.score = 0
        if name == .disagree, a.surname != 0, a.surname == candidate.surname { surnameOnly = true }
        var nameWeight = surnameOnly ? Self.surnameOnlyWeight : weights.weight(.name, name)
        // A common name agrees by chance more often (term frequency; adjustments are ≤ 0, so
        // the digest bound, which leaves them out, stays above the total).
        if !weights.commonNameWeights.isEmpty, name == .exact || name == .normalised || name == .variant,
            let adjustment = weights.commonNameWeights[a.nameFoldedHash]
        {
            nameWeight += adjustment
        }
        let kanaWeight = weights.weight(.nameKana, kana)
        if weights.namesCombined && nameWeight > 0 && kanaWeight > 0 {
            // The stronger of the two (``MatchWeights/namesCombined``); the terms in the order
            // the bound adds its own, so the bound stays above this total after rounding.
            total = weights.prior + Swift.max(nameWeight, kanaWeight)
                + weights.weight(.birthDate, date) + weights.weight(.sex, sex) + weights.weight(.address, address)
        } else {
            total = weights.prior + nameWeight + weights.weight(.nameKana, kana)
                + weights.weight(.birthDate, date) + weights.weight(.sex, sex) + weights.weight(.address, address)
        }
        if sameHousehold {
            self.sameHousehold = true
            total += weights.sameHousehold
        }
        // 2^W / (1 + 2^W) floors to 0.000 below W = -10: most strangers skip the series.
        score = total < -10 ? 0 : MatchWeights.score(total)
        // The twins rule only matters for pairs that could be linked.
        guard total >= 0 else { return }
        let kanjiGivenKnown = a.given.count != 0 && candidate.given.count != 0
        let kanjiGivenAgrees =
            kanjiGivenKnown && name == .fuzzy || kanjiGivenKnown && a.given.mayBeOneEditFrom(candidate.given)
            && MatchText.withinOneEdit(record.keys.part(.given), candidateKeys().part(.given))
        let kanaGivenKnown = a.kanaGiven != 0 && candidate.kanaGiven != 0
        let kanaGivenAgrees = kanaGivenKnown && a.kanaGiven == candidate.kanaGiven
        // A name that agrees as a whole (exactly, folded, or word by word) has its given name too,
        // wherever a space fell (`hayd en geraghty` / `hayden geraghty`).
        let wholeNameAgrees = name == .exact || name == .normalised || name == .variant || name == .fuzzy
        givenDiffers = !wholeNameAgrees && (kanjiGivenKnown || kanaGivenKnown) && !kanjiGivenAgrees && !kanaGivenAgrees
    }

    /// The level of one field.
    public func level(_ field: MatchField) -> AgreementLevel {
        switch field {
        case .name: levels.0
        case .nameKana: levels.1
        case .birthDate: levels.2
        case .sex: levels.3
        case .address: levels.4
        }
    }

    /// Equal when every level, flag and weight is.
    public static func == (a: MatchComparison, b: MatchComparison) -> Bool {
        a.levels == b.levels && a.surnameOnly == b.surnameOnly && a.givenDiffers == b.givenDiffers
            && a.sameHousehold == b.sameHousehold && a.total == b.total && a.score == b.score
    }

    /// Hashes the total and score.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(total)
        hasher.combine(score)
    }

    /// Dates packed by ``MatchProfile/packedDate(_:)``, each slip its own level (so each gets its
    /// own weight): exact; day and month swapped (normalised); two adjacent digits transposed
    /// (variant); the year off by 1, 10 or 100 with month and day equal (fuzzy); one other digit
    /// off (partial); else disagree.
    static func date(_ a: UInt64, _ b: UInt64) -> AgreementLevel {
        guard a != 0, b != 0 else { return .missing }
        if a == b { return .exact }
        // Day and month swapped (YYYYMMDD ↔ YYYYDDMM).
        if a >> 32 == b >> 32, (a >> 16) & 0xFFFF == b & 0xFFFF, a & 0xFFFF == (b >> 16) & 0xFFFF { return .normalised }
        // The year off by 1, 10 or 100 (1989 → 1990, 1985 → 1995, 1985 → 1885), month and day equal.
        if a & 0xFFFF_FFFF == b & 0xFFFF_FFFF {
            let difference = abs(year(a) - year(b))
            if difference == 1 || difference == 10 || difference == 100 { return .fuzzy }
        }
        // One bit per differing digit (the lowest bit of each byte that differs), in plain arithmetic:
        // this runs for most candidates, so it must not allocate.
        var difference = a ^ b
        difference |= difference >> 4
        difference |= difference >> 2
        difference |= difference >> 1
        let differing = difference & 0x0101_0101_0101_0101
        switch differing.nonzeroBitCount {
        case 1:
            return .partial
        case 2:
            // Two adjacent digits transposed: the pair's bytes trade places and nothing else moves.
            let low = differing.trailingZeroBitCount
            guard differing >> UInt64(low + 8) == 1 else { return .disagree }
            let pairA = (a >> UInt64(low)) & 0xFFFF
            let pairB = (b >> UInt64(low)) & 0xFFFF
            return pairA == (pairB >> 8 | (pairB & 0xFF) << 8) ? .variant : .disagree
        default:
            return .disagree
        }
    }

    /// The year of a packed date (its top four digit bytes).
    @inline(__always)
    static func year(_ packed: UInt64) -> Int {
        var value = 0
        for shift in stride(from: 56, through: 32, by: -8) { value = value * 10 + Int((packed >> UInt64(shift)) & 0xFF) - 0x30 }
        return value
    }

    static func name(_ a: MatchSignature, _ b: MatchSignature) -> AgreementLevel {
        guard a.nameExact != 0, b.nameExact != 0 else { return .missing }
        if a.nameExact == b.nameExact { return .exact }
        if a.nameWidth == b.nameWidth { return .normalised }
        if a.nameFoldedHash == b.nameFoldedHash { return .variant }
        return .disagree
    }

    static func kana(_ a: MatchSignature, _ b: MatchSignature) -> AgreementLevel {
        guard a.kanaExact != 0, b.kanaExact != 0 else { return .missing }
        if a.kanaExact == b.kanaExact { return .exact }
        if a.kanaStrongHash == b.kanaStrongHash { return .normalised }
        if a.kanaWeak == b.kanaWeak { return .fuzzy }
        return .disagree
    }

    /// Address agreement; `isSuffix` and `isTypo` read the scalar keys, asked only when the
    /// lengths and the hashed tails allow one key to end with the other, or the numbers agree and
    /// the lengths allow a typo.
    ///
    /// Levels: exact, normalised (folded keys equal), variant (city or prefecture left out), fuzzy
    /// (a typo: the numbers — 番地, house number, room — agree exactly and the folded keys are one
    /// or two edits apart, by length), partial (same area, different house), disagree. Two
    /// addresses in Latin script, where a typo, a field left out and a changed postcode or
    /// suburb come together, are placed by how many of their words agree
    /// (``MatchText/addressWordAgreement(_:_:)``, read through `wordAgreement`): fuzzy from
    /// ``latinFuzzyAgreement`` with every number agreeing (the same house written differently),
    /// then from ``latinPartialAgreement`` (part of the words agree) partial where one of the two
    /// agrees but not both — most words (``latinFuzzyAgreement``, of all words or of the words
    /// without the numbers: the same street and locality, another house number or postcode), or
    /// every number (the same house number and postcode, the street or building written otherwise)
    /// — and word-only where neither does (only the street or the locality), else disagree.
    ///
    /// `splitsPartial` false (weights written before the address's word-only level existed,
    /// ``MatchWeights/givesAddressWordOnly``): both of the last two are partial, as they were then.
    @inline(__always)
    static func address(
        _ a: MatchSignature, _ b: MatchSignature, splitsPartial: Bool = true, isSuffix: () -> Bool, isTypo: () -> Bool,
        wordAgreement: () -> (share: Double, numbersAgree: Bool, wordsShare: Double, numbers: Int) = { (0, false, 0, 0) }
    ) -> AgreementLevel {
        guard a.addressExact != 0, b.addressExact != 0 else { return .missing }
        if a.addressExact == b.addressExact { return .exact }
        if a.addressHash == b.addressHash { return .normalised }
        // City (or prefecture kept on one side only) left out: one key ends with the other.
        if a.addressCount != b.addressCount, min(a.addressCount, b.addressCount) >= MatchSignature.tailLength,
            a.addressTail == b.addressTail, isSuffix()
        {
            return .variant
        }
        if a.addressNumbers != 0, a.addressNumbers == b.addressNumbers,
            MatchText.typoLimit(Int(min(a.addressCount, b.addressCount))) >= Int(max(a.addressCount, b.addressCount) - min(a.addressCount, b.addressCount)),
            isTypo()
        {
            return .fuzzy
        }
        if a.addressLatin, b.addressLatin {
            let agreement = wordAgreement()
            if agreement.share >= latinFuzzyAgreement && agreement.numbersAgree { return .fuzzy }
            guard agreement.share >= latinPartialAgreement else { return .disagree }
            guard splitsPartial else { return .partial }
            // One of the two agrees — most of the words, or every number (one given on each side
            // at least) — but not both: partial. Neither: only part of the words, word-only.
            let wordsAgree = agreement.share >= latinFuzzyAgreement || agreement.wordsShare >= latinFuzzyAgreement
            let numbersAgree = agreement.numbersAgree && agreement.numbers > 0
            return wordsAgree || numbersAgree ? .partial : .wordOnly
        }
        if a.area == b.area, a.addressNamed { return .partial }
        return .disagree
    }

    /// The share of words (Dice) from which two Latin-script addresses agree at the fuzzy level:
    /// three in four — with seven words on each side, one replaced or two left out on one side.
    static let latinFuzzyAgreement = 0.75
    /// The share from which they agree at the partial level: two in five — the locality (suburb,
    /// postcode, state) or the street without the rest.
    static let latinPartialAgreement = 0.4
}
