import RenkeiCore

// MARK: - `linking`: match thresholds and weights (contract §3 step 2, §5)

extension ConfigReader {
    /// What `linking` configures.
    struct Linking {
        var autoLink: Double
        var review: Double
        var weights: MatchWeights
        /// `estimate_at_records`: record counts (sources other than the registry) at which the
        /// daemon estimates the linking parameters on its own, ascending; empty turns it off.
        var estimateAtRecords: [Int] = Self.defaultEstimateAtRecords

        /// 1,000 records give EM about a thousand true pairs to learn from; each tenfold growth
        /// estimates again on a population ten times larger.
        static let defaultEstimateAtRecords = [1_000, 10_000, 100_000]
    }

    /// The config names of the agreement levels, in `MatchWeights` column order.
    static let levelKeys: [(key: String, level: AgreementLevel)] = [
        ("exact", .exact), ("normalised", .normalised), ("variant", .variant), ("fuzzy", .fuzzy),
        ("partial", .partial), ("word_only", .wordOnly), ("disagree", .disagree), ("missing", .missing),
    ]

    /// The largest weight accepted, in log2 odds: scores saturate at ±60 anyway, and a larger
    /// number is a typo (a likelihood ratio of 2^60 is no evidence any field gives).
    static let weightBound = 60.0

    /// Reads `linking` {`auto_link`?, `review`?, `weights`?, `estimate_at_records`?}.
    ///
    /// `weights` overrides any part of ``MatchWeights/standard``:
    /// `{"<field>": {"<level>": log2 weight, …}, "prior": …, "same_household": …}` with fields
    /// `name`, `name_kana`, `birth_date`, `sex`, `address` and levels `exact`, `normalised`,
    /// `variant`, `fuzzy`, `partial`, `word_only` (`name`: one Latin-script word agrees, another
    /// differs; `address`: only part of the Latin-script words agree), `disagree`, `missing`. What
    /// is left out keeps its default; a `word_only` left out is kept between the field's `partial`
    /// and `disagree`.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the config path, e.g.
    ///   `linking.weights.name.exakt: unknown level`.
    func linking(_ root: JSONObject) throws(RenkeiError) -> Linking {
        let linking = try optionalObject(root, "linking", path: "") ?? JSONObject()
        try allowOnly(linking, path: "linking", ["auto_link", "review", "weights", "estimate_at_records"])
        let autoLink = try optionalNumber(linking, "auto_link", path: "linking") ?? 0.92
        let review = try optionalNumber(linking, "review", path: "linking") ?? 0.75
        guard review > 0, review <= autoLink, autoLink <= 1 else {
            throw error("linking", "need 0 < review ≤ auto_link ≤ 1 (defaults 0.75 and 0.92)")
        }
        var weights = MatchWeights.standard
        if let object = try optionalObject(linking, "weights", path: "linking") {
            weights = try matchWeights(object)
        }
        var result = Linking(autoLink: autoLink, review: review, weights: weights)
        if let sizes = linking["estimate_at_records"], !sizes.isNull { result.estimateAtRecords = try estimateSizes(sizes) }
        return result
    }

    /// `linking.estimate_at_records`: an array of whole numbers ≥ 2 (records), strictly ascending.
    private func estimateSizes(_ value: JSONValue) throws(RenkeiError) -> [Int] {
        let path = "linking.estimate_at_records"
        guard let array = value.arrayValue else {
            throw error(path, "must be an array of record counts, e.g. [1000, 10000, 100000] ([] turns it off)")
        }
        var sizes: [Int] = []
        for (index, element) in array.enumerated() {
            guard let integer = element.integerValue, let size = Int(exactly: integer), size >= 2, size <= 1 << 40 else {
                throw error("\(path)[\(index)]", "must be a whole number of records from 2 to \(1 << 40)")
            }
            if let last = sizes.last, size <= last {
                throw error("\(path)[\(index)]", "\(size) does not exceed \(last): list the sizes in ascending order")
            }
            sizes.append(size)
        }
        return sizes
    }

    private func matchWeights(_ object: JSONObject) throws(RenkeiError) -> MatchWeights {
        let path = "linking.weights"
        let fieldKeys = MatchField.allCases.map(\.key)
        try allowOnly(object, path: path, Set(fieldKeys + ["prior", "same_household"]))
        var weights = MatchWeights.standard
        for field in MatchField.allCases {
            guard let levels = try optionalObject(object, field.key, path: path) else { continue }
            let fieldPath = "\(path).\(field.key)"
            // `word_only` is a level of names and addresses alone (the other comparators never give it).
            let givesWordOnly = field == .name || field == .address
            let keys = Self.levelKeys.filter { givesWordOnly || $0.level != .wordOnly }
            try allowOnly(levels, path: fieldPath, Set(keys.map(\.key)))
            for (key, level) in keys {
                guard let value = try weight(levels, key, path: fieldPath) else { continue }
                weights.weights[field.rawValue][level.rawValue] = value
            }
            var rows = weights.weights
            let partial = rows[field.rawValue][AgreementLevel.partial.rawValue]
            let disagree = rows[field.rawValue][AgreementLevel.disagree.rawValue]
            if !givesWordOnly {
                rows[field.rawValue][AgreementLevel.wordOnly.rawValue] = disagree
            } else if levels[AgreementLevel.wordOnly.key] == nil {
                let value = rows[field.rawValue][AgreementLevel.wordOnly.rawValue]
                rows[field.rawValue][AgreementLevel.wordOnly.rawValue] = Swift.min(Swift.max(value, disagree), partial)
            }
            weights.weights = rows
            try checkOrder(weights, field, path: fieldPath)
        }
        if let prior = try weight(object, "prior", path: path) {
            guard prior < 0 else {
                throw error(
                    "\(path).prior",
                    "must be below 0: it is the log2 odds that two records sharing a blocking key are one person (default \(MatchWeights.standard.prior))")
            }
            weights.prior = prior
        }
        if let bonus = try weight(object, "same_household", path: path) {
            guard bonus >= 0 else {
                throw error("\(path).same_household", "must be 0 or more: living in the child's household is evidence for, never against")
            }
            weights.sameHousehold = bonus
        }
        return weights
    }

    /// One weight: a finite number within ±``weightBound``.
    private func weight(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> Double? {
        guard let value = try optionalNumber(object, key, path: path) else { return nil }
        guard value.isFinite, abs(value) <= Self.weightBound else {
            throw error("\(path).\(key)", "must be a log2 weight from -\(Int(Self.weightBound)) to \(Int(Self.weightBound))")
        }
        return value
    }

    /// Agreement must never weigh less than a weaker agreement, and a missing field must weigh
    /// between disagreement and exact agreement: otherwise strangers would outscore the same person.
    private func checkOrder(_ weights: MatchWeights, _ field: MatchField, path: String) throws(RenkeiError) {
        let row = weights.weights[field.rawValue]
        // Only names and addresses give `word_only`; the other fields' column follows their `disagree`.
        let ordered = Self.levelKeys.filter { $0.level != .missing && (field == .name || field == .address || $0.level != .wordOnly) }
        for (stronger, weaker) in zip(ordered, ordered.dropFirst()) where row[stronger.level.rawValue] < row[weaker.level.rawValue] {
            throw error(
                path,
                "\(weaker.key) (\(row[weaker.level.rawValue])) weighs more than \(stronger.key) (\(row[stronger.level.rawValue])): "
                    + "weights must not rise from exact to normalised, variant, fuzzy, partial, word_only, disagree")
        }
        let missing = row[AgreementLevel.missing.rawValue]
        guard missing <= row[AgreementLevel.exact.rawValue], missing >= row[AgreementLevel.disagree.rawValue] else {
            throw error(path, "missing (\(missing)) must lie between disagree and exact: an absent field is weaker evidence than either")
        }
    }
}
