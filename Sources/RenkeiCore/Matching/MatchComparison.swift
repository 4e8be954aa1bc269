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
    /// The summed log2 weight, prior included.
    public var total: Double
    /// The posterior score, 0…1.
    public var score: Double

    /// Compares `record` with `candidate`.
    /// - Parameters:
    ///   - weights: the field weights.
    ///   - sameHousehold: the candidate lives in the household that gives this evidence (guardians).
    ///   - quick: skip edit distances where they cannot lift the pair to review.
    public init(
        _ record: MatchProfile, _ candidate: MatchProfile, weights: MatchWeights, sameHousehold: Bool = false,
        quick: Bool = true
    ) {
        let date = Self.date(record.birthDate, candidate.birthDate)
        var sex = AgreementLevel.missing
        if record.sex != 0 && candidate.sex != 0 { sex = record.sex == candidate.sex ? .exact : .disagree }
        let address = Self.address(record, candidate)
        var name = Self.name(record, candidate, edits: false)
        var kana = Self.kana(record, candidate, edits: false)
        // Edit distances only where one edit could still lift the pair to review (log2 odds ≥ 1):
        // strangers sharing a birth date in another street are settled without them.
        if name == .disagree || kana == .disagree {
            let best = weights.prior + weights.weight(.birthDate, date) + weights.weight(.sex, sex)
                + weights.weight(.address, address) + (sameHousehold ? weights.sameHousehold : 0)
                + (name == .disagree ? weights.weight(.name, .partial) : weights.weight(.name, name))
                + (kana == .disagree ? weights.weight(.nameKana, .partial) : weights.weight(.nameKana, kana))
            if !quick || best >= 1 {
                if name == .disagree { name = Self.name(record, candidate, edits: true) }
                if kana == .disagree { kana = Self.kana(record, candidate, edits: true) }
            }
        }
        self.levels = (name, kana, date, sex, address)
        self.score = 0
        if name == .disagree, record.surname != 0, record.surname == candidate.surname { surnameOnly = true }
        total = weights.prior + (surnameOnly ? -3 : weights.weight(.name, name)) + weights.weight(.nameKana, kana)
            + weights.weight(.birthDate, date) + weights.weight(.sex, sex) + weights.weight(.address, address)
        if sameHousehold {
            self.sameHousehold = true
            total += weights.sameHousehold
        }
        score = MatchWeights.score(total)
        // The twins rule only matters for pairs that could be linked.
        guard total >= 0 else { return }
        let kanjiGivenKnown = !record.given.isEmpty && !candidate.given.isEmpty
        let kanjiGivenAgrees =
            kanjiGivenKnown
            && (record.given == candidate.given || MatchText.editDistance(record.given, candidate.given, limit: 1) <= 1)
        let kanaGivenKnown = record.kanaGiven != 0 && candidate.kanaGiven != 0
        let kanaGivenAgrees = kanaGivenKnown && record.kanaGiven == candidate.kanaGiven
        givenDiffers = (kanjiGivenKnown || kanaGivenKnown) && !kanjiGivenAgrees && !kanaGivenAgrees
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

    static func date(_ a: [UInt8], _ b: [UInt8]) -> AgreementLevel {
        guard a.count == 8, b.count == 8 else { return .missing }
        if a == b { return .exact }
        // Day and month swapped (YYYYMMDD ↔ YYYYDDMM).
        if a[0..<4] == b[0..<4], a[4..<6] == b[6..<8], a[6..<8] == b[4..<6] { return .partial }
        var differing: [Int] = []
        for index in 0..<8 where a[index] != b[index] { differing.append(index) }
        if differing.count == 1 { return .partial }
        if differing.count == 2, differing[1] == differing[0] + 1, a[differing[0]] == b[differing[1]],
            a[differing[1]] == b[differing[0]]
        {
            return .partial
        }
        return .disagree
    }

    static func name(_ a: MatchProfile, _ b: MatchProfile, edits: Bool) -> AgreementLevel {
        guard a.nameExact != 0, b.nameExact != 0 else { return .missing }
        if a.nameExact == b.nameExact { return .exact }
        if a.nameWidth == b.nameWidth { return .normalised }
        if a.nameFoldedHash == b.nameFoldedHash { return .variant }
        if edits, MatchText.editDistance(a.nameFolded, b.nameFolded, limit: 1) <= 1 { return .partial }
        return .disagree
    }

    static func kana(_ a: MatchProfile, _ b: MatchProfile, edits: Bool) -> AgreementLevel {
        guard a.kanaExact != 0, b.kanaExact != 0 else { return .missing }
        if a.kanaExact == b.kanaExact { return .exact }
        if a.kanaStrongHash == b.kanaStrongHash { return .normalised }
        if a.kanaWeak == b.kanaWeak { return .fuzzy }
        if edits, MatchText.editDistance(a.kanaStrong, b.kanaStrong, limit: 1) <= 1 { return .partial }
        return .disagree
    }

    static func address(_ a: MatchProfile, _ b: MatchProfile) -> AgreementLevel {
        guard a.addressExact != 0, b.addressExact != 0 else { return .missing }
        if a.addressExact == b.addressExact { return .exact }
        if a.addressHash == b.addressHash { return .normalised }
        // City (or prefecture kept on one side only) left out: one key ends with the other.
        let (short, long) = a.address.count <= b.address.count ? (a.address, b.address) : (b.address, a.address)
        if short.count >= 4, long.count > short.count, long[(long.count - short.count)...].elementsEqual(short),
            short.contains(where: { $0.value > 0x7F })
        {
            return .variant
        }
        if a.area == b.area, a.address.first.map({ !("0"..."9").contains($0) }) ?? false { return .partial }
        return .disagree
    }
}
