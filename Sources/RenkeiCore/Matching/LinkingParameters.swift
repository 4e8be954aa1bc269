/// Fellegi–Sunter parameters estimated from a population without labels (issue 14): the
/// m-probability (P(level | same person)) and u-probability (P(level | different people)) of each
/// field at each agreement level, and the probability that two records drawn at random are one
/// person. ``weights(sameHousehold:)`` turns them into the log2 Bayes factors ``MatchWeights``
/// holds, so ``MatchIndex/decide(_:weights:thresholds:household:maxReview:include:)`` is unchanged.
///
/// Carried in full by the `operator.linking_estimated` event (``json``), so a rebuild applies the
/// very same weights and decides every record as before.
public struct LinkingParameters: Sendable, Hashable {
    public static func == (a: LinkingParameters, b: LinkingParameters) -> Bool {
        a.m == b.m && a.u == b.u && a.matchProbability == b.matchProbability && a.records == b.records
            && a.randomPairs == b.randomPairs && a.trainingPairs == b.trainingPairs && a.iterations == b.iterations
            && a.seed == b.seed && a.nameAgreement == b.nameAgreement
            && a.commonNames.map(\.name) == b.commonNames.map(\.name) && a.commonNames.map(\.share) == b.commonNames.map(\.share)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(m)
        hasher.combine(u)
        hasher.combine(seed)
    }

    /// `m[field][level]`; 0 for a level the field's comparator never gives.
    public var m: [[Double]]
    /// `u[field][level]`.
    public var u: [[Double]]
    /// Probability that two records drawn at random are the same person.
    public var matchProbability: Double
    /// Records the estimate was made on.
    public var records: Int
    /// Random pairs compared for u.
    public var randomPairs: Int
    /// Blocked pairs each EM session was trained on, by the field blocked on.
    public var trainingPairs: [MatchField: Int]
    /// EM iterations run, by the field blocked on.
    public var iterations: [MatchField: Int]
    /// The seed of the random pair sample.
    public var seed: UInt64
    /// The most common folded names (variant-folded, lower case, without spaces) and their share
    /// of the records that give a name, most common first.
    public var commonNames: [(name: String, share: Double)] = []
    /// P(two random records agree on the folded name): the u against which the shares weigh.
    public var nameAgreement: Double = 0

    /// Empty parameters (every probability 0).
    public init() {
        m = Array(repeating: Array(repeating: 0, count: AgreementLevel.allCases.count), count: MatchField.allCases.count)
        u = m
        matchProbability = 0
        records = 0
        randomPairs = 0
        trainingPairs = [:]
        iterations = [:]
        seed = 0
    }

    /// The levels each field's comparator gives (besides `missing`), strongest first. The others
    /// take the weight of the next stronger level that is given, so the table stays ordered.
    public static func levels(_ field: MatchField) -> [AgreementLevel] {
        switch field {
        case .name: [.exact, .normalised, .variant, .partial, .wordOnly, .disagree]
        case .nameKana: [.exact, .normalised, .fuzzy, .partial, .disagree]
        case .birthDate: [.exact, .partial, .disagree]
        case .sex: [.exact, .disagree]
        case .address: [.exact, .normalised, .variant, .fuzzy, .partial, .wordOnly, .disagree]
        }
    }

    /// The largest weight a level gets, in log2 odds: a Bayes factor beyond 2^30 is no evidence a
    /// sample of this size can show.
    public static let weightLimit = 30.0

    /// The log2 weights of these parameters.
    ///
    /// Each level given by the field's comparator weighs log2(m/u), rounded to 1/1000. The table is
    /// then made to respect the ordering rules `linking.weights` enforces (README, Linking): a
    /// weaker agreement never weighs more than a stronger one — levels out of order are pooled
    /// into their mean weighted by m + u (isotonic regression), so a rare level out of order (a
    /// width variant of a name above exact agreement, "same area, another house" below an
    /// unrelated address) moves to its neighbour, not the other way round — `missing` weighs 0
    /// (no evidence) and therefore exact agreement at least 0 and disagreement at most 0. The prior is log2 of the odds that two random records
    /// are one person: u came from random pairs, so the Bayes factors are relative to them.
    /// - Parameter sameHousehold: the same-household weight (not estimated: guardians are few).
    public func weights(sameHousehold: Double = MatchWeights.standard.sameHousehold) -> MatchWeights {
        var table = MatchWeights.standard.weights
        // Parameters read from an event written before the word-only level existed hold neither
        // its m nor its u: their weights do not give it (as the event's own weights do not).
        // Likewise the address's: such an event's address `partial` holds both of its levels.
        let wordOnly = (MatchField.name.rawValue, AgreementLevel.wordOnly.rawValue)
        let givesWordOnly = m[wordOnly.0][wordOnly.1] > 0 || u[wordOnly.0][wordOnly.1] > 0
        let address = MatchField.address.rawValue
        let givesAddressWordOnly = m[address][wordOnly.1] > 0 || u[address][wordOnly.1] > 0
        for field in MatchField.allCases {
            let gives = field == .address ? givesAddressWordOnly : givesWordOnly
            let given = Self.levels(field).filter { gives || $0 != .wordOnly }
            // log2(m/u) of each level the comparator gives, strongest first, with its mass m + u.
            var blocks: [(weight: Double, mass: Double, levels: [AgreementLevel])] = []
            for level in given {
                let m = Swift.max(self.m[field.rawValue][level.rawValue], 1e-9)
                let u = Swift.max(self.u[field.rawValue][level.rawValue], 1e-9)
                let weight = Swift.min(Swift.max(MatchWeights.log2(m / u), -Self.weightLimit), Self.weightLimit)
                blocks.append((weight, m + u, [level]))
                // Pool adjacent violators: a weaker level weighing more than a stronger one is
                // merged with it into their mass-weighted mean, so the order holds and the level
                // that holds most pairs keeps about its own weight (noise on a rare level moves
                // the rare level, not the common one).
                while blocks.count >= 2, blocks[blocks.count - 2].weight < blocks[blocks.count - 1].weight {
                    let last = blocks.removeLast()
                    let previous = blocks.removeLast()
                    let mass = previous.mass + last.mass
                    blocks.append(((previous.weight * previous.mass + last.weight * last.mass) / mass, mass, previous.levels + last.levels))
                }
            }
            var row = Array(repeating: 0.0, count: AgreementLevel.allCases.count)
            for block in blocks {
                for level in block.levels { row[level.rawValue] = (block.weight * 1000).rounded() / 1000 }
            }
            var previous = Double.infinity
            for level in AgreementLevel.allCases where level != .missing {
                var weight = given.contains(level) ? row[level.rawValue] : previous  // not given: as the next stronger level
                if level == .exact { weight = Swift.max(weight, 0) }
                if level == .disagree { weight = Swift.min(weight, 0) }
                weight = Swift.min(weight, previous)
                row[level.rawValue] = weight
                previous = weight
            }
            row[AgreementLevel.missing.rawValue] = 0
            table[field.rawValue] = row
        }
        let p = Swift.min(Swift.max(matchProbability, 1e-15), 0.5)
        var prior = (MatchWeights.log2(p / (1 - p)) * 1000).rounded() / 1000
        prior = Swift.min(Swift.max(prior, -50), -1)
        var weights = MatchWeights(weights: table, prior: prior, sameHousehold: sameHousehold)
        if !givesWordOnly {
            // As ``MatchWeights/init(json:)`` reads such weights: the column weighs as `disagree`.
            weights.givesWordOnly = false
            table[wordOnly.0][wordOnly.1] = table[wordOnly.0][AgreementLevel.disagree.rawValue]
            weights.weights = table
        }
        // Not given, the address's column already weighs as `partial` (the next stronger level).
        weights.givesAddressWordOnly = givesAddressWordOnly
        // m and u of the name and of the kana are each measured alone; among namesakes the reading
        // agrees too, so adding both would count one agreement twice.
        weights.namesCombined = true
        // Term frequency: agreeing on a name of share f is log2(u / f) weaker than on the average
        // name (u = P(random pair agrees)); only weaker, never stronger, and never below 0 in all.
        let exact = table[MatchField.name.rawValue][AgreementLevel.exact.rawValue]
        weights.commonNames = commonNames.compactMap { entry in
            guard nameAgreement > 0, entry.share > 0 else { return nil }
            let adjustment = Swift.max((MatchWeights.log2(nameAgreement / entry.share) * 1000).rounded() / 1000, -exact)
            return adjustment <= -0.5 ? (entry.name, adjustment) : nil
        }
        return weights
    }
}

// MARK: - JSON (the `operator.linking_estimated` event's data)

extension LinkingParameters {
    /// `{"weights": {field: {level: w}, "prior", "same_household"}, "m": {field: {level: p}},
    /// "u": {…}, "match_probability", "records", "random_pairs", "training_pairs": {field: n},
    /// "iterations": {field: n}, "seed"}`. Levels a field's comparator never gives are left out of
    /// `m` and `u`; `weights` lists every level (the shape of `linking.weights`).
    public func json(sameHousehold: Double = MatchWeights.standard.sameHousehold) -> JSONObject {
        func probabilities(_ table: [[Double]]) -> JSONValue {
            var fields: [JSONObject.Member] = []
            for field in MatchField.allCases {
                var levels: [JSONObject.Member] = []
                for level in Self.levels(field) {
                    levels.append(.init(key: level.key, value: .double(Self.rounded(table[field.rawValue][level.rawValue]))))
                }
                fields.append(.init(key: field.key, value: .object(JSONObject(uniqueMembers: levels))))
            }
            return .object(JSONObject(uniqueMembers: fields))
        }
        func counts(_ values: [MatchField: Int]) -> JSONValue {
            .object(JSONObject(uniqueMembers: MatchField.allCases.compactMap { field in
                values[field].map { JSONObject.Member(key: field.key, value: .integer(Int64($0))) }
            }))
        }
        return JSONObject(uniqueMembers: [
            .init(key: "weights", value: .object(weights(sameHousehold: sameHousehold).json)),
            .init(key: "m", value: probabilities(m)),
            .init(key: "u", value: probabilities(u)),
            .init(key: "match_probability", value: .double(Self.rounded(matchProbability))),
            .init(key: "records", value: .integer(Int64(records))),
            .init(key: "random_pairs", value: .integer(Int64(randomPairs))),
            .init(key: "training_pairs", value: counts(trainingPairs)),
            .init(key: "iterations", value: counts(iterations)),
            .init(key: "seed", value: .integer(Int64(bitPattern: seed))),
            .init(key: "name_agreement", value: .double(Self.rounded(nameAgreement))),
            .init(key: "common_names", value: .array(commonNames.map { .array([.string($0.name), .double(Self.rounded($0.share))]) })),
        ])
    }

    /// Reads ``json(sameHousehold:)`` back (m, u and counts; the weights are read with
    /// ``MatchWeights/init(json:)``). Missing parts are 0.
    public init(json: JSONObject) {
        self.init()
        for (key, isM) in [("m", true), ("u", false)] {
            guard let fields = json[key]?.objectValue else { continue }
            for field in MatchField.allCases {
                guard let levels = fields[field.key]?.objectValue else { continue }
                for level in AgreementLevel.allCases {
                    guard let value = levels[level.key]?.numberValue else { continue }
                    if isM { m[field.rawValue][level.rawValue] = value } else { u[field.rawValue][level.rawValue] = value }
                }
            }
        }
        matchProbability = json["match_probability"]?.numberValue ?? 0
        records = Int(json["records"]?.integerValue ?? 0)
        randomPairs = Int(json["random_pairs"]?.integerValue ?? 0)
        for field in MatchField.allCases {
            if let n = json["training_pairs"]?[field.key]?.integerValue { trainingPairs[field] = Int(n) }
            if let n = json["iterations"]?[field.key]?.integerValue { iterations[field] = Int(n) }
        }
        seed = UInt64(bitPattern: json["seed"]?.integerValue ?? 0)
        nameAgreement = json["name_agreement"]?.numberValue ?? 0
        commonNames = (json["common_names"]?.arrayValue ?? []).compactMap { row in
            guard let pair = row.arrayValue, pair.count == 2, let name = pair[0].stringValue, let share = pair[1].numberValue else { return nil }
            return (name, share)
        }
    }

    /// A probability with nine significant digits, so the event is short and reads back equal.
    static func rounded(_ value: Double) -> Double {
        guard value != 0, value.isFinite else { return value }
        let scale = exp10(8 - (MatchWeights.log2(Swift.abs(value)) / MatchWeights.log2(10)).rounded(.down))
        return (value * scale).rounded() / scale
    }

    private static func exp10(_ exponent: Double) -> Double {
        var result = 1.0
        let steps = Int(Swift.abs(exponent))
        for _ in 0..<steps { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}

extension JSONValue {
    /// The number, if this is an integer or a double.
    var numberValue: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
