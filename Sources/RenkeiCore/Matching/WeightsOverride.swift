/// What `linking.weights` configures, value by value (issue 14): the weights of the levels it
/// gives, and `prior` and `same_household` when given. It is laid over the weights that would
/// decide otherwise — the last estimate (`operator.linking_estimated`), else the defaults — so a
/// partial override changes only what it names and an estimate still decides the rest.
///
/// The configuration hands the projection ``MatchWeights/standard`` with the configured values
/// written over it, so a value is known as configured when it differs from its default: a value
/// configured equal to its default cannot be told from one left out, and an estimate replaces it.
public struct WeightsOverride: Sendable, Hashable {
    /// `levels[field][level]`: the configured weight, `nil` where the estimate (or default) decides.
    public private(set) var levels: [[Double?]]
    /// The configured prior, if any.
    public private(set) var prior: Double?
    /// The configured same-household weight, if any.
    public private(set) var sameHousehold: Double?

    /// The override `configured` makes over `defaults`: every value that differs.
    /// - Parameters:
    ///   - configured: `linking.weights` as read (the defaults with the configured values over them).
    ///   - defaults: what `configured` was read over.
    public init(configured: MatchWeights, defaults: MatchWeights = .standard) {
        levels = MatchField.allCases.map { field in
            AgreementLevel.allCases.map { level in
                // Only names and addresses give the word-only level; the other fields' column
                // follows `disagree`.
                guard field == .name || field == .address || level != .wordOnly else { return nil }
                let value = configured.weight(field, level)
                return value == defaults.weight(field, level) ? nil : value
            }
        }
        prior = configured.prior == defaults.prior ? nil : configured.prior
        sameHousehold = configured.sameHousehold == defaults.sameHousehold ? nil : configured.sameHousehold
    }

    /// Whether nothing is configured.
    public var isEmpty: Bool {
        prior == nil && sameHousehold == nil && levels.allSatisfy { $0.allSatisfy { $0 == nil } }
    }

    /// Whether the weight of `field` at `level` is configured.
    public func isConfigured(_ field: MatchField, _ level: AgreementLevel) -> Bool {
        levels[field.rawValue][level.rawValue] != nil
    }

    /// `base` with the configured values written over it.
    ///
    /// The configured values keep their order within a field (the configuration checked it), but
    /// the estimated ones beside them may not respect it: each level left to `base` is brought
    /// within the configured levels around it — no more than the nearest stronger configured
    /// level, no less than the nearest weaker one — so agreement never weighs less than a weaker
    /// agreement. The estimate's ``MatchWeights/namesCombined`` and term-frequency adjustments
    /// stay; an adjustment never takes an exact name agreement below 0.
    public func applied(to base: MatchWeights) -> MatchWeights {
        guard !isEmpty else { return base }
        var weights = base
        var table = base.weights
        let ordered = AgreementLevel.allCases.filter { $0 != .missing }
        for field in MatchField.allCases {
            let row = levels[field.rawValue]
            for level in AgreementLevel.allCases {
                if let value = row[level.rawValue] { table[field.rawValue][level.rawValue] = value }
            }
            for (index, level) in ordered.enumerated() where row[level.rawValue] == nil {
                var value = table[field.rawValue][level.rawValue]
                if let ceiling = ordered[..<index].compactMap({ row[$0.rawValue] }).last { value = Swift.min(value, ceiling) }
                if let floor = ordered[(index + 1)...].compactMap({ row[$0.rawValue] }).first { value = Swift.max(value, floor) }
                table[field.rawValue][level.rawValue] = value
            }
        }
        weights.weights = table
        // A configured word-only weight turns that level on over an estimate written before it existed.
        if isConfigured(.name, .wordOnly) { weights.givesWordOnly = true }
        if isConfigured(.address, .wordOnly) { weights.givesAddressWordOnly = true }
        if let prior { weights.prior = prior }
        if let sameHousehold { weights.sameHousehold = sameHousehold }
        if isConfigured(.name, .exact) {
            let exact = table[MatchField.name.rawValue][AgreementLevel.exact.rawValue]
            weights.commonNames = base.commonNames.map { ($0.name, Swift.max($0.weight, -Swift.max(exact, 0))) }
        }
        return weights
    }

    /// The weights in force and where they come from: `configured` (an override over the
    /// defaults), `estimated`, `estimated+configured` (an override over an estimate) or `default`.
    /// - Parameters:
    ///   - configured: `linking.weights` as read.
    ///   - estimated: the weights of the last `operator.linking_estimated` event, if any.
    public static func inForce(configured: MatchWeights, estimated: MatchWeights?) -> (weights: MatchWeights, origin: String) {
        let override = WeightsOverride(configured: configured)
        guard let estimated else { return (configured, override.isEmpty ? "default" : "configured") }
        return (override.applied(to: estimated), override.isEmpty ? "estimated" : "estimated+configured")
    }
}
