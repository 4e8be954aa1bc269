import Testing
@testable import RenkeiStore

/// The outbox's row states are stored text: the raw values must stay what databases already hold.
@Suite struct OutboxStateTests {
    @Test func rawValuesAreTheStoredStrings() {
        #expect(OutboxState.allCases.map(\.rawValue) == ["pending", "delivered", "dead", "skipped", "shadowed"])
        #expect(OutboxState.dead.sql == "'dead'")
        // The column's default (frozen in migration 1) is the pending state.
        #expect(StateSchema.version1.contains("state TEXT NOT NULL DEFAULT \(OutboxState.pending.sql)"))
    }
}
