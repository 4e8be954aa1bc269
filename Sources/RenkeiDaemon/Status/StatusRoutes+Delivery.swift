import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// Dead letters (list, retry, skip), subscription pause/resume/replay, and the disclosure ledger.
    func delivery(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        switch (request.method, name, rest.count) {
        case ("GET", "dead-letters", 0):
            let subscription = request.query["subscription"]
            let state: OutboxState = request.query["state"] == OutboxState.skipped.rawValue ? .skipped : .dead
            let letters = try await service.store.read { db in try Outbox.letters(state: state, subscription: subscription, in: db) }
            return .json(200, ["dead_letters": .array(letters)])
        case ("POST", "dead-letters", 2) where rest[1] == "skip":
            guard let id = Int64(rest[0]) else { return .error(400, "a dead-letter id is a number (see GET /v1/dead-letters)") }
            let at = Timestamp.rfc3339(service.wallClock.now())
            let found = try await service.writer.perform { db in try Outbox.skipDeadLetter(id: id, at: at, in: db) }
            guard let found else { return .error(404, "no dead letter \(rest[0]) (skip takes a dead letter's id from GET /v1/dead-letters)") }
            service.logger.notice("delivery: dead letter \(rest[0]) skipped by an operator; later deltas of its uid flow")
            service.delivery.forget(found)
            return .json(200, ["skipped": .string(rest[0])])
        case ("POST", "subscriptions", 2) where rest[1] == "replay":
            let subscription = rest[0]
            guard service.delivery.lanes[subscription] != nil else { return .error(404, "no subscription \(subscription)") }
            guard let text = request.query["from_lsn"], let fromLSN = Int64(text), fromLSN >= 1 else {
                return .error(400, "give ?from_lsn=N (an lsn from 1): deltas of events from that lsn on are sent again")
            }
            // Issue 17: a live subscription that ran in shadow also sends its shadowed deltas from there.
            let live = service.configuration.subscriptions[subscription]?.mode != .shadow
            let queued = try await service.writer.perform { db in
                try db.transaction {
                    try Outbox.replay(subscription: subscription, fromLSN: fromLSN, in: db)
                        + (live ? try Outbox.replayShadowed(subscription: subscription, fromLSN: fromLSN, in: db) : [])
                }
            }
            let count = queued.count
            service.logger.notice("delivery: \(subscription): \(count) delivered or shadowed delta(s) from lsn \(fromLSN) queued again (replay)")
            service.delivery.requeue(queued)
            return .json(200, ["subscription": .string(subscription), "from_lsn": .integer(fromLSN), "queued": .integer(Int64(count))])
        case ("POST", "dead-letters", 2) where rest[1] == "retry":
            guard let id = Int64(rest[0]) else { return .error(400, "a dead-letter id is a number (see GET /v1/dead-letters)") }
            let found = try await service.writer.perform { db in try Outbox.retryDeadLetter(id: id, in: db) }
            guard let found else { return .error(404, "no dead letter \(rest[0])") }
            service.delivery.requeue([found])
            return .json(200, ["retried": .string(rest[0])])
        case ("POST", "subscriptions", 2) where ["pause", "resume"].contains(rest[1]):
            let subscription = rest[0]
            guard service.delivery.lanes[subscription] != nil else { return .error(404, "no subscription \(subscription)") }
            let paused = rest[1] == "pause"
            try await service.writer.perform { db in try Outbox.setPaused(paused, subscription: subscription, in: db) }
            service.delivery.setPaused(paused, subscription: subscription)
            return .json(200, ["subscription": .string(subscription), "state": .string(paused ? "paused" : "running")])
        case ("GET", "disclosures", 0):
            guard let uid = request.query["uid"] else { return .error(400, "give ?uid=U…") }
            let entries = try await service.store.read { db in try Outbox.disclosures(uid: uid, in: db) }
            return .json(200, ["uid": .string(uid), "disclosures": .array(entries)])
        default:
            return nil
        }
    }
}
