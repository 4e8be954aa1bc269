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
