import Foundation
import RenkeiCore
import RenkeiStore

/// Plans `household.changed` deltas (contract §4), beside the person deltas of ``DeltaPlanner``.
///
/// Choices where the contract is silent (written into README and Schemas/README):
/// - `delta_id` is `{subscription}:{household_no}:{version}` with the household's own version
///   (``HouseholdRecord/version``); the body carries `household_no` where person deltas carry `uid`;
/// - a subscription hears of households only if it receives the kind *and* lists `household_no` in
///   `fields` (household composition is household data); `all_members_tax_exempt` is included only
///   when it also lists `tax` (it is derived from tax data, which needs a `legal_basis`);
/// - `members` never lists a protected person; with `linked_to`, only members linked to that source;
/// - like person deltas, a change the subscription cannot see sends nothing, and `prev_version`
///   names the last household delta sent to it;
/// - a delta of a household with a protected member, or caused by an event that changed a protected
///   person, carries no `cause` and no `lsn`: shared with that person's own delta they would tie the
///   person to the household (a 非課税世帯 flip from their assessment, their move out of it).
enum HouseholdDeltas {
    static let kind = "household.changed"

    /// Plans and queues deltas for the households an event changed (writer thread, inside the
    /// projection's transaction).
    /// - Parameter causeConcernsProtected: the event changed a person who is protected now (then no
    ///   household delta it causes carries `cause` or `lsn`).
    static func plan(
        _ householdNos: [String], cause: DeltaCause, lsn: Int64, projection: Projection, policies: [SubscriptionPolicy],
        db: Database, nowMs: Int64, causeConcernsProtected: Bool = false
    ) throws {
        let relevant = policies.filter { $0.receives(kind) && $0.fields.contains("household_no") }
        guard !relevant.isEmpty else { return }
        for householdNo in householdNos {
            guard let record = projection.householdRecord(householdNo) else { continue }
            for policy in relevant {
                let previous = try state(subscription: policy.name, householdNo: householdNo, in: db)
                guard
                    let (delta, newState) = plan(
                        policy: policy, record: record, previous: previous, cause: cause, lsn: lsn, projection: projection,
                        conceal: causeConcernsProtected || !record.protectedMembers.isEmpty)
                else { continue }
                try putState(newState, subscription: policy.name, householdNo: householdNo, in: db)
                try Outbox.enqueue(delta, in: db, nowMs: nowMs)
            }
        }
    }

    /// The delta for one subscription, or `nil` when what it may see did not change.
    /// - Parameter conceal: leave `cause` and `lsn` out of the body (see the type's rules).
    static func plan(
        policy: SubscriptionPolicy, record: HouseholdRecord, previous: JSONObject?, cause: DeltaCause, lsn: Int64,
        projection: Projection, conceal: Bool = false
    ) -> (PlannedDelta, JSONObject)? {
        let protected = Set(record.protectedMembers)
        var members = record.members.filter { !protected.contains($0) }
        if let source = policy.linkedTo {
            members = members.filter { uid in
                (projection.personView(uid)?["links"]?.arrayValue ?? []).contains { $0["source"]?.stringValue == source }
            }
        }
        // A household is announced only once a member this subscription may see belongs to it. A
        // household whose only members are protected (支援措置) must not be announced at all: its
        // delta would share the lsn and cause of the protected person's withheld move, tying the
        // 世帯番号 — and, through any later member, the address — to them.
        if members.isEmpty && previous == nil { return nil }
        var view: JSONObject = ["household_no": .string(record.householdNo)]
        if policy.fields.contains("municipality") { view["municipality"] = record.municipality.map { .string($0) } ?? .null }
        view["members"] = .array(members.map { .string($0) })
        if policy.fields.contains("tax") { view["all_members_tax_exempt"] = .bool(record.allMembersTaxExempt) }
        let previousView = previous?["view"]?.objectValue
        var changes = JSONObject()
        for member in view where member.key != "household_no" || previousView == nil {
            let old = previousView?[member.key] ?? .null
            if old.serializedBytes != member.value.serializedBytes {
                changes[member.key] = .object(["old": old, "new": member.value])
            }
        }
        if changes.isEmpty { return nil }
        let prevVersion = previous?["sent_version"]?.integerValue
        let deltaID = "\(policy.name):\(record.householdNo):\(record.version)"
        var body: JSONObject = [
            "delta_id": .string(deltaID), "subscription": .string(policy.name), "kind": .string(kind),
            "household_no": .string(record.householdNo), "version": .integer(record.version),
        ]
        if let prevVersion { body["prev_version"] = .integer(prevVersion) }
        if !conceal { body["lsn"] = .integer(lsn) }
        body["changes"] = .object(changes)
        body["view"] = .object(view)
        if !conceal { body["cause"] = cause.jsonValue }
        let state: JSONObject = ["sent_version": .integer(record.version), "view": .object(view)]
        let delta = PlannedDelta(
            deltaID: deltaID, subscription: policy.name, kind: kind, uid: record.householdNo, version: record.version,
            prevVersion: prevVersion, lsn: lsn, body: JSONValue.object(body).serializedBytes, disclosedFields: view.keys,
            newState: SentState(sentVersion: record.version, version: record.version, visible: view))
        return (delta, state)
    }

    static func state(subscription: String, householdNo: String, in db: Database) throws -> JSONObject? {
        try ProjectionStore.householdSentState(subscription: subscription, householdNo: householdNo, in: db)
    }

    static func putState(_ state: JSONObject, subscription: String, householdNo: String, in db: Database) throws {
        try ProjectionStore.putHouseholdSentState(state, subscription: subscription, householdNo: householdNo, in: db)
    }
}
