/// Agreement levels of one field when two records are compared (Fellegi–Sunter).
public enum AgreementLevel: Int, Sendable, Hashable, CaseIterable {
    /// Byte-identical (ignoring spaces).
    case exact
    /// Identical after width, case, order or address folding.
    case normalised
    /// Identical after 旧字体/異体字 folding (names) or with prefecture/city left out (addresses).
    case variant
    /// Identical under the weak kana rules (濁音, small kana, long vowels, オウ/オオ).
    case fuzzy
    /// One edit apart (names), day/month swapped or one digit off (dates), same area (addresses:
    /// the same 町域, or in Latin script most words the same and a number differing — another house
    /// in the same street), surname only (names).
    case partial
    /// A Latin-script name whose words agree in part: one word spelt out on both sides (equal or
    /// spelt close), another word differing (`john smith` / `peter smith`: a value replaced on one
    /// side). Placed between `partial` and `disagree`, with a weight of its own (issue 14); weights
    /// written before this level existed do not give it (``MatchWeights/givesWordOnly``), and
    /// such pairs are then compared as `disagree`, as they were.
    ///
    /// Of a Latin-script address: only part of the words agree (the street or the locality without
    /// the rest), below `partial` (most words agree, a number differs) and above `disagree`; weights
    /// written before the address had this level (``MatchWeights/givesAddressWordOnly``) place
    /// both at `partial`, as they did.
    case wordOnly
    /// Different.
    case disagree
    /// One side does not give the field.
    case missing
}

/// The fields compared, in reason order.
public enum MatchField: Int, Sendable, Hashable, CaseIterable {
    case name, nameKana, birthDate, sex, address

    /// The field's key in events and views.
    public var key: String {
        switch self {
        case .name: "name"
        case .nameKana: "name_kana"
        case .birthDate: "birth_date"
        case .sex: "sex"
        case .address: "address"
        }
    }
}

/// Log2 likelihood ratios log2(m/u) per field and level, and the prior log2 odds of a candidate
/// pair being a match; a score is the posterior 2^W / (1 + 2^W).
///
/// The defaults were tuned on the synthetic population with known truth (`ops/bench link` reports
/// their precision and recall); a municipality overrides any of them with `linking.weights`, or
/// has them estimated from its own records (``MatchEstimation``, ``LinkingParameters/weights(sameHousehold:)``,
/// the `operator.linking_estimated` event).
public struct MatchWeights: Sendable, Hashable {
    /// `weights[field][level]`.
    public var weights: [[Double]] {
        get { MatchField.allCases.map { field in AgreementLevel.allCases.map { weight(field, $0) } } }
        set { table = Self.flatten(newValue) }
    }
    /// The weights by `field * levels + level`, one lookup per field in the scoring loop.
    private var table: [Double]
    /// log2 prior odds that a blocked candidate pair is the same person.
    public var prior: Double
    /// Added when a guardian without 宛名番号 has a namesake in the child's household.
    public var sameHousehold: Double
    /// When the name and its reading both agree, count the stronger of the two weights, not their
    /// sum: a reading follows from the name, so among namesakes it agrees too (estimated weights,
    /// whose name and kana factors are each measured alone, set this; the tuned defaults and
    /// `linking.weights` add the two as before).
    public var namesCombined = false
    /// Term-frequency adjustments (≤ 0) of exact, width or variant name agreement on a common
    /// name, by its folded key (variant-folded, lower case, without spaces): an agreement on
    /// 佐藤花子 is weaker evidence than on 勅使河原某. Estimated weights set it; empty otherwise.
    public var commonNames: [(name: String, weight: Double)] = [] {
        didSet {
            commonNameWeights = [:]
            for entry in commonNames { commonNameWeights[MatchProfile.hash(entry.name.unicodeScalars), default: 0] = Swift.min(0, entry.weight) }
        }
    }
    /// ``commonNames`` by the hash scoring compares (``MatchSignature/nameFoldedHash``).
    private(set) var commonNameWeights: [UInt64: Double] = [:]
    /// Whether these weights give the ``AgreementLevel/wordOnly`` level (true unless they were
    /// read from JSON written before the level existed: an `operator.linking_estimated` event whose
    /// `weights.name` lists no `word_only`). Without it the comparator places such pairs at
    /// `disagree` (surname only where the first words agree), exactly as when the event was
    /// written, so a rebuild replays every decision of an old estimate unchanged.
    public var givesWordOnly = true
    /// Whether these weights give the address's ``AgreementLevel/wordOnly`` level (true unless read
    /// from JSON or rows written before it existed: an `operator.linking_estimated` event whose
    /// `weights.address` lists no `word_only`). Without it the Latin-script address comparator
    /// places "part of the words agree" and "most words agree, a number differs" both at `partial`,
    /// as when the event was written, and the column weighs as `partial`.
    public var givesAddressWordOnly = true

    /// Whether these weights give the word-only level of `field` (names and addresses only).
    public func givesWordOnly(_ field: MatchField) -> Bool {
        switch field {
        case .name: givesWordOnly
        case .address: givesAddressWordOnly
        default: false
        }
    }

    public static func == (a: MatchWeights, b: MatchWeights) -> Bool {
        a.table == b.table && a.prior == b.prior && a.sameHousehold == b.sameHousehold && a.namesCombined == b.namesCombined
            && a.givesWordOnly == b.givesWordOnly && a.givesAddressWordOnly == b.givesAddressWordOnly
            && a.commonNames.map(\.name) == b.commonNames.map(\.name) && a.commonNames.map(\.weight) == b.commonNames.map(\.weight)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(table)
        hasher.combine(prior)
        hasher.combine(commonNames.count)
    }

    /// The defaults.
    public static let standard = MatchWeights(
        weights: [
            // exact, normalised, variant, fuzzy, partial, word_only, disagree, missing
            // name (partial: one edit; word_only: one Latin word as a surname alone; surname only is scored apart)
            [6.5, 6.5, 6.5, 5.0, 2.5, -3.0, -6.0, 0],
            [6.0, 6.0, 6.0, 4.0, 1.5, -6.0, -6.0, 0],  // name_kana (word_only: never given, as disagree)
            [11.0, 4.0, 4.0, 4.0, 4.0, -10.0, -10.0, 0],  // birth_date (d/m swap, transposed, year ±1/10/100, one digit)
            [0.5, 0.5, 0.5, 0.5, 0.5, -5.0, -5.0, 0],  // sex
            // address (partial: same area, or most Latin words with a number differing; word_only:
            // part of the Latin words, weighing as partial did before the level existed)
            [5.0, 5.0, 4.0, 4.0, 1.0, 1.0, -1.0, 0],
        ], prior: -13.0, sameHousehold: 8.0)

    /// Creates weights. A `name` row of seven (the levels before `word_only`: exact, normalised,
    /// variant, fuzzy, partial, disagree, missing) is read in that order and does not give the
    /// word-only level (``givesWordOnly``), as an old event's weights do not; an `address` row of
    /// seven does not give the address's (``givesAddressWordOnly``).
    public init(weights: [[Double]], prior: Double, sameHousehold: Double) {
        self.table = Self.flatten(weights)
        self.givesWordOnly = (weights.first?.count ?? Self.levels) >= Self.levels
        let address = MatchField.address.rawValue
        self.givesAddressWordOnly = (weights.count > address ? weights[address].count : Self.levels) >= Self.levels
        self.prior = prior
        self.sameHousehold = sameHousehold
    }

    /// The weight of one field at one level.
    @inline(__always)
    public func weight(_ field: MatchField, _ level: AgreementLevel) -> Double {
        table[field.rawValue &* Self.levels &+ level.rawValue]
    }

    /// The weight of the name and its reading together (see ``namesCombined``).
    @inline(__always)
    public func names(_ name: Double, _ kana: Double) -> Double {
        namesCombined && name > 0 && kana > 0 ? Swift.max(name, kana) : name + kana
    }

    /// The highest weight of a field at any level.
    func highestWeight(_ field: MatchField) -> Double {
        table[field.rawValue * Self.levels..<(field.rawValue + 1) * Self.levels].max()!
    }

    private static let levels = AgreementLevel.allCases.count

    /// The table of `weights[field][level]`; a missing entry weighs 0; a row of seven is in the
    /// order before `word_only` existed. Only names and addresses give the word-only level: the
    /// other fields' column is their `disagree` weight, whatever is passed.
    private static func flatten(_ weights: [[Double]]) -> [Double] {
        var table = [Double](repeating: 0, count: MatchField.allCases.count * levels)
        for (field, row) in weights.prefix(MatchField.allCases.count).enumerated() {
            // A row of the seven earlier levels: `disagree` and `missing` move one column on, and
            // `word_only` weighs as the level that held such pairs then: `disagree` for a name,
            // `partial` for an address.
            let old = field == MatchField.address.rawValue ? row.count > 4 ? row[4] : 0 : row.count > 5 ? row[5] : 0
            let row = row.count == levels - 1 ? Array(row.prefix(5)) + [old, row[5], row[6]] : row
            for (level, weight) in row.prefix(levels).enumerated() { table[field * levels + level] = weight }
            if field != MatchField.name.rawValue && field != MatchField.address.rawValue {
                table[field * levels + AgreementLevel.wordOnly.rawValue] = table[field * levels + AgreementLevel.disagree.rawValue]
            }
        }
        return table
    }

    /// The posterior 2^W / (1 + 2^W), floored to three decimals and capped at 0.999 (a match is
    /// never certain), so stored scores are short and identical on every machine.
    public static func score(_ total: Double) -> Double {
        let odds = exp2(min(max(total, -60), 60))
        let posterior = odds / (1 + odds)
        return min(0.999, (posterior * 1000).rounded(.down) / 1000)
    }

    /// 2^x without libm: integer part by exponent, fraction by a series (|error| < 1e-15).
    static func exp2(_ x: Double) -> Double {
        let whole = x.rounded(.down)
        let fraction = (x - whole) * 0.693_147_180_559_945_3
        var term = 1.0
        var sum = 1.0
        for n in 1...20 {
            term *= fraction / Double(n)
            sum += term
        }
        return sum * Double(sign: .plus, exponent: Int(whole), significand: 1)
    }
}

/// The thresholds of contract §3 step 2 (`linking.auto_link`, `linking.review`).
public struct LinkingThresholds: Sendable, Hashable {
    /// Score at or above which a record is linked (method `match`).
    public var autoLink: Double
    /// Score at or above which (below ``autoLink``) a review item is raised.
    public var review: Double
    /// How much lower (in log2 weight) the second-best candidate must be for an automatic link.
    public var margin: Double

    /// Creates thresholds; the defaults are the contract's.
    public init(autoLink: Double = 0.92, review: Double = 0.75, margin: Double = 3) {
        self.autoLink = autoLink
        self.review = review
        self.margin = margin
    }
}

extension MatchWeights {
    /// log2(x) for x > 0 without libm (RenkeiCore links no C library): the binary exponent plus
    /// ln(significand) / ln 2 by the atanh series (|error| < 1e-15).
    static func log2(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : .nan }
        let exponent = Double(x.exponent)
        let s = x.significand  // 1 ≤ s < 2
        let t = (s - 1) / (s + 1)  // 0 ≤ t < 1/3
        let t2 = t * t
        var term = t
        var sum = 0.0
        var n = 1.0
        for _ in 0..<30 {
            sum += term / n
            term *= t2
            n += 2
        }
        return exponent + 2 * sum / 0.693_147_180_559_945_3
    }
}

extension AgreementLevel {
    /// The level's key in `linking.weights`, events and reports.
    public var key: String {
        switch self {
        case .exact: "exact"
        case .normalised: "normalised"
        case .variant: "variant"
        case .fuzzy: "fuzzy"
        case .partial: "partial"
        case .wordOnly: "word_only"
        case .disagree: "disagree"
        case .missing: "missing"
        }
    }
}

extension MatchWeights {
    /// `{field: {level: w, …}, "prior": w, "same_household": w}`: the shape of `linking.weights`.
    public var json: JSONObject {
        var members: [JSONObject.Member] = []
        for field in MatchField.allCases {
            // `word_only` is a level of names and addresses alone, and weights without it are
            // written as they were read (no `word_only`).
            let levels = AgreementLevel.allCases.filter { $0 != .wordOnly || givesWordOnly(field) }
                .map { JSONObject.Member(key: $0.key, value: .double(weight(field, $0))) }
            members.append(.init(key: field.key, value: .object(JSONObject(uniqueMembers: levels))))
        }
        members.append(.init(key: "prior", value: .double(prior)))
        members.append(.init(key: "same_household", value: .double(sameHousehold)))
        if namesCombined { members.append(.init(key: "names_combined", value: .bool(true))) }
        if !commonNames.isEmpty {
            members.append(.init(key: "common_names", value: .array(commonNames.map { .array([.string($0.name), .double($0.weight)]) })))
        }
        return JSONObject(uniqueMembers: members)
    }

    /// Reads ``json`` back; what is left out keeps its ``standard`` value. `nil` when a value is
    /// not a finite number.
    ///
    /// A `name` object that lists levels but no `word_only` was written before that level existed
    /// (seven levels a field): the weights then do not give it (``givesWordOnly`` false) and its
    /// column takes each field's `disagree` weight, so the decisions are those of the old format.
    /// Likewise an `address` object without `word_only` (``givesAddressWordOnly`` false; the column
    /// weighs as `partial`).
    public init?(json: JSONObject) {
        self = .standard
        var rows = weights
        for field in MatchField.allCases {
            guard let levels = json[field.key]?.objectValue else { continue }
            for level in AgreementLevel.allCases {
                guard let value = levels[level.key] else { continue }
                guard let number = value.numberValue, number.isFinite else { return nil }
                rows[field.rawValue][level.rawValue] = number
            }
        }
        if let name = json[MatchField.name.key]?.objectValue, name[AgreementLevel.wordOnly.key] == nil {
            givesWordOnly = false
            rows[MatchField.name.rawValue][AgreementLevel.wordOnly.rawValue] = rows[MatchField.name.rawValue][AgreementLevel.disagree.rawValue]
        }
        if let address = json[MatchField.address.key]?.objectValue, address[AgreementLevel.wordOnly.key] == nil {
            givesAddressWordOnly = false
            rows[MatchField.address.rawValue][AgreementLevel.wordOnly.rawValue] = rows[MatchField.address.rawValue][AgreementLevel.partial.rawValue]
        }
        weights = rows
        if let value = json["prior"] {
            guard let number = value.numberValue, number.isFinite else { return nil }
            prior = number
        }
        namesCombined = json["names_combined"]?.boolValue ?? false
        if let list = json["common_names"] {
            guard let rows = list.arrayValue else { return nil }
            var names: [(name: String, weight: Double)] = []
            for row in rows {
                guard let pair = row.arrayValue, pair.count == 2, let name = pair[0].stringValue, let weight = pair[1].numberValue,
                    weight.isFinite
                else { return nil }
                names.append((name, weight))
            }
            commonNames = names
        }
        if let value = json["same_household"] {
            guard let number = value.numberValue, number.isFinite else { return nil }
            sameHousehold = number
        }
    }
}
