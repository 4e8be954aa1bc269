import RenkeiCore

/// Polls `condition` every 25 ms until it holds or `timeout` passes; returns whether it held.
/// A throwing condition counts as not yet. Every daemon fixture waits through this one function.
func pollUntil(_ timeout: Duration, _ condition: @Sendable () async throws -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return (try? await condition()) == true
}

/// How many deltas a subscription's outbox has ever held, from its member of `/v1/status`
/// `subscriptions`: `backlog` (dead letters included) + `delivered` + `skipped` + `shadowed`. Planning a delta
/// adds one; sending, skipping or dead-lettering it only moves it between the figures. Equal sums
/// before and after a step whose writes have committed are positive evidence that the step planned
/// no delta, where waiting a while to see whether one arrives proves nothing.
func plannedDeltas(_ subscription: JSONValue?) -> Int64 {
    ["backlog", "delivered", "skipped", "shadowed"].reduce(0) { $0 + (subscription?[$1]?.integerValue ?? 0) }
}
