import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// The review queue and operator link decisions (contract §6): `GET /v1/reviews`,
    /// `POST /v1/reviews/{id}/link` {uid}, `POST /v1/reviews/{id}/reject`, `POST /v1/links` and
    /// `DELETE /v1/links` {uid, source, subject}. Each decision is an `operator.*` event in the log.
    func reviews(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        let decisions = OperatorDecisions(validator: service.ingestor.validator, writer: service.writer)
        switch (request.method, name, rest.count) {
        case ("GET", "reviews", 0):
            let items = try ProjectionStore.reviews(in: service.reader())
            return .json(200, ["reviews": .array(items.map(\.jsonValue))])
        case ("GET", "reviews", 1):
            guard let item = try ProjectionStore.review(rest[0], in: service.reader()) else {
                return .error(404, "no open review \(rest[0])")
            }
            return .json(200, item.jsonValue)
        case ("POST", "reviews", 2) where rest[1] == "link" || rest[1] == "reject":
            guard let item = try ProjectionStore.review(rest[0], in: service.reader()) else {
                return .error(404, "no open review \(rest[0]) (decided already, or never raised): see GET /v1/reviews")
            }
            if rest[1] == "reject" {
                let lsn = try await decisions.append(
                    type: "operator.review_rejected", subject: item.id, data: ["review_id": .string(item.id)])
                return .json(200, ["review_id": .string(item.id), "decision": "rejected", "lsn": .integer(lsn)])
            }
            guard let body = try? JSONParser.parse(request.body).objectValue, let uid = body["uid"]?.stringValue else {
                return .error(400, "body must be {\"uid\": \"U…\"}: the person to link \(item.source) \(item.subject) to")
            }
            guard try ProjectionStore.view(uid: uid, in: service.reader()) != nil else { return .error(404, "no person \(uid)") }
            let lsn = try await decisions.append(
                type: "operator.linked", subject: item.subject,
                data: ["uid": .string(uid), "source": .string(item.source), "subject": .string(item.subject)])
            return .json(200, ["review_id": .string(item.id), "decision": "linked", "uid": .string(uid), "lsn": .integer(lsn)])
        case ("POST", "links", 0), ("DELETE", "links", 0):
            guard let body = try? JSONParser.parse(request.body).objectValue, let uid = body["uid"]?.stringValue,
                let source = body["source"]?.stringValue, let subject = body["subject"]?.stringValue
            else {
                return .error(400, "body must be {\"uid\": \"U…\", \"source\": \"…\", \"subject\": \"…\"}")
            }
            let reader = try service.reader()
            guard let view = try ProjectionStore.view(uid: uid, in: reader) else { return .error(404, "no person \(uid)") }
            let unlinking = request.method == "DELETE"
            if unlinking {
                let owner = try ProjectionStore.uid(source: source, subject: subject, in: reader)
                let live = view["merged_into"]?.stringValue ?? uid
                guard owner == uid || owner == live else {
                    return .error(404, "\(source) \(subject) is not linked to \(uid)")
                }
            }
            let lsn = try await decisions.append(
                type: unlinking ? "operator.unlinked" : "operator.linked", subject: subject,
                data: ["uid": .string(uid), "source": .string(source), "subject": .string(subject)])
            return .json(200, ["decision": .string(unlinking ? "unlinked" : "linked"), "lsn": .integer(lsn)])
        default:
            return nil
        }
    }
}
