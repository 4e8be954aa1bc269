import RenkeiCore
import RenkeiSystem

extension StatusRoutes {
    /// `POST /v1/subscriptions/{name}/shadow/diff` (issue 17, `renkeictl shadow diff NAME FILE
    /// --mapping M`): the cut-over report of a subscription against a legacy export (``ShadowDiffer``).
    /// Admin group: it answers many persons' data at once; audited like every POST.
    func shadow(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        guard request.method == "POST", rest.count == 3, rest[2] == "diff" else { return nil }
        // The comparison reads the persons' views (protection, links): wait until they reflect the log.
        if let notYet = try await service.waitForCurrentViews() { return notYet }
        let parsed: ShadowDiffer.Request
        switch ShadowDiffer.Request.parse(request.body) {
        case .success(let value): parsed = value
        case .failure(let invalid): return .error(400, invalid.message)
        }
        switch try await ShadowDiffer(service: service).report(subscription: rest[0], parsed) {
        case .success(let report): return .json(200, report)
        case .failure(let refusal): return .error(refusal.status, refusal.message)
        }
    }
}
