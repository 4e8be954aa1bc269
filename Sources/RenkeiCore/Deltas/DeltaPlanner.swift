/// Decides, per subscription and person, whether a view change becomes a delta (contract §4).
///
/// Pure: it compares the person's full view with what the receiver is believed to hold
/// (``SentState``) and returns the delta to queue and the state to store. Rules:
/// - `linkedTo`: a person with no link from that source is out of scope (nothing planned, state kept);
/// - the first state of a uid is `person.created` (every present non-null field, `old` null), later
///   ones `person.changed` (only the subscription's fields that changed); `version` and `lsn` never
///   count as a change, and a change to none of the fields sends nothing;
/// - a kind the subscription does not receive is not sent, but the state still moves on, so the
///   next delta sent carries only what changed since, and `prev_version` names the last one sent;
/// - while the person is protected, `address`, `postal_code` and `household_no` leave `view` and
///   `changes` and are listed under `withheld`; a change to them alone still sends a delta, and
///   when protection is lifted their current values flow again as changes from `null`;
/// - `my_number` (like every field) appears only when the policy lists it;
/// - a delta of a protected person carries no `cause` and no `lsn`: they would tell a receiver what
///   happened to the person (a move, a new household) and when, which protection withholds (issue 13).
public enum DeltaPlanner {
    /// Fields that appear in `view` when listed but never count as a change.
    static let bookkeepingFields: Set<String> = ["version", "lsn"]

    /// Plans the delta, if any, for one person and one subscription.
    /// - Parameters:
    ///   - policy: the subscription.
    ///   - uid: the person.
    ///   - view: the person's full internal view (``Projection/personView(_:)``).
    ///   - previous: the stored state for (subscription, uid), `nil` if none.
    ///   - cause: the event behind the change.
    ///   - lsn: that event's lsn.
    /// - Returns: the delta to queue (`nil` when nothing is sent) and the state to store (`nil` only
    ///   when there was none and the person is out of scope).
    public static func plan(
        policy: SubscriptionPolicy, uid: String, view: JSONObject, previous: SentState?, cause: DeltaCause, lsn: Int64
    ) -> (delta: PlannedDelta?, newState: SentState?) {
        if let source = policy.linkedTo, !isLinked(view, to: source) { return (nil, previous) }
        let version = view["version"]?.integerValue ?? 0
        let current = split(view, policy: policy, version: version)

        let kind: String
        var changes = JSONObject()
        if let previous {
            changes = visibleChanges(from: previous, to: current)
            let withheldChanged =
                previous.withheld != current.withheld || !same(.object(previous.withheldValues), .object(current.withheldValues))
            if changes.isEmpty && !withheldChanged { return (nil, previous) }
            kind = "person.changed"
        } else {
            for member in current.visible where !bookkeepingFields.contains(member.key) && !member.value.isNull {
                changes[member.key] = change(old: .null, new: member.value)
            }
            kind = "person.created"
        }

        return assemble(
            policy: policy, kind: kind, uid: uid, version: version, previous: previous, current: current,
            changes: changes, cause: cause, lsn: lsn, conceal: isProtected(view))
    }

    /// Whether the view is of a protected (支援措置) person: their deltas carry no `cause` or `lsn`.
    static func isProtected(_ view: JSONObject) -> Bool { view["protected"]?.boolValue == true }

    /// Whether ``plan(policy:uid:view:previous:cause:lsn:)`` would plan nothing and keep the stored
    /// state for a receiver whose state is stored as `stored` (``SentState/encoded`` bytes): the person
    /// is out of `linked_to` scope, or the subscription's fields (shown and withheld) are byte for byte
    /// what it holds. Decided without parsing `stored`, so the common case of an event that changes
    /// nothing a subscription sees costs one serialisation; `false` means "plan it".
    /// - Parameters:
    ///   - policy: the subscription.
    ///   - view: the person's full internal view.
    ///   - stored: the stored state's bytes, `nil` when there is none.
    public static func leavesUnchanged(policy: SubscriptionPolicy, view: JSONObject, stored: [UInt8]?) -> Bool {
        if let source = policy.linkedTo, !isLinked(view, to: source) { return true }
        guard let stored else { return false }
        return split(view, policy: policy, version: 0).hasSameContent(asEncoded: stored)
    }

    /// Whether the person is in the subscription's scope (`linked_to`): out of it, ``plan(policy:uid:view:previous:cause:lsn:)``
    /// plans nothing and keeps the stored state, whatever it is.
    public static func inScope(policy: SubscriptionPolicy, view: JSONObject) -> Bool {
        guard let source = policy.linkedTo else { return true }
        return isLinked(view, to: source)
    }

    /// The subscription's visible fields whose value differs from what the receiver holds
    /// (`version` and `lsn` never count), as `{old, new}` pairs.
    static func visibleChanges(from previous: SentState, to current: SentState) -> JSONObject {
        var changes = JSONObject()
        for member in current.visible where !bookkeepingFields.contains(member.key) {
            let old = previous.visible[member.key] ?? .null
            if !same(old, member.value) { changes[member.key] = change(old: old, new: member.value) }
        }
        return changes
    }

    /// Moves the receiver's state on to `current` and, when the subscription receives `kind`, builds
    /// the delta: body keys in the contract's order, `prev_version` naming the last delta sent.
    /// A kind the subscription does not receive sends nothing but still moves the state on.
    /// - Parameter conceal: leave `lsn` and `cause` out of the body (a protected person's delta); the
    ///   outbox still records the lsn, for replays and the disclosure ledger.
    static func assemble(
        policy: SubscriptionPolicy, kind: String, uid: String, version: Int64, previous: SentState?,
        current: SentState, changes: JSONObject, cause: DeltaCause, lsn: Int64, conceal: Bool
    ) -> (delta: PlannedDelta?, newState: SentState?) {
        var state = current
        state.sentVersion = previous?.sentVersion
        guard policy.receives(kind) else { return (nil, state) }
        state.sentVersion = version

        let deltaID = "\(policy.name):\(uid):\(version)"
        var body: JSONObject = [
            "delta_id": .string(deltaID), "subscription": .string(policy.name), "kind": .string(kind),
            "uid": .string(uid), "version": .integer(version),
        ]
        if let prev = previous?.sentVersion { body["prev_version"] = .integer(prev) }
        if !conceal { body["lsn"] = .integer(lsn) }
        body["changes"] = .object(changes)
        body["view"] = .object(current.visible)
        if !current.withheld.isEmpty { body["withheld"] = .array(current.withheld.map { .string($0) }) }
        if !conceal { body["cause"] = cause.jsonValue }
        let delta = PlannedDelta(
            deltaID: deltaID, subscription: policy.name, kind: kind, uid: uid, version: version,
            prevVersion: previous?.sentVersion, lsn: lsn, body: JSONValue.object(body).serializedBytes,
            disclosedFields: current.visible.keys, newState: state)
        return (delta, state)
    }

    /// Whether the view's `links` hold one from `source`.
    static func isLinked(_ view: JSONObject, to source: String) -> Bool {
        (view["links"]?.arrayValue ?? []).contains { $0["source"]?.stringValue == source }
    }

    /// The subscription's fields of `view`, split into what the receiver may see and what is withheld.
    static func split(_ view: JSONObject, policy: SubscriptionPolicy, version: Int64) -> SentState {
        let protected = view["protected"]?.boolValue == true
        var state = SentState(sentVersion: nil, version: version, visible: JSONObject())
        // A policy lists a handful of fields: a linear scan beats building a set per person.
        for member in view where policy.fields.contains(member.key) {
            if protected && PersonRecord.protectedFields.contains(member.key) {
                state.withheld.append(member.key)
                state.withheldValues.appendUnique(member.key, member.value)
            } else {
                state.visible.appendUnique(member.key, member.value)
            }
        }
        return state
    }

    /// Byte equality: names that differ only by a compatibility ideograph (﨑/崎) are different.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool { a.isByteIdentical(to: b) }

    static func change(old: JSONValue, new: JSONValue) -> JSONValue { .object(["old": old, "new": new]) }
}
