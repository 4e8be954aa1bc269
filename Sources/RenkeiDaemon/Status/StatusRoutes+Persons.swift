import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `GET /v1/persons/{uid}`, `GET /v1/persons?source=&subject=` (`?reveal=protected` is audited),
    /// `GET /v1/persons/{uid}/history`. The uid read is noted for the access log in `audit`.
    func persons(_ request: HTTPRequest, _ rest: [String], _ audit: AuditNote, in reader: Database) throws -> Answer {
        guard request.method == "GET" else { return nil }
        if rest == ["search"] { return try search(request, in: reader) }  // issue 18 (StatusRoutes+Search.swift)
        if rest.count == 2, rest[1] == "history" {
            audit.uid = rest[0]
            return try history(uid: rest[0], audit, in: reader)
        }
        let reveal = request.query["reveal"] == "protected"
        let uid: String
        switch rest.count {
        case 1:
            uid = rest[0]
        case 0:
            guard let source = request.query["source"], let subject = request.query["subject"] else {
                return .error(400, "give ?source=…&subject=… (or GET /v1/persons/{uid})")
            }
            guard let found = try ProjectionStore.uid(source: source, subject: subject, in: reader) else {
                return .error(404, "no person is linked to \(source) subject \(subject)")
            }
            uid = found
        default:
            return nil
        }
        audit.uid = uid
        guard let view = try ProjectionStore.view(uid: uid, in: reader) else { return .error(404, "no person \(uid)") }
        if reveal { service.logger.notice("operator action: person \(uid) read with protected fields revealed (uid \(request.peer.map { String($0.uid) } ?? "?"))") }
        return .json(200, .object(Projection.reply(fromView: view, revealProtected: reveal)))
    }

    /// `GET /v1/persons/{uid}/history`: the person's events with their provenance, no data (``PersonHistory``).
    func history(uid asked: String, _ audit: AuditNote, in db: Database) throws -> Answer {
        guard let (uid, events) = try PersonHistory.events(of: asked, in: db) else {
            return .error(404, "no person \(asked)")
        }
        audit.uid = uid
        return .json(200, ["uid": .string(uid), "events": .array(events)])
    }

    /// `GET /v1/households/{no}`: protected members are left out unless `?reveal=protected`.
    func households(_ request: HTTPRequest, _ rest: [String], in db: Database) throws -> Answer {
        guard request.method == "GET", rest.count == 1 else { return nil }
        guard let household = try ProjectionStore.household(rest[0], in: db),
            !household.members.isEmpty || !household.protectedMembers.isEmpty
        else {
            return .error(404, "no household \(rest[0])")
        }
        let reveal = request.query["reveal"] == "protected"
        if reveal {
            let caller = request.peer.map { String($0.uid) } ?? "?"
            service.logger.notice("operator action: household \(rest[0]) read with protected members revealed (uid \(caller))")
        }
        return .json(200, .object(household.view(revealProtected: reveal)))
    }
}
