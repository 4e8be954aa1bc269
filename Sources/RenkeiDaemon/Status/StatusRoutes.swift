import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

/// The status socket's endpoints (contract §6), answered from the database through read-only
/// connections on the store's threads (``RenkeiService/store``), so a slow reader never holds up the
/// writer and no SQLite call blocks the cooperative pool.
///
/// Each area has its own file (`StatusRoutes+Persons.swift`, `+Log`, `+Delivery`, `+Reviews`,
/// `+Audit`); this file only dispatches on the first path segment after `/v1/`, once
/// ``StatusOperation/check(_:_:in:)`` has refused a method or query value the document does not allow.
struct StatusRoutes: Sendable {
    let service: RenkeiService

    /// A route's answer; `nil` means "no such endpoint in this area".
    typealias Answer = HTTPResponse?

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // Who may do what (StatusAccess.swift): decided before any route runs; a refusal is logged and audited.
        if case .deny(let message) = service.access.decide(request) {
            service.logger.notice("status: refused \(request.method) \(request.path) for \(request.peer?.description ?? "an unknown caller"): \(message)")
            try? await service.recordAccess(request, status: 403)
            return .error(403, message)
        }
        let note = AuditNote()
        var response: HTTPResponse
        do {
            // What Schemas/openapi.json does not allow is refused first: 405 + Allow, 400 naming the parameter.
            if let refusal = StatusOperation.check(request, segments) {
                response = refusal
            } else {
                response = try await route(request, segments, note) ?? .error(404, "no such endpoint: \(request.method) \(request.path)")
            }
        } catch let error as RenkeiError where error.code == .notFound {
            response = .error(404, error.message)
        } catch {
            service.logger.error("status: \(request.method) \(request.path) failed: \(error)")
            response = .error(500, "internal error: \(error); see the daemon's log (journalctl -u renkeid)")
        }
        // A started rebuild was recorded by `startRebuild` itself, before it took the writer thread.
        let recordedByRoute = request.method == "POST" && segments == ["v1", "rebuild"] && response.status == 202
        if Self.isAudited(request, segments) && !recordedByRoute {
            // Issue 13: the entry commits before the answer leaves, and an audited read whose entry
            // cannot be written shows nothing (fail closed). A mutation has already been carried out
            // (and is in the event log): its answer stands, the failure is logged as an error.
            do {
                try await service.recordAccess(request, status: response.status, uid: note.uid)
            } catch where request.method == "GET" {
                response = Self.unaudited
            } catch {}
        }
        return response
    }

    /// The answer to an audited read whose access-log entry could not be written.
    static var unaudited: HTTPResponse {
        var response = HTTPResponse.error(
            503, "the access log could not be written, so this audited read is not answered; see the daemon's log (journalctl -u renkeid)")
        response.headers["Retry-After"] = "10"
        return response
    }

    /// Reads of persons, households, reviews and disclosures, and every mutating request, are audited.
    static func isAudited(_ request: HTTPRequest, _ segments: [String]) -> Bool {
        if request.method != "GET" { return true }
        guard segments.count >= 2, segments[0] == "v1" else { return false }
        return ["persons", "households", "reviews", "disclosures", "access-log", "reconciliation"].contains(segments[1])
    }

    private func route(_ request: HTTPRequest, _ s: [String], _ note: AuditNote) async throws -> Answer {
        let service = service
        if request.method == "GET", s == ["metrics"] {
            let text = try await service.store.read { db in try service.metricsText(reader: db) }
            return .text(200, text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        guard s.first == "v1", s.count >= 2 else { return nil }
        let rest = Array(s.dropFirst(2))
        // After a start, reads of the views wait for them to reflect the log (RenkeiService+Views.swift).
        if request.method == "GET", ["persons", "households", "reviews", "reconciliation"].contains(s[1]),
            let notYet = try await service.waitForCurrentViews()
        {
            return notYet
        }
        switch s[1] {
        case "status" where rest.isEmpty && request.method == "GET":
            return .json(200, try await service.store.read { db in try service.statusJSON(reader: db) })
        case "persons": return try await service.store.read { db in try self.persons(request, rest, note, in: db) }
        case "households": return try await service.store.read { db in try self.households(request, rest, in: db) }
        case "verify", "replay", "rebuild": return try await log(request, s[1], rest)
        case "subscriptions" where rest.count == 3 && rest[1] == "shadow": return try await shadow(request, rest)  // issue 17
        case "dead-letters", "subscriptions", "disclosures": return try await delivery(request, s[1], rest)
        case "reviews", "links": return try await reviews(request, s[1], rest)
        case "access-log": return try await service.store.read { db in try self.audit(request, rest, in: db) }
        case "linking": return try await linking(request, rest)  // issue 14 (StatusRoutes+Linking.swift)
        case "backup": return try await backup(request, rest)  // issue 6: online backup (StatusRoutes+Backup.swift)
        case "snapshots": return try await snapshots(request, rest)  // issue 16 (StatusRoutes+Snapshots.swift)
        case "mappings": return try await mappings(request, rest)  // issue 16: dry run of a mapped file
        case "console": return try await console(request, rest)  // issue 18: staff accounts (StatusRoutes+Console.swift)
        case "reconciliation": return try await reconciliation(request, rest)  // issue 17 (StatusRoutes+Reconciliation.swift)
        case "keys": return try await keys(request, rest)  // issue 13: at-rest key rotation (StatusRoutes+Keys.swift)
        default: return nil
        }
    }
}
