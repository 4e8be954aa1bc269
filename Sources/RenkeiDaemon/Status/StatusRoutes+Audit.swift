import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `GET /v1/access-log?limit=N`: the newest entries first.
    func audit(_ request: HTTPRequest, _ rest: [String], in db: Database) throws -> Answer {
        guard request.method == "GET", rest.isEmpty else { return nil }
        let limit = Int(request.query["limit"] ?? "").map { max(1, min($0, 100_000)) } ?? 1000
        return .json(200, ["entries": .array(try AccessLog.entries(in: db, limit: limit))])
    }
}
