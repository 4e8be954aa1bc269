import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// The reconciliation lists (突合, contract §7, issue 17):
    /// - `GET /v1/reconciliation` → {`checks`: {name: {`open`, `explained`, `resolved`, `title`}}};
    /// - `GET /v1/reconciliation/{check}?after=ID&limit=N&state=open|explained|resolved` →
    ///   {`findings`: [{`id`, `uid`, `facts`, `since`, …}], `next_after`}: open and explained ones
    ///   unless `state` says otherwise, in id order, `limit` (default 100) a page;
    /// - `GET /v1/reconciliation/{check}/{id}` → the finding and its `history`;
    /// - `POST /v1/reconciliation/{check}/{id}/explain` {`note`} → an `operator.finding_explained` event.
    ///
    /// Every finding answered leaves out the address, postal code and household of each person in it
    /// who is protected now.
    func reconciliation(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        do {
            switch (request.method, rest.count) {
            case ("GET", 0):
                return .json(200, try await service.store.read { db in try Self.reconciliationCounts(in: db) })
            case ("GET", 1):
                let check = try Self.knownCheck(rest[0])
                let limit = Int(request.query["limit"] ?? "") ?? 100
                let states: [ReconciliationFinding.State] =
                    request.query["state"].flatMap(ReconciliationFinding.State.init(rawValue:)).map { [$0] } ?? [.open, .explained]
                let after = request.query["after"]
                return .json(200, try await service.store.read { db in
                    let page = try ReconciliationStore.findings(check: check, states: states, after: after, limit: limit, in: db)
                    var reply: JSONObject = ["findings": .array(try page.map { .object(try Self.shown($0, in: db).json) })]
                    reply["next_after"] = page.count == limit ? .string(page.last?.id ?? "") : .null
                    return .object(reply)
                })
            case ("GET", 2):
                let check = try Self.knownCheck(rest[0])
                return .json(200, try await service.store.read { db in
                    let finding = try Self.finding(rest[1], of: check, in: db)
                    var object = try Self.shown(finding, in: db).json
                    object["history"] = .array(try ReconciliationStore.history(finding.id, in: db).map { .object($0.json) })
                    return .object(object)
                })
            case ("POST", 3) where rest[2] == "explain":
                return try await explain(check: rest[0], id: rest[1], body: request.body, by: request)
            default:
                return nil
            }
        } catch let refusal as DecisionRefusal {
            return .error(refusal.status, refusal.message)
        }
    }

    /// `{checks: {name: {open, explained, resolved, title}}}`, every check listed.
    static func reconciliationCounts(in db: Database) throws -> JSONValue {
        let counts = try ReconciliationStore.counts(in: db)
        var checks = JSONObject()
        for check in ReconciliationChecks.standard {
            let byState = counts[check.name] ?? [:]
            checks[check.name] = [
                "open": .integer(byState["open"] ?? 0), "explained": .integer(byState["explained"] ?? 0),
                "resolved": .integer(byState["resolved"] ?? 0), "title": .string(check.title),
            ]
        }
        return ["checks": .object(checks)]
    }

    private static func knownCheck(_ name: String) throws(DecisionRefusal) -> String {
        guard ReconciliationChecks.named(name) != nil else {
            let names = ReconciliationChecks.standard.map(\.name).joined(separator: ", ")
            throw DecisionRefusal(404, "no reconciliation check \(name) (checks: \(names))")
        }
        return name
    }

    private static func finding(_ id: String, of check: String, in db: Database) throws -> ReconciliationFinding {
        guard let finding = try ReconciliationStore.finding(id, in: db), finding.check == check else {
            throw DecisionRefusal(404, "no finding \(id) of check \(check): see GET /v1/reconciliation/\(check)")
        }
        return finding
    }

    /// The finding as answered: protected persons' addresses withheld (as they are now).
    static func shown(_ finding: ReconciliationFinding, in db: Database) throws -> ReconciliationFinding {
        var protected: [String: Bool] = [:]
        var lookups: [String] = [finding.uid]
        Self.nestedUIDs(finding.facts, into: &lookups)
        for uid in lookups where protected[uid] == nil {
            protected[uid] = try ProjectionStore.personRecord(uid, in: db)?.isProtected ?? false
        }
        return finding.withholdingProtected { protected[$0] ?? false }
    }

    private static func nestedUIDs(_ object: JSONObject, into uids: inout [String]) {
        for member in object {
            guard case .object(let inner) = member.value else { continue }
            if let uid = inner["uid"]?.stringValue { uids.append(uid) }
            nestedUIDs(inner, into: &uids)
        }
    }

    /// `operator.finding_explained` {check, finding_id, note}: the finding stays listed, as explained,
    /// until the data changes so that the person passes the check.
    private func explain(check name: String, id: String, body: [UInt8], by request: HTTPRequest) async throws -> Answer {
        let check = try Self.knownCheck(name)
        guard let object = (try? JSONParser.parse(body))?.objectValue else {
            throw DecisionRefusal(400, "the body must be one JSON object {\"note\": \"…\"}")
        }
        for key in object.keys.sorted() where key != "note" {
            throw DecisionRefusal(400, "\(key): unknown key; send only {\"note\": \"…\"}")
        }
        guard let note = object["note"]?.stringValue, note.contains(where: { !$0.isWhitespace }) else {
            throw DecisionRefusal(400, "note: required, a non-empty string saying why the finding stands")
        }
        guard note.unicodeScalars.count <= 2000 else { throw DecisionRefusal(400, "note: at most 2000 characters") }
        guard !PersonalNumberScrubber.containsCandidate(note) else {
            throw DecisionRefusal(400, "note: looks like it holds a 個人番号 (12 digits); leave it out")
        }
        let finding = try await service.store.read { db in try Self.finding(id, of: check, in: db) }
        guard finding.state == .open else {
            throw DecisionRefusal(
                409, "finding \(id) is \(finding.state.rawValue), not open: only an open finding can be explained")
        }
        let lsn = try await OperatorDecisions(
            validator: service.ingestor.validator, writer: service.writer, operatorUID: request.peer?.uid,
            wallClock: service.wallClock
        ).append(
            type: Projection.findingExplainedType, subject: finding.id,
            data: ["check": .string(check), "finding_id": .string(finding.id), "note": .string(note)])
        return .json(200, ["id": .string(finding.id), "check": .string(check), "state": "explained", "lsn": .integer(lsn)])
    }
}
