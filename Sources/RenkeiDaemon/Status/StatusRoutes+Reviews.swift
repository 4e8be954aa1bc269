import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// The review queue and operator link decisions (contract §6): `GET /v1/reviews`,
    /// `GET /v1/reviews/{id}`, `POST /v1/reviews/{id}/link` {uid}, `POST /v1/reviews/{id}/reject`,
    /// `POST /v1/links` and `DELETE /v1/links` {uid, source, subject}.
    ///
    /// Each decision is one `operator.*` event in the log, answered after the projection has
    /// applied it. A decision that cannot be carried out as asked is refused before anything is
    /// written: 400 for a malformed body (naming the field), 404 for an unknown review, person or
    /// link, 409 when it conflicts with what the views hold (a uid that is not a candidate, a
    /// person's only record, two active registrations).
    func reviews(_ request: HTTPRequest, _ name: String, _ rest: [String]) async throws -> Answer {
        do {
            switch (request.method, name, rest.count) {
            case ("GET", "reviews", 0):
                let items = try await service.store.read { db in try ProjectionStore.reviews(in: db) }
                return .json(200, ["reviews": .array(items.map(\.jsonValue))])
            case ("GET", "reviews", 1):
                let id = rest[0]
                return .json(200, try await service.store.read { db in try self.openReview(id, in: db) }.jsonValue)
            case ("POST", "reviews", 2) where rest[1] == "reject":
                return try await rejectReview(rest[0], by: request)
            case ("POST", "reviews", 2) where rest[1] == "link":
                return try await linkReview(rest[0], body: request.body, by: request)
            case ("POST", "links", 0):
                return try await link(body: request.body, by: request)
            case ("DELETE", "links", 0):
                return try await unlink(body: request.body, by: request)
            default:
                return nil
            }
        } catch let refusal as DecisionRefusal {
            return .error(refusal.status, refusal.message)
        }
    }

    /// The decisions of `request`'s caller: their events' provenance names the caller's uid.
    private func decisions(by request: HTTPRequest) -> OperatorDecisions {
        OperatorDecisions(
            validator: service.ingestor.validator, writer: service.writer, operatorUID: request.peer?.uid,
            staff: ConsoleCaller.staff, wallClock: service.wallClock)
    }

    private func openReview(_ id: String, in db: Database) throws -> ReviewItem {
        guard let item = try ProjectionStore.review(id, in: db) else {
            throw DecisionRefusal(404, "no open review \(id) (decided already, or never raised): see GET /v1/reviews")
        }
        return item
    }

    /// `operator.review_rejected`: the item closes; its candidates are never linked to the record
    /// automatically again.
    private func rejectReview(_ id: String, by request: HTTPRequest) async throws -> Answer {
        let item = try await service.store.read { db in try self.openReview(id, in: db) }
        let lsn = try await decisions(by: request).append(
            type: "operator.review_rejected", subject: item.id, data: ["review_id": .string(item.id)])
        return .json(200, ["review_id": .string(item.id), "decision": "rejected", "lsn": .integer(lsn)])
    }

    /// `operator.linked` for the review's record, to one of its candidates (a uid that a merge
    /// retired stands for the uid that kept it). Linking elsewhere is `POST /v1/links`.
    private func linkReview(_ id: String, body: [UInt8], by request: HTTPRequest) async throws -> Answer {
        let sources = Set(service.configuration.sources.keys)
        let (item, uid) = try await service.store.read { db in
            let item = try self.openReview(id, in: db)
            let asked = try DecisionRequest.parse(body, keys: ["uid"], sources: sources)
            let lookup = DecisionLookup(db: db)
            guard let uid = try lookup.live(asked.uid) else { throw DecisionRefusal(404, "uid: no person \(asked.uid)") }
            let candidates = item.candidates.map(\.uid)
            guard try candidates.contains(where: { try lookup.live($0) == uid }) else {
                throw DecisionRefusal(
                    409,
                    "uid: \(asked.uid) is not a candidate of \(item.id) (candidates: \(candidates.joined(separator: ", "))); "
                        + "to link \(item.source) \(item.subject) to another person use POST /v1/links, "
                        + "or POST /v1/reviews/\(item.id)/reject if it is none of them")
            }
            if let target = try lookup.record(uid) { try lookup.checkRegistry(linking: item.source, item.subject, to: target) }
            return (item, uid)
        }
        let lsn = try await append(
            "operator.linked", subject: item.subject,
            ["uid": .string(uid), "source": .string(item.source), "subject": .string(item.subject)], by: request)
        return .json(200, ["review_id": .string(item.id), "decision": "linked", "uid": .string(uid), "lsn": .integer(lsn)])
    }

    /// `operator.linked` {uid, source, subject}: the record goes to `uid` (its live uid), whether it
    /// was linked elsewhere, alone, or not seen yet (then it is pinned and goes there on arrival).
    private func link(body: [UInt8], by request: HTTPRequest) async throws -> Answer {
        let asked = try DecisionRequest.parse(
            body, keys: ["uid", "source", "subject"], sources: Set(service.configuration.sources.keys))
        let (source, subject, askedUID) = (asked.source ?? "", asked.subject ?? "", asked.uid)
        let uid = try await service.store.read { db in
            let lookup = DecisionLookup(db: db)
            guard let uid = try lookup.live(askedUID), let target = try lookup.record(uid) else {
                throw DecisionRefusal(404, "uid: no person \(askedUID)")
            }
            try lookup.checkRegistry(linking: source, subject, to: target)
            return uid
        }
        let lsn = try await append(
            "operator.linked", subject: subject,
            ["uid": .string(uid), "source": .string(source), "subject": .string(subject)], by: request)
        return .json(200, ["decision": "linked", "uid": .string(uid), "lsn": .integer(lsn)])
    }

    /// `operator.unlinked` {uid, source, subject}: the record splits off into a new uid and is never
    /// linked back to this person automatically.
    private func unlink(body: [UInt8], by request: HTTPRequest) async throws -> Answer {
        let asked = try DecisionRequest.parse(
            body, keys: ["uid", "source", "subject"], sources: Set(service.configuration.sources.keys))
        let (source, subject, askedUID) = (asked.source ?? "", asked.subject ?? "", asked.uid)
        let uid = try await service.store.read { db in
            let lookup = DecisionLookup(db: db)
            guard let uid = try lookup.live(askedUID), let person = try lookup.record(uid) else {
                throw DecisionRefusal(404, "uid: no person \(askedUID)")
            }
            guard try ProjectionStore.uid(source: source, subject: subject, in: db) == uid else {
                throw DecisionRefusal(404, "\(source) \(subject) is not linked to \(askedUID): see GET /v1/persons/\(uid)")
            }
            guard person.records.count > 1 else {
                throw DecisionRefusal(
                    409, "\(source) \(subject) is the only record of \(uid): there is nothing to split it from")
            }
            return uid
        }
        let lsn = try await append(
            "operator.unlinked", subject: subject,
            ["uid": .string(uid), "source": .string(source), "subject": .string(subject)], by: request)
        return .json(200, ["decision": "unlinked", "uid": .string(uid), "lsn": .integer(lsn)])
    }

    /// Appends one decision; an event the schema refuses (a subject too long, say) is a 400.
    private func append(_ type: String, subject: String, _ data: JSONObject, by request: HTTPRequest) async throws -> Int64 {
        do {
            return try await decisions(by: request).append(type: type, subject: subject, data: data)
        } catch let error as RenkeiError where error.code == .invalidEvent {
            throw DecisionRefusal(400, error.message)
        }
    }
}
