/// Estimates ``LinkingParameters`` from a population without labels (issue 14), the way the
/// Fellegi–Sunter tools that generalise do (Splink's `estimate_u`, EM training sessions):
///
/// 1. **u from random pairs.** Two records drawn at random are almost never one person, so how
///    often each level occurs among random pairs is its u-probability. The exact level of each
///    field is counted exactly from the value frequencies (Σ c(c−1) over values, in integers); the
///    other levels from a seeded sample of random pairs, scaled to what exact agreement leaves.
/// 2. **m by EM over blocked pairs, u held fixed.** One session blocks on the birth date and
///    learns the name, kana, sex and address levels; another blocks on the folded name and learns
///    the birth date, sex and address levels. A session never scores the field it blocked on (nor
///    the kana with the name, which spells the same name): every pair it sees agrees there, so that
///    field says nothing about which pairs are the same person. Sex and address, learnt twice, take
///    the mean. A plain EM over the linker's own candidate pairs with u from those same pairs (the
///    earlier attempt, BENCHMARKS.md) converged on "same address" pairs; fixing u from random
///    pairs and leaving the blocked field out is what keeps the latent class "same person".
/// 3. **The prior** is the probability that two random records are one person: the matches the
///    birth-date session found, divided by the share of matches whose birth dates agree (from the
///    name session), over all pairs.
///
/// Pure and deterministic: pairs are formed from sorted keys, sampled with a seeded generator, and
/// EM iterates over agreement patterns in a fixed order, so the same population and seed give
/// bit-identical parameters on every run.
public enum MatchEstimation {
    /// How much to sample.
    public struct Options: Sendable, Hashable {
        /// Random pairs compared for u.
        public var randomPairs = 300_000
        /// At most this many blocked pairs per EM session (sampled evenly when there are more).
        public var trainingPairs = 600_000
        /// At most this many EM iterations per session.
        public var maxIterations = 100
        /// Stop when no m-probability moves more than this in one iteration.
        public var tolerance = 1e-7
        /// Blocks larger than this are skipped, as the linker skips them.
        public var maximumBlockSize = MatchIndex.maximumBlockSize
        /// The seed of every sample.
        public var seed: UInt64 = 14
        /// At most this many common names get a term-frequency adjustment.
        public var commonNames = 500

        /// The defaults.
        public init() {}
    }

    /// One EM training session: the key it blocks on and the fields it learns.
    struct Session: Sendable {
        var blockedOn: MatchField
        var learns: [MatchField]
        var key: @Sendable (MatchSignature) -> UInt64
    }

    static let sessions: [Session] = [
        Session(blockedOn: .birthDate, learns: [.name, .nameKana, .sex, .address]) { $0.birthDate },
        Session(blockedOn: .name, learns: [.birthDate, .sex, .address]) { $0.nameFoldedHash },
    ]

    /// Estimates the parameters of `profiles` (every source record, not merged persons: the
    /// records of one person are the matches EM must find).
    public static func estimate(_ profiles: [MatchProfile], options: Options = Options()) -> LinkingParameters {
        var parameters = LinkingParameters()
        parameters.records = profiles.count
        parameters.seed = options.seed
        guard profiles.count >= 2 else { return parameters }
        parameters.u = uProbabilities(profiles, options: options)
        (parameters.commonNames, parameters.nameAgreement) = commonNames(profiles, options: options)
        parameters.randomPairs = options.randomPairs
        var learnt = Array(repeating: Array(repeating: 0.0, count: AgreementLevel.allCases.count), count: MatchField.allCases.count)
        var sessionsLearning = Array(repeating: 0, count: MatchField.allCases.count)
        var blockedMatches: [MatchField: Double] = [:]
        for (number, session) in sessions.enumerated() {
            let blocked = blockedPatterns(profiles, session: session, options: options, stream: UInt64(number + 1))
            parameters.trainingPairs[session.blockedOn] = blocked.sampled
            let result = expectationMaximisation(blocked.patterns, learns: session.learns, u: parameters.u, options: options)
            parameters.iterations[session.blockedOn] = result.iterations
            blockedMatches[session.blockedOn] = result.matchShare * Double(blocked.total)
            for field in session.learns {
                sessionsLearning[field.rawValue] += 1
                for level in AgreementLevel.allCases { learnt[field.rawValue][level.rawValue] += result.m[field.rawValue][level.rawValue] }
            }
        }
        for field in MatchField.allCases where sessionsLearning[field.rawValue] > 0 {
            parameters.m[field.rawValue] = learnt[field.rawValue].map { $0 / Double(sessionsLearning[field.rawValue]) }
        }
        // Matches among birth-date pairs, over the share of matches that agree on the birth date.
        let dateAgrees = Swift.max(parameters.m[MatchField.birthDate.rawValue][AgreementLevel.exact.rawValue], 0.05)
        let matches = (blockedMatches[.birthDate] ?? 0) / dateAgrees
        let n = Double(profiles.count)
        parameters.matchProbability = Swift.min(Swift.max(matches / (n * (n - 1) / 2), 1e-15), 0.5)
        return parameters
    }

    /// The match profile of every source record of the live persons, in the order given (merged
    /// persons are skipped: their records live on in the survivor).
    public static func profiles(of persons: some Sequence<PersonRecord>) -> [MatchProfile] {
        var profiles: [MatchProfile] = []
        for person in persons where person.mergedInto == nil {
            for record in person.records {
                let profile = MatchProfile(identity: record.identity)
                if !profile.isEmpty { profiles.append(profile) }
            }
        }
        return profiles
    }

    // MARK: - u

    /// u per field and level: exact agreement from value frequencies, the rest from random pairs.
    static func uProbabilities(_ profiles: [MatchProfile], options: Options) -> [[Double]] {
        let fields = MatchField.allCases.count, levels = AgreementLevel.allCases.count
        var u = Array(repeating: Array(repeating: 0.0, count: levels), count: fields)
        // Exact agreement: P(two random records with the field share its value) = Σ c(c−1) / N(N−1).
        for field in MatchField.allCases {
            var values = profiles.compactMap { exactValue(field, $0.signature) }
            values.sort()
            var agreeing = 0
            var run = 0
            for index in values.indices {
                run = index > 0 && values[index] == values[index - 1] ? run + 1 : 1
                if index == values.count - 1 || values[index + 1] != values[index] { agreeing += run * (run - 1) }
            }
            let n = values.count
            u[field.rawValue][AgreementLevel.exact.rawValue] = n > 1 ? Swift.max(Double(agreeing) / (Double(n) * Double(n - 1)), 0.5 / Double(n * n)) : 0
        }
        // The other levels from random pairs that do not agree exactly.
        var counts = Array(repeating: Array(repeating: 0, count: levels), count: fields)
        var random = SplitMix(seed: options.seed)
        let count = UInt64(profiles.count)
        for _ in 0..<options.randomPairs {
            let i = Int(random.next() % count)
            var j = Int(random.next() % (count - 1))
            if j >= i { j += 1 }
            let comparison = MatchComparison(profiles[i], profiles[j], weights: .standard, quick: false)
            for field in MatchField.allCases {
                let level = comparison.level(field)
                guard level != .missing, level != .exact else { continue }
                counts[field.rawValue][level.rawValue] += 1
            }
        }
        for field in MatchField.allCases {
            let given = LinkingParameters.levels(field).filter { $0 != .exact }
            let total = given.reduce(0.0) { $0 + Double(counts[field.rawValue][$1.rawValue]) }
            let rest = 1 - u[field.rawValue][AgreementLevel.exact.rawValue]
            for level in given {
                // Half a pair for a level never seen, so its weight stays finite and bounded by the sample.
                u[field.rawValue][level.rawValue] =
                    rest * (Double(counts[field.rawValue][level.rawValue]) + 0.5) / (total + 0.5 * Double(given.count))
            }
        }
        return u
    }

    /// The most common folded names (at most ``Options/commonNames``, most common first, ties by
    /// key) with their shares, and the probability that two random records agree on the folded name.
    static func commonNames(_ profiles: [MatchProfile], options: Options) -> (names: [(name: String, share: Double)], agreement: Double) {
        var named: [(hash: UInt64, index: Int)] = []
        for (index, profile) in profiles.enumerated() where profile.signature.nameFoldedHash != 0 {
            named.append((profile.signature.nameFoldedHash, index))
        }
        guard named.count > 1 else { return ([], 0) }
        named.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.index < $1.index }
        var runs: [(count: Int, first: Int, hash: UInt64)] = []
        var agreeing = 0
        var start = 0
        for index in named.indices where index == named.count - 1 || named[index + 1].hash != named[index].hash {
            let count = index + 1 - start
            agreeing += count * (count - 1)
            if count >= 2 { runs.append((count, named[start].index, named[start].hash)) }
            start = index + 1
        }
        runs.sort { $0.count != $1.count ? $0.count > $1.count : $0.hash < $1.hash }
        let n = Double(named.count)
        let names = runs.prefix(options.commonNames).map { run in
            (name: MatchText.string(profiles[run.first].keys.part(.nameFolded).map { Unicode.Scalar($0)! }), share: Double(run.count) / n)
        }
        return (names, Double(agreeing) / (n * (n - 1)))
    }

    /// The value whose equality is the field's exact level (0 or `nil`: missing).
    static func exactValue(_ field: MatchField, _ s: MatchSignature) -> UInt64? {
        let value: UInt64
        switch field {
        case .name: value = s.nameExact
        case .nameKana: value = s.kanaExact
        case .birthDate: value = s.birthDate
        case .sex: value = UInt64(s.sex)
        case .address: value = s.addressExact
        }
        return value == 0 ? nil : value
    }

    // MARK: - Blocked pairs

    /// An agreement pattern: each field's level in three bits, field order.
    typealias Pattern = Int

    static func pattern(_ comparison: MatchComparison) -> Pattern {
        var code = 0
        for field in MatchField.allCases { code |= comparison.level(field).rawValue << (3 * field.rawValue) }
        return code
    }

    static func level(_ pattern: Pattern, _ field: MatchField) -> AgreementLevel {
        AgreementLevel(rawValue: (pattern >> (3 * field.rawValue)) & 7)!
    }

    /// The agreement patterns of the pairs sharing the session's key (blocks up to the maximum
    /// size), with their counts, ascending by pattern; `total` pairs were blocked, `sampled` compared.
    static func blockedPatterns(
        _ profiles: [MatchProfile], session: Session, options: Options, stream: UInt64
    ) -> (patterns: [(pattern: Pattern, count: Int)], total: Int, sampled: Int) {
        var keyed: [(key: UInt64, index: Int)] = []
        keyed.reserveCapacity(profiles.count)
        for (index, profile) in profiles.enumerated() {
            let key = session.key(profile.signature)
            if key != 0 { keyed.append((key, index)) }
        }
        keyed.sort { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }
        var runs: [Range<Int>] = []
        var total = 0
        var start = 0
        for index in keyed.indices where index == keyed.count - 1 || keyed[index + 1].key != keyed[index].key {
            let size = index + 1 - start
            if size >= 2 && size <= options.maximumBlockSize {
                runs.append(start..<(index + 1))
                total += size * (size - 1) / 2
            }
            start = index + 1
        }
        // Keep each pair with probability trainingPairs / total (all when fewer).
        let threshold = total <= options.trainingPairs ? UInt64.max : UInt64(Double(UInt64.max) * Double(options.trainingPairs) / Double(total))
        var random = SplitMix(seed: options.seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        var counts: [Pattern: Int] = [:]
        var sampled = 0
        for run in runs {
            for i in run {
                for j in (i + 1)..<run.upperBound {
                    if threshold != .max && random.next() > threshold { continue }
                    let comparison = MatchComparison(profiles[keyed[i].index], profiles[keyed[j].index], weights: .standard, quick: false)
                    counts[pattern(comparison), default: 0] += 1
                    sampled += 1
                }
            }
        }
        let patterns = counts.map { (pattern: $0.key, count: $0.value) }.sorted { $0.pattern < $1.pattern }
        return (patterns, total, sampled)
    }

    // MARK: - EM

    /// EM over agreement patterns with u fixed: returns m for the learnt fields, the share of
    /// pairs that are matches, and the iterations run.
    static func expectationMaximisation(
        _ patterns: [(pattern: Pattern, count: Int)], learns: [MatchField], u: [[Double]], options: Options
    ) -> (m: [[Double]], matchShare: Double, iterations: Int) {
        let fields = MatchField.allCases.count, levels = AgreementLevel.allCases.count
        var m = Array(repeating: Array(repeating: 0.0, count: levels), count: fields)
        // Start: most matches agree exactly, the rest spread over the other levels.
        for field in learns {
            let given = LinkingParameters.levels(field)
            for level in given {
                m[field.rawValue][level.rawValue] = level == .exact ? 0.8 : 0.2 / Double(given.count - 1)
            }
        }
        var share = 0.05
        let pairs = Double(patterns.reduce(0) { $0 + $1.count })
        guard pairs > 0 else { return (m, 0, 0) }
        var iterations = 0
        while iterations < options.maxIterations {
            iterations += 1
            var expected = Array(repeating: Array(repeating: 0.0, count: levels), count: fields)
            var matches = 0.0
            for (pattern, count) in patterns {
                var pm = share, pu = 1 - share
                for field in learns {
                    let level = level(pattern, field)
                    guard level != .missing else { continue }
                    pm *= m[field.rawValue][level.rawValue]
                    pu *= u[field.rawValue][level.rawValue]
                }
                let p = pm + pu > 0 ? pm / (pm + pu) : 0
                let weight = p * Double(count)
                matches += weight
                for field in learns {
                    let level = level(pattern, field)
                    if level != .missing { expected[field.rawValue][level.rawValue] += weight }
                }
            }
            var change = Swift.abs(matches / pairs - share)
            share = Swift.min(Swift.max(matches / pairs, 1e-9), 1 - 1e-9)
            for field in learns {
                let given = LinkingParameters.levels(field)
                // A tenth of a pair on every level, so a level never seen keeps a small m.
                let total = given.reduce(0.0) { $0 + expected[field.rawValue][$1.rawValue] } + 0.1 * Double(given.count)
                for level in given {
                    let next = (expected[field.rawValue][level.rawValue] + 0.1) / total
                    change = Swift.max(change, Swift.abs(next - m[field.rawValue][level.rawValue]))
                    m[field.rawValue][level.rawValue] = next
                }
            }
            if change < options.tolerance { break }
        }
        return (m, share, iterations)
    }
}
