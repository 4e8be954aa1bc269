/// The outcome of comparing a record with one candidate: agreement level per field, the total
/// weight and score, and the facts the decision rules need.
public struct MatchComparison: Sendable, Hashable {
    /// Agreement per field, indexed by ``MatchField/rawValue``.
    public var levels: [AgreementLevel]
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
    ///   - quick: skip edit distances when the birth dates disagree (they cannot reach review).
    public init(
        _ record: MatchProfile, _ candidate: MatchProfile, weights: MatchWeights, sameHousehold: Bool = false,
        quick: Bool = true
    ) {
        var levels = [AgreementLevel](repeating: .missing, count: MatchField.allCases.count)
        levels[MatchField.birthDate.rawValue] = Self.date(record.birthDate, candidate.birthDate)
        let hopeless = quick && levels[MatchField.birthDate.rawValue] == .disagree
        levels[MatchField.name.rawValue] = Self.name(record, candidate, edits: !hopeless)
        levels[MatchField.nameKana.rawValue] = Self.kana(record, candidate, edits: !hopeless)
        if record.sex != 0 && candidate.sex != 0 {
            levels[MatchField.sex.rawValue] = record.sex == candidate.sex ? .exact : .disagree
        }
        levels[MatchField.address.rawValue] = Self.address(record, candidate)
        self.levels = levels
        self.total = weights.prior
        self.score = 0
        if levels[MatchField.name.rawValue] == .disagree, record.surname != 0, record.surname == candidate.surname {
            surnameOnly = true
        }
        for field in MatchField.allCases {
            total += surnameOnly && field == .name ? -3 : weights.weight(field, levels[field.rawValue])
        }
        let kanjiGivenKnown = !record.given.isEmpty && !candidate.given.isEmpty
        let kanjiGivenAgrees =
            kanjiGivenKnown
            && (record.given == candidate.given || MatchText.editDistance(record.given, candidate.given, limit: 1) <= 1)
        let kanaGivenKnown = record.kanaGiven != 0 && candidate.kanaGiven != 0
        let kanaGivenAgrees = kanaGivenKnown && record.kanaGiven == candidate.kanaGiven
        givenDiffers = (kanjiGivenKnown || kanaGivenKnown) && !kanjiGivenAgrees && !kanaGivenAgrees
        if sameHousehold {
            self.sameHousehold = true
            total += weights.sameHousehold
        }
        score = MatchWeights.score(total)
    }

    /// The level of one field.
    public func level(_ field: MatchField) -> AgreementLevel { levels[field.rawValue] }

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
        if a.area == b.area, !AddressKey.area(a.address).isEmpty { return .partial }
        return .disagree
    }
}
