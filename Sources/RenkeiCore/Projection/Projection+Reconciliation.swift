// MARK: - Reconciliation (突合): findings kept current as events are applied (issue 17)

extension Projection: ReconciliationContext {
    /// The record of `uid` after following merges.
    public func liveRecord(_ uid: String) -> PersonRecord? { persons[resolve(uid)] }

    /// The uids listing `child` under `guardian_of`.
    public func guardians(ofChild child: String) -> [String] { guardiansOfChild[child] ?? [] }

    /// The event type an official's explanation is logged as.
    public static let findingExplainedType = "operator.finding_explained"

    /// Evaluates the checks for the persons an event touched and the persons depending on them,
    /// after the event logged at `lsn` and `recordedAt`.
    mutating func reconcile(_ touched: [String], lsn: Int64, recordedAt: String) {
        guard !reconciliationChecks.isEmpty, !touched.isEmpty else { return }
        // Two references, boxed once per event: passing the projection itself as `any
        // ReconciliationContext` would copy all of it into a heap box for every check and person.
        let context: any ReconciliationContext = Context(persons: persons, guardiansOfChild: guardiansOfChild)
        // An event touches one or two persons: a linear search beats hashing into a set.
        var uids: [String] = []
        uids.reserveCapacity(touched.count + 2)
        for uid in touched {
            if !uids.contains(uid) { uids.append(uid) }
            for check in reconciliationChecks {
                for dependent in check.dependents(of: uid, in: context) where !uids.contains(dependent) {
                    uids.append(dependent)
                }
            }
        }
        let found = uids.map { (uid: $0, findings: findings(of: $0, in: context, lsn: lsn, at: recordedAt)) }
        for (uid, findings) in found {
            reconciliation.settle(uid: uid, found: findings, lsn: lsn, at: recordedAt)
        }
    }

    /// What the checks may read: the persons and the guardian index (the projection's own
    /// dictionaries, shared, not copied).
    struct Context: ReconciliationContext {
        let persons: [String: PersonRecord]
        let guardiansOfChild: [String: [String]]

        func liveRecord(_ uid: String) -> PersonRecord? {
            var current = uid
            var steps = 0
            while let next = persons[current]?.mergedInto, steps < 64 {
                current = next
                steps += 1
            }
            return persons[current]
        }

        func guardians(ofChild child: String) -> [String] { guardiansOfChild[child] ?? [] }
    }

    /// What every check finds about `uid` now (nothing for a uid merged away).
    func findings(of uid: String, in context: any ReconciliationContext, lsn: Int64, at: String) -> [ReconciliationFinding] {
        guard let record = persons[uid], record.mergedInto == nil else { return [] }
        var result: [ReconciliationFinding] = []
        var personFacts: JSONObject?
        for check in reconciliationChecks {
            for draft in check.findings(of: record, in: context) {
                let base = personFacts ?? ReconciliationFacts.person(record)
                personFacts = base
                var facts = base
                for member in draft.facts { facts[member.key] = member.value }
                let id = ReconciliationFinding.makeID(check: check.name, uid: uid, subject: draft.subject)
                guard !result.contains(where: { $0.id == id }) else { continue }
                result.append(
                    ReconciliationFinding(
                        id: id, check: check.name, uid: uid, subject: draft.subject, facts: facts, lsn: lsn, at: at))
            }
        }
        return result
    }

    /// `operator.finding_explained` {`check`, `finding_id`, `note`}.
    mutating func applyFindingExplained(_ event: Event, lsn: Int64, recordedAt: String) {
        guard let check = event.data["check"]?.stringValue, let id = event.data["finding_id"]?.stringValue,
            let note = event.data["note"]?.stringValue
        else { return }
        reconciliation.explain(check: check, id: id, note: note, lsn: lsn, at: recordedAt)
    }

    /// Open and explained counts for every check, zeros included, in check order.
    public var reconciliationCounts: [(check: String, open: Int, explained: Int)] {
        let counts = reconciliation.counts
        return reconciliationChecks.map { check in
            let count = counts[check.name] ?? (0, 0)
            return (check.name, count.open, count.explained)
        }
    }
}
