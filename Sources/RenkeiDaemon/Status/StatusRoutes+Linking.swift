import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// Linking parameters (issue 14, contract §7): `POST /v1/linking/estimate` {`seed`?} answers
    /// `202` and estimates m and u from every live source record in the background; the result is
    /// appended to the log as one `operator.linking_estimated` event, which the projection applies
    /// (its weights decide records from then on unless `linking.weights` is configured).
    /// `GET /v1/linking/report` shows per field and level m, u and the weight in force, and what
    /// the model expects at the configured thresholds.
    func linking(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        switch (request.method, rest) {
        case ("POST", ["estimate"]): return try startEstimate(request)
        case ("GET", ["report"]): return .json(200, .object(try linkingReport()))
        default: return nil
        }
    }

    private func startEstimate(_ request: HTTPRequest) throws -> HTTPResponse {
        var options = MatchEstimation.Options()
        if !request.body.isEmpty {
            guard let body = try? JSONParser.parse(request.body).objectValue else {
                return .error(400, "body: must be a JSON object {\"seed\"?: integer} or empty")
            }
            for member in body where member.key != "seed" { return .error(400, "\(member.key): unknown key (only seed)") }
            if let seed = body["seed"] {
                guard let value = seed.integerValue, value >= 0 else { return .error(400, "seed: must be an integer ≥ 0") }
                options.seed = UInt64(value)
            }
        }
        guard LinkingEstimator.claim() else {
            return .error(409, "an estimate is already running; see GET /v1/linking/report when it is done")
        }
        let estimator = LinkingEstimator(
            databasePath: service.databasePath,
            decisions: OperatorDecisions(validator: service.ingestor.validator, writer: service.writer, operatorUID: request.peer?.uid),
            sameHousehold: service.projection.weights.sameHousehold, logger: service.logger)
        Task.detached { await estimator.run(options: options) }
        return .json(202, ["estimate": "started", "report": "GET /v1/linking/report"])
    }

    /// The report of the weights in force: the last estimate with the values `linking.weights`
    /// configures written over it, else the configured weights over the defaults; per value, where
    /// it comes from.
    private func linkingReport() throws -> JSONObject {
        let db = try service.reader()
        let decisions = try db.prepare("SELECT decisions FROM link_decisions WHERE id = 1").rows([]) {
            try LinkDecisions(decoding: $0.blob(0) ?? [])
        }.first ?? LinkDecisions()
        let configured = service.projection.weights
        let parameters = decisions.estimate.map { LinkingParameters(json: $0.data) }
        let (weights, origin) = WeightsOverride.inForce(configured: configured, estimated: decisions.estimatedWeights)
        return LinkingReport.json(
            parameters: parameters, weights: weights, origin: origin, estimateLSN: decisions.estimate?.lsn,
            thresholds: service.projection.thresholds, override: WeightsOverride(configured: configured))
    }
}
