/// What `GET /v1/linking/report` shows (issue 14): per field and level the estimated m and u and
/// the weight in force, and what the model expects at the configured thresholds.
///
/// The expectations come from the model itself, not from labels: every combination of the
/// fields' levels (all fields given) is weighed by P(levels | same person) = Π m and
/// P(levels | different people) = Π u and scored with the weights in force, so they show what the
/// thresholds mean under the estimate — before the decision rules (ambiguity margin, twins,
/// 再転入), which only hold links back.
public struct LinkingReport: Sendable {
    /// Expected shares at the thresholds.
    public struct Expected: Sendable, Hashable {
        /// Of the pairs scored at or above `auto_link`, the share that are the same person.
        public var precision: Double
        /// Of the pairs that are the same person, the share scored at or above `auto_link`.
        public var recall: Double
        /// Of the pairs that are the same person, the share scored in [review, auto_link).
        public var matchesToReview: Double
        /// Pairs scored in [review, auto_link) per incoming record compared with `records` others.
        public var reviewsPerRecord: Double
        /// Score histogram: for each tenth of the score range, the share of same-person pairs and
        /// of different-people pairs in it.
        public var histogram: [(from: Double, matches: Double, nonMatches: Double)]

        public static func == (a: Expected, b: Expected) -> Bool {
            a.precision == b.precision && a.recall == b.recall && a.matchesToReview == b.matchesToReview
                && a.reviewsPerRecord == b.reviewsPerRecord
                && a.histogram.map(\.from) == b.histogram.map(\.from) && a.histogram.map(\.matches) == b.histogram.map(\.matches)
                && a.histogram.map(\.nonMatches) == b.histogram.map(\.nonMatches)
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(precision) }
    }

    /// The model's expectations for `parameters` scored with `weights` at `thresholds`.
    public static func expected(
        _ parameters: LinkingParameters, weights: MatchWeights, thresholds: LinkingThresholds
    ) -> Expected {
        let fields = MatchField.allCases
        var match = [0.0, 0.0, 0.0]  // below review, review, auto
        var nonMatch = [0.0, 0.0, 0.0]
        var histogram = (0..<10).map { (from: Double($0) / 10, matches: 0.0, nonMatches: 0.0) }
        var terms = Array(repeating: 0.0, count: fields.count)
        func walk(_ index: Int, _ m: Double, _ u: Double) {
            guard index == fields.count else {
                let field = fields[index]
                for level in LinkingParameters.levels(field) {
                    let pm = parameters.m[field.rawValue][level.rawValue], pu = parameters.u[field.rawValue][level.rawValue]
                    guard pm > 0 || pu > 0 else { continue }
                    terms[index] = weights.weight(field, level)
                    walk(index + 1, m * pm, u * pu)
                }
                return
            }
            let total = weights.prior + weights.names(terms[0], terms[1]) + terms[2] + terms[3] + terms[4]
            let score = MatchWeights.score(total)
            let band = score >= thresholds.autoLink ? 2 : score >= thresholds.review ? 1 : 0
            match[band] += m
            nonMatch[band] += u
            let bucket = Swift.min(9, Int(score * 10))
            histogram[bucket].matches += m
            histogram[bucket].nonMatches += u
        }
        walk(0, 1, 1)
        let lambda = parameters.matchProbability
        let linkedMatches = lambda * match[2], linkedOthers = (1 - lambda) * nonMatch[2]
        let matchTotal = Swift.max(match.reduce(0, +), 1e-300)
        return Expected(
            precision: linkedMatches + linkedOthers > 0 ? linkedMatches / (linkedMatches + linkedOthers) : 1,
            recall: match[2] / matchTotal,
            matchesToReview: match[1] / matchTotal,
            reviewsPerRecord: Double(Swift.max(parameters.records - 1, 0)) * (lambda * match[1] + (1 - lambda) * nonMatch[1]),
            histogram: histogram)
    }

    /// The report as JSON: `{"weights_from", "estimate_lsn", "thresholds", "prior", "prior_from",
    /// "same_household", "same_household_from", "fields": {field: {level: {"m", "u", "weight",
    /// "from"}}}, "estimate": {match_probability, records, …}, "expected": {precision, recall,
    /// matches_to_review, reviews_per_record, histogram}}`; without an estimate, `fields` holds the
    /// weights only and `estimate`/`expected` are null. Each `from` says where the weight in force
    /// comes from: `configured` (`linking.weights`), `estimated` or `default`.
    /// - Parameter override: what `linking.weights` configures (nothing when `nil`).
    public static func json(
        parameters: LinkingParameters?, weights: MatchWeights, origin: String, estimateLSN: Int64?,
        thresholds: LinkingThresholds, override: WeightsOverride? = nil
    ) -> JSONObject {
        let unconfigured: JSONValue = estimateLSN == nil ? "default" : "estimated"
        func from(_ configured: Bool) -> JSONValue { configured ? "configured" : unconfigured }
        var fields: [JSONObject.Member] = []
        for field in MatchField.allCases {
            var levels: [JSONObject.Member] = []
            // `word_only` is a level of names and addresses alone, shown only where the weights give it.
            for level in AgreementLevel.allCases where level != .wordOnly || weights.givesWordOnly(field) {
                var entry: [JSONObject.Member] = []
                if let parameters, LinkingParameters.levels(field).contains(level) {
                    entry.append(.init(key: "m", value: .double(parameters.m[field.rawValue][level.rawValue])))
                    entry.append(.init(key: "u", value: .double(parameters.u[field.rawValue][level.rawValue])))
                }
                entry.append(.init(key: "weight", value: .double(weights.weight(field, level))))
                entry.append(.init(key: "from", value: from(override?.isConfigured(field, level) ?? false)))
                levels.append(.init(key: level.key, value: .object(JSONObject(uniqueMembers: entry))))
            }
            fields.append(.init(key: field.key, value: .object(JSONObject(uniqueMembers: levels))))
        }
        var estimate = JSONValue.null
        var expected = JSONValue.null
        if let parameters {
            var summary = parameters.json()
            summary["weights"] = nil
            summary["m"] = nil
            summary["u"] = nil
            summary["common_names"] = .integer(Int64(parameters.commonNames.count))  // names are not listed here
            estimate = .object(summary)
            let e = Self.expected(parameters, weights: weights, thresholds: thresholds)
            expected = .object([
                "precision": .double(e.precision), "recall": .double(e.recall),
                "matches_to_review": .double(e.matchesToReview), "reviews_per_record": .double(e.reviewsPerRecord),
                "histogram": .array(e.histogram.map {
                    .object(["score_from": .double($0.from), "matches": .double($0.matches), "non_matches": .double($0.nonMatches)])
                }),
            ])
        }
        return JSONObject(uniqueMembers: [
            .init(key: "weights_from", value: .string(origin)),
            .init(key: "estimate_lsn", value: estimateLSN.map { .integer($0) } ?? .null),
            .init(key: "thresholds", value: .object(["auto_link": .double(thresholds.autoLink), "review": .double(thresholds.review)])),
            .init(key: "prior", value: .double(weights.prior)),
            .init(key: "prior_from", value: from(override?.prior != nil)),
            .init(key: "same_household", value: .double(weights.sameHousehold)),
            // Not estimated (guardians are few): the configured weight or the default.
            .init(key: "same_household_from", value: override?.sameHousehold != nil ? "configured" : "default"),
            .init(key: "fields", value: .object(JSONObject(uniqueMembers: fields))),
            .init(key: "estimate", value: estimate),
            .init(key: "expected", value: expected),
        ])
    }
}
