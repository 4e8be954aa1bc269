import RenkeiCore
import Testing

/// `linking.weights` laid over an estimate (issue 14): only the configured values replace the
/// estimate's, the rest stays estimated and in order, and the origin says which is which.
@Suite struct WeightsOverrideTests {
    /// An estimate unlike the defaults everywhere.
    static var estimate: MatchWeights {
        var weights = MatchWeights(
            weights: [
                [9, 8, 7, 6, 3, -7, 0], [8, 7, 6, 5, 2, -7, 0], [12, 5, 5, 5, 5, -12, 0], [1, 1, 1, 1, 1, -6, 0],
                [6, 6, 5, 5, -3, -4, 0],
            ], prior: -20, sameHousehold: 8)
        weights.namesCombined = true
        return weights
    }

    @Test func nothingConfiguredLeavesTheEstimate() {
        let override = WeightsOverride(configured: .standard)
        #expect(override.isEmpty)
        #expect(override.applied(to: Self.estimate) == Self.estimate)
        #expect(WeightsOverride.inForce(configured: .standard, estimated: nil).origin == "default")
        #expect(WeightsOverride.inForce(configured: .standard, estimated: Self.estimate) == (Self.estimate, "estimated"))
    }

    @Test func aPartialOverrideReplacesOnlyWhatItNames() {
        var configured = MatchWeights.standard
        configured.prior = -15
        configured.weights[MatchField.birthDate.rawValue][AgreementLevel.exact.rawValue] = 10
        let override = WeightsOverride(configured: configured)
        #expect(override.prior == -15 && override.sameHousehold == nil)
        #expect(override.isConfigured(.birthDate, .exact) && !override.isConfigured(.birthDate, .partial))
        let (weights, origin) = WeightsOverride.inForce(configured: configured, estimated: Self.estimate)
        #expect(origin == "estimated+configured")
        #expect(weights.prior == -15 && weights.weight(.birthDate, .exact) == 10)
        // Everything else is the estimate's, names_combined included.
        #expect(weights.weight(.birthDate, .partial) == 5 && weights.weight(.name, .exact) == 9)
        #expect(weights.weight(.address, .partial) == -3 && weights.namesCombined)
        // Without an estimate the configured table decides, as before.
        #expect(WeightsOverride.inForce(configured: configured, estimated: nil) == (configured, "configured"))
    }

    /// Estimated levels beside a configured one are brought within it, so no weaker agreement
    /// weighs more than a stronger one.
    @Test func estimatedLevelsAroundAConfiguredOneStayInOrder() {
        var configured = MatchWeights.standard
        configured.weights[MatchField.address.rawValue][AgreementLevel.disagree.rawValue] = -1.5
        configured.weights[MatchField.name.rawValue][AgreementLevel.exact.rawValue] = 7
        let weights = WeightsOverride(configured: configured).applied(to: Self.estimate)
        let address = weights.weights[MatchField.address.rawValue]
        #expect(address == [6, 6, 5, 5, -1.5, -1.5, -1.5, 0])  // partial (−3) raised to the configured disagree
        let name = weights.weights[MatchField.name.rawValue]
        #expect(name == [7, 7, 7, 6, 3, -7, -7, 0])  // normalised (8) and variant lowered to the configured exact
        #expect(!weights.givesWordOnly)  // seven-level rows, as an old estimate's: no word-only level
        #expect(!weights.givesAddressWordOnly)
    }
}
