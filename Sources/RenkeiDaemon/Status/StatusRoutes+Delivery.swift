import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// Dead letters, subscription pause/resume, and the disclosure ledger.
    func delivery(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        switch (request.method, name, rest.count) {
        case ("GET", "dead-letters", 0):
            let letters = try DeliveryStore.deadLetters(subscription: request.query["subscription"], in: service.reader())
            return .json(200, ["dead_letters": .array(letters)])
        case ("POST", "dead-letters", 2) where rest[1] == "retry":
            guard let id = Int64(rest[0]) else { return .error(400, "a dead-letter id is a number (see GET /v1/dead-letters)") }
            let found = try await service.writer.perform { db in try DeliveryStore.retryDeadLetter(id: id, in: db) }
            guard found else { return .error(404, "no dead letter \(rest[0])") }
            service.delivery.wake()
            return .json(200, ["retried": .string(rest[0])])
        case ("POST", "subscriptions", 2) where ["pause", "resume"].contains(rest[1]):
            let subscription = rest[0]
            guard service.delivery.lanes[subscription] != nil else { return .error(404, "no subscription \(subscription)") }
            let paused = rest[1] == "pause"
            try await service.writer.perform { db in try DeliveryStore.setPaused(paused, subscription: subscription, in: db) }
            service.delivery.setPaused(paused, subscription: subscription)
            return .json(200, ["subscription": .string(subscription), "state": .string(paused ? "paused" : "running")])
        case ("GET", "disclosures", 0):
            guard let uid = request.query["uid"] else { return .error(400, "give ?uid=U…") }
            let entries = try DeliveryStore.disclosures(uid: uid, in: service.reader())
            return .json(200, ["uid": .string(uid), "disclosures": .array(entries)])
        default:
            return nil
        }
    }
}
