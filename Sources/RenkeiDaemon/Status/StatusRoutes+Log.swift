import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `GET /v1/verify`, `POST /v1/replay`, `POST /v1/rebuild`.
    func log(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        guard rest.isEmpty else { return nil }
        switch (request.method, name) {
        case ("GET", "verify"):
            let report = try await service.verify()
            if report.ok { return .json(200, ["ok": true, "checked": .integer(report.checked)]) }
            return .json(200, [
                "ok": false, "checked": .integer(report.checked),
                "first_bad_lsn": report.firstBadLSN.map { .integer($0) } ?? .null,
                "error": .string(report.error ?? "unknown"),
            ])
        case ("POST", "replay"):
            guard !request.body.isEmpty else {
                return .error(400, "body: required, the events to append as JSONL (one envelope a line) or a JSON array")
            }
            return await service.replay(body: request.body)
        case ("POST", "rebuild"):
            return await service.startRebuild(auditing: request)
        default:
            return nil
        }
    }
}
