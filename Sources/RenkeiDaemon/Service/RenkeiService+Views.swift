import RenkeiStore
import RenkeiSystem
import Synchronization

extension RenkeiService {
    /// How long a person, household or review read waits for the views to catch up after a start
    /// before it answers `503` with `Retry-After`.
    static let viewsPatience: Duration = .seconds(2)

    /// Whether the stored views (what person, household and review reads answer from) reflect every
    /// event in the log: always once the views are live, and while they load only if nothing was
    /// logged after their checkpoint.
    func viewsAreCurrent() async throws -> Bool {
        switch projection.readiness {
        case .ready: return true
        case .catchingUp: return false
        case .loading(let checkpoint): return try await checkpoint >= headLSN()
        }
    }

    /// The log's head, read on a store thread.
    func headLSN() async throws -> Int64 {
        try await store.read { db in try EventLog.head(in: db).lsn }
    }

    /// `nil` when the views are current (at once, or within ``viewsPatience``); otherwise the `503`
    /// answer for a read, with `Retry-After`, saying how far the views are.
    func waitForCurrentViews() async throws -> HTTPResponse? {
        var waited = Duration.zero
        while true {
            if try await viewsAreCurrent() { return nil }
            if waited >= Self.viewsPatience { break }
            // A status request's own wait, on the service's clock (the views change on other threads).
            try? await clock.sleep(for: .milliseconds(20))
            waited += .milliseconds(20)
        }
        let state = projection.readiness.name
        let head = try await headLSN()
        var response = HTTPResponse.error(
            503,
            "the views are catching up with the log after a start (projection_state \(state), projection_lsn "
                + "\(projection.lsn) of head_lsn \(head)); try again shortly, or follow GET /v1/status")
        response.headers["Retry-After"] = "5"
        return response
    }
}
