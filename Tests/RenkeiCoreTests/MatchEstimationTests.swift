import RenkeiCore
import Testing

/// Estimation without labels (issue 14) on a synthetic population whose truth is known.
@Suite struct MatchEstimationTests {
    /// 20,000 residents and 4,000 source records (90% corrupted copies of residents): the profiles
    /// the estimator sees, and the true pairs (record index, resident index).
    struct Town {
        var profiles: [MatchProfile] = []
        var truePairs: [(Int, Int)] = []
    }

    static let town: Town = {
        var population = SyntheticPopulation(residents: 20_000, seed: 41)
        let records = population.records(count: 4_000, seed: 43)
        var town = Town()
        for resident in population.residents { town.profiles.append(MatchProfile(identity: resident.identity)) }
        for record in records {
            if let truth = record.truth { town.truePairs.append((town.profiles.count, truth)) }
            town.profiles.append(MatchProfile(identity: record.identity))
        }
        return town
    }()

    static let estimated = MatchEstimation.estimate(town.profiles)

    /// The level frequencies of each field over the given pairs (missing left out).
    static func frequencies(_ pairs: [(Int, Int)]) -> [[Double]] {
        var counts = Array(repeating: Array(repeating: 0.0, count: AgreementLevel.allCases.count), count: MatchField.allCases.count)
        for (a, b) in pairs {
            let comparison = MatchComparison(town.profiles[a], town.profiles[b], weights: .standard, quick: false)
            for field in MatchField.allCases where comparison.level(field) != .missing {
                counts[field.rawValue][comparison.level(field).rawValue] += 1
            }
        }
        return counts.map { row in
            let total = row.reduce(0, +)
            return row.map { total > 0 ? $0 / total : 0 }
        }
    }

    /// m of every field and level within 0.05 of its frequency among the true pairs (sex is left
    /// out: the generator's source records never give it, so no true pair shows it).
    @Test func recoversMWithinTolerance() {
        let truth = Self.frequencies(Self.town.truePairs)
        for field in MatchField.allCases where field != .sex {
            for level in LinkingParameters.levels(field) {
                let estimated = Self.estimated.m[field.rawValue][level.rawValue]
                let actual = truth[field.rawValue][level.rawValue]
                #expect(abs(estimated - actual) <= 0.05, "m[\(field.key)][\(level.key)] = \(estimated), truth \(actual)")
            }
        }
    }

    /// u of every field and level within 0.01 (and, for the exact level, within 30% relative) of
    /// its frequency among 200,000 other random pairs that are not the same person.
    @Test func recoversUWithinTolerance() {
        var random = TestRandom(seed: 99)
        let matches = Set(Self.town.truePairs.map { Self.key($0.0, $0.1) })
        var pairs: [(Int, Int)] = []
        let count = Self.town.profiles.count
        while pairs.count < 200_000 {
            let a = random.below(count), b = random.below(count)
            if a != b, !matches.contains(Self.key(a, b)) { pairs.append((a, b)) }
        }
        let truth = Self.frequencies(pairs)
        for field in MatchField.allCases {
            for level in LinkingParameters.levels(field) {
                let estimated = Self.estimated.u[field.rawValue][level.rawValue]
                let actual = truth[field.rawValue][level.rawValue]
                #expect(abs(estimated - actual) <= 0.01, "u[\(field.key)][\(level.key)] = \(estimated), truth \(actual)")
                if level == .exact && actual > 0.001 {
                    #expect(abs(estimated - actual) <= 0.3 * actual, "u[\(field.key)][exact] = \(estimated), truth \(actual)")
                }
            }
        }
    }

    /// The prior: the share of random pairs that are one person, within a factor of 2.
    @Test func recoversTheMatchProbability() {
        let n = Double(Self.town.profiles.count)
        let actual = Double(Self.town.truePairs.count) / (n * (n - 1) / 2)
        let estimated = Self.estimated.matchProbability
        #expect(estimated > actual / 2 && estimated < actual * 2, "λ = \(estimated), truth \(actual)")
    }

    /// The same population and seed give identical parameters; another seed other samples.
    @Test func isDeterministic() {
        let again = MatchEstimation.estimate(Self.town.profiles)
        #expect(again == Self.estimated)
        var options = MatchEstimation.Options()
        options.seed = 15
        #expect(MatchEstimation.estimate(Self.town.profiles, options: options).u != Self.estimated.u)
    }

    /// The weights keep the ordering rules of `linking.weights` and read back from the event's JSON.
    @Test func weightsAreOrderedAndRoundTrip() throws {
        let weights = Self.estimated.weights()
        for field in MatchField.allCases {
            let row = weights.weights[field.rawValue]
            let ordered: [AgreementLevel] = [.exact, .normalised, .variant, .fuzzy, .partial, .disagree]
            for (stronger, weaker) in zip(ordered, ordered.dropFirst()) {
                #expect(row[stronger.rawValue] >= row[weaker.rawValue], "\(field.key): \(weaker.key) above \(stronger.key)")
            }
            #expect(row[AgreementLevel.missing.rawValue] == 0)
            #expect(row[AgreementLevel.exact.rawValue] > (field == .sex ? 0 : 4), "\(field.key) exact \(row[0])")
        }
        #expect(weights.prior < -10)
        let json = Self.estimated.json()
        let object = try #require(json["weights"]?.objectValue)
        let parsed = try #require(MatchWeights(json: object))
        #expect(parsed == weights)
        let reread = LinkingParameters(json: JSONParserForTests.reparse(json))
        #expect(reread.json() == json)
    }

    /// Linking the town's records with estimated weights: precision and recall at least those of
    /// the tuned defaults less a little (the estimate knows nothing of the defaults).
    @Test func estimatedWeightsLinkAsWellAsTheDefaults() {
        func quality(_ weights: MatchWeights) -> (precision: Double, recall: Double) {
            var index = MatchIndex()
            let residents = 20_000
            for number in 0..<residents { index.set(number + 1, Self.town.profiles[number]) }
            let truth = Dictionary(uniqueKeysWithValues: Self.town.truePairs.map { ($0.0, $0.1 + 1) })
            var right = 0, wrong = 0
            for record in residents..<Self.town.profiles.count {
                if case .link(let candidate) = index.decide(
                    Self.town.profiles[record], weights: weights, thresholds: LinkingThresholds(), include: { _, _ in true })
                {
                    if truth[record] == candidate.number { right += 1 } else { wrong += 1 }
                }
            }
            return (Double(right) / Double(max(1, right + wrong)), Double(right) / Double(truth.count))
        }
        let standard = quality(.standard)
        let estimated = quality(Self.estimated.weights())
        #expect(estimated.precision >= 0.999, "precision \(estimated.precision) (defaults \(standard.precision))")
        #expect(estimated.recall >= standard.recall - 0.01, "recall \(estimated.recall) (defaults \(standard.recall))")
    }

    /// Term frequency: exact agreement on the town's most common name weighs less than on a name
    /// held once; the adjustment is carried by the weights and read back from their JSON.
    @Test func commonNamesWeighLess() throws {
        let weights = Self.estimated.weights()
        let common = try #require(Self.estimated.commonNames.first)
        #expect(common.share > Self.estimated.nameAgreement)
        let adjustment = try #require(weights.commonNames.first { $0.name == common.name }?.weight)
        #expect(adjustment <= -0.5)
        // The same pair of records under two names: the common one scores lower by the adjustment.
        let holder = try #require(Self.town.profiles.first { !$0.name.isEmpty && Self.folded($0) == common.name })
        let a = MatchProfile(identity: ["name": .string(holder.name), "birth_date": "1980-01-01"])
        let b = MatchProfile(identity: ["name": .string(holder.name), "birth_date": "1980-01-01"])
        let rare = MatchProfile(identity: ["name": "勅使河原 某", "birth_date": "1980-01-01"])
        let commonTotal = MatchComparison(a, b, weights: weights).total
        let rareTotal = MatchComparison(rare, rare, weights: weights).total
        #expect(abs((rareTotal - commonTotal) + adjustment) < 1e-9, "\(rareTotal) \(commonTotal) \(adjustment)")
        let object = try #require(weights.json["common_names"])
        #expect(object.arrayValue?.count == weights.commonNames.count)
    }

    static func folded(_ profile: MatchProfile) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: MatchText.nameKey(profile.name, variants: true).filter { $0 != " " })
        return String(view)
    }

    static func key(_ a: Int, _ b: Int) -> Int { min(a, b) << 32 | max(a, b) }
}

/// splitmix64 for the tests' own samples.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func below(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

enum JSONParserForTests {
    /// The object serialised and parsed again, as the projection reads it from the log.
    static func reparse(_ object: JSONObject) -> JSONObject {
        (try? JSONParser.parse(JSONValue.object(object).serializedBytes))?.objectValue ?? [:]
    }
}
