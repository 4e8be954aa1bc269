import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `GET /v1/verify`, `POST /v1/replay`, `POST /v1/rebuild`.
    func log(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        guard rest.isEmpty else { return nil }
        switch (request.method, name) {
        case ("GET", "verify"):
            // The event log under the contract's keys; the access log's chain (issue 13) under `access_log`.
            let (report, accessLog) = try await service.verify()
            var reply: JSONObject = ["ok": .bool(report.ok && accessLog.ok), "checked": .integer(report.checked)]
            if !report.ok {
                reply["first_bad_lsn"] = report.firstBadLSN.map { .integer($0) } ?? .null
                reply["error"] = .string(report.error ?? "unknown")
            } else if !accessLog.ok {
                reply["first_bad_lsn"] = .null
                reply["error"] = .string("access log: " + (accessLog.error ?? "unknown"))
            }
            reply["access_log"] = accessLog.json
            return .json(200, .object(reply))
        case ("POST", "replay"):
            guard !request.body.isEmpty else {
                return .error(400, "body: required, the events to append as JSONL (one envelope a line) or a JSON array")
            }
            return await service.replay(body: request.body, peer: request.peer)
        case ("POST", "rebuild"):
            return await service.startRebuild(auditing: request)
        default:
            return nil
        }
    }
}
