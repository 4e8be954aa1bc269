import Foundation
import Testing

/// The recorded scenarios of `Tests/Fixtures/scenarios/` (issue 7), each replayed into its own
/// `renkeid` and compared with its reviewed goldens; see ``ScenarioRunner`` for the three passes.
/// `RENKEI_SCENARIO=a,b` narrows the run; `ops/replay-scenario NAME --update` rewrites goldens.
@Suite("Scenario", .serialized)
struct ScenarioTests {
    @Test(.timeLimit(.minutes(3)), arguments: ScenarioFixture.names)
    func scenario(_ name: String) async throws {
        try await ScenarioRunner(name).run()
    }

    @Test func atLeastFifteenScenarios() {
        // Only meaningful for a full run (RENKEI_SCENARIO unset).
        if ProcessInfo.processInfo.environment["RENKEI_SCENARIO"] == nil {
            #expect(ScenarioFixture.names.count >= 15, "scenarios: \(ScenarioFixture.names)")
        }
    }
}
