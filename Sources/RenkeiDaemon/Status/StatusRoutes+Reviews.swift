import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// The review queue and operator link decisions.
    func reviews(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        switch (request.method, name, rest.count) {
        case ("GET", "reviews", 0):
            // Match-linking, and with it the review queue, arrives with the identity-resolution issue.
            return .json(200, ["reviews": []])
        default:
            return nil
        }
    }
}
