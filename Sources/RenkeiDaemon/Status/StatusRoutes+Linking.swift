import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

extension StatusRoutes {
    /// Whether an estimate is running (one at a time).
    private static let estimating = Mutex(false)

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
        let started = Self.estimating.withLock { running -> Bool in
            guard !running else { return false }
            running = true
            return true
        }
        guard started else { return .error(409, "an estimate is already running; see GET /v1/linking/report when it is done") }
        let service = service
        let decisions = OperatorDecisions(
            validator: service.ingestor.validator, writer: service.writer, operatorUID: request.peer?.uid, wallClock: service.wallClock)
        Task.detached {
            defer { Self.estimating.withLock { $0 = false } }
            do {
                let persons = try service.reader().prepare("SELECT record FROM persons ORDER BY uid").rows([]) {
                    try PersonRecord(decoding: $0.blob(0) ?? [])
                }
                let profiles = MatchEstimation.profiles(of: persons)
                let parameters = MatchEstimation.estimate(profiles, options: options)
                let lsn = try await decisions.append(
                    type: "operator.linking_estimated", subject: "linking",
                    data: parameters.json(sameHousehold: service.projection.weights.sameHousehold))
                service.logger.notice("linking: estimated from \(profiles.count) records (operator.linking_estimated at lsn \(lsn))")
            } catch {
                service.logger.error("linking: estimate failed: \(error); the weights in force stay")
            }
        }
        return .json(202, ["estimate": "started", "report": "GET /v1/linking/report"])
    }

    /// The report of the weights in force: configured (`linking.weights` overrides an estimate),
    /// else the last estimate, else the defaults.
    private func linkingReport() throws -> JSONObject {
        let db = try service.reader()
        let decisions = try db.prepare("SELECT decisions FROM link_decisions WHERE id = 1").rows([]) {
            try LinkDecisions(decoding: $0.blob(0) ?? [])
        }.first ?? LinkDecisions()
        let configured = service.projection.weights
        let parameters = decisions.estimate.map { LinkingParameters(json: $0.data) }
        let weights: MatchWeights
        let origin: String
        if configured != .standard {
            (weights, origin) = (configured, "configured")
        } else if let estimated = decisions.estimatedWeights {
            (weights, origin) = (estimated, "estimated")
        } else {
            (weights, origin) = (.standard, "default")
        }
        return LinkingReport.json(
            parameters: parameters, weights: weights, origin: origin, estimateLSN: decisions.estimate?.lsn,
            thresholds: service.projection.thresholds)
    }
}
