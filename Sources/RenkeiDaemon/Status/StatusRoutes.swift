import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

/// The status socket's endpoints (contract §6), answered from the database through a read-only
/// connection per request, so a slow reader never holds up the writer.
struct StatusRoutes: Sendable {
    let service: RenkeiService

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let response: HTTPResponse
        do {
            response = try await route(request, segments)
        } catch let error as RenkeiError where error.code == .notFound {
            response = .error(404, error.message)
        } catch {
            service.logger.error("status: \(request.method) \(request.path) failed: \(error)")
            response = .error(500, "internal error: \(error); see the daemon's log (journalctl -u renkeid)")
        }
        if Self.isAudited(request, segments) {
            await service.recordAccess(request, status: response.status)
        }
        return response
    }

    /// Reads of persons, households, reviews and disclosures, and every mutating request, are audited.
    static func isAudited(_ request: HTTPRequest, _ segments: [String]) -> Bool {
        if request.method != "GET" { return true }
        guard segments.count >= 2, segments[0] == "v1" else { return false }
        return ["persons", "households", "reviews", "disclosures", "access-log"].contains(segments[1])
    }

    private func route(_ request: HTTPRequest, _ s: [String]) async throws -> HTTPResponse {
        switch (request.method, s.count, s.first) {
        case ("GET", 1, "metrics"):
            return .text(200, try service.metricsText(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        default: break
        }
        guard s.first == "v1", s.count >= 2 else { return .error(404, "no such endpoint: \(request.path)") }
        switch (request.method, s[1], s.count) {
        case ("GET", "status", 2):
            return .json(200, try service.statusJSON())
        case ("GET", "persons", 3):
            return try person(uid: s[2], reveal: request.query["reveal"] == "protected")
        case ("GET", "persons", 2):
            guard let source = request.query["source"], let subject = request.query["subject"] else {
                return .error(400, "give ?source=…&subject=… (or GET /v1/persons/{uid})")
            }
            let reader = try service.reader()
            guard let uid = try ProjectionStore.uid(source: source, subject: subject, in: reader) else {
                return .error(404, "no person is linked to \(source) subject \(subject)")
            }
            return try person(uid: uid, reveal: request.query["reveal"] == "protected")
        case ("GET", "households", 3):
            let reader = try service.reader()
            guard let household = try ProjectionStore.household(s[2], in: reader), !household.members.isEmpty || !household.protectedMembers.isEmpty else {
                return .error(404, "no household \(s[2])")
            }
            return .json(200, .object(household.view(revealProtected: request.query["reveal"] == "protected")))
        case ("GET", "verify", 2):
            let report = try await service.verify()
            if report.ok { return .json(200, ["ok": true, "checked": .integer(report.checked)]) }
            return .json(200, [
                "ok": false, "checked": .integer(report.checked), "first_bad_lsn": report.firstBadLSN.map { .integer($0) } ?? .null,
                "error": .string(report.error ?? "unknown"),
            ])
        case ("POST", "replay", 2):
            return await service.replay(body: request.body)
        case ("POST", "rebuild", 2):
            return service.startRebuild()
        case ("GET", "reviews", 2):
            // Match-linking (and with it the review queue) arrives with the identity-resolution issue.
            return .json(200, ["reviews": []])
        case ("GET", "dead-letters", 2):
            return .json(200, ["dead_letters": .array(try DeliveryStore.deadLetters(subscription: request.query["subscription"], in: service.reader()))])
        case ("POST", "dead-letters", 4) where s[3] == "retry":
            guard let id = Int64(s[2]) else { return .error(400, "dead-letter id must be a number") }
            let found = try await service.writer.perform { db in try DeliveryStore.retryDeadLetter(id: id, in: db) }
            guard found else { return .error(404, "no dead letter \(s[2])") }
            service.delivery.wake()
            return .json(200, ["retried": .string(s[2])])
        case ("POST", "subscriptions", 4) where ["pause", "resume"].contains(s[3]):
            let name = s[2]
            guard service.delivery.lanes[name] != nil else { return .error(404, "no subscription \(name)") }
            let paused = s[3] == "pause"
            try await service.writer.perform { db in try DeliveryStore.setPaused(paused, subscription: name, in: db) }
            service.delivery.setPaused(paused, subscription: name)
            return .json(200, ["subscription": .string(name), "state": .string(paused ? "paused" : "running")])
        case ("GET", "disclosures", 2):
            guard let uid = request.query["uid"] else { return .error(400, "give ?uid=U…") }
            return .json(200, ["uid": .string(uid), "disclosures": .array(try DeliveryStore.disclosures(uid: uid, in: service.reader()))])
        case ("GET", "access-log", 2):
            return .json(200, ["entries": .array(try AccessLog.entries(in: service.reader(), limit: Int(request.query["limit"] ?? "") ?? 1000))])
        default:
            return .error(404, "no such endpoint: \(request.method) \(request.path)")
        }
    }

    private func person(uid: String, reveal: Bool) throws -> HTTPResponse {
        guard let view = try ProjectionStore.view(uid: uid, in: service.reader()) else {
            return .error(404, "no person \(uid)")
        }
        return .json(200, .object(Projection.reply(fromView: view, revealProtected: reveal)))
    }
}
