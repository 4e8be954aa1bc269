// MARK: - person.merged and person.unlinked (contract §4)

extension DeltaPlanner {
    /// Plans the `person.merged` delta for a retired uid: `uid` is the retired uid, `changes`
    /// names `merged_into`, and `view` holds `uid` and `merged_into` only (the kept person's own
    /// delta carries its fields). Sent to every subscription in scope for either uid.
    /// - Parameters:
    ///   - policy: the subscription.
    ///   - retired: the retired uid.
    ///   - kept: the uid it was merged into.
    ///   - version: the retired uid's new version.
    ///   - keptView: the kept person's full view (for `linked_to` scope).
    ///   - previous: the stored state for (subscription, retired uid).
    ///   - cause: the event behind the merge.
    ///   - lsn: its lsn.
    /// - Returns: the delta (if any) and the state to store for the retired uid.
    public static func planMerged(
        policy: SubscriptionPolicy, retired: String, kept: String, version: Int64, keptView: JSONObject,
        previous: SentState?, cause: DeltaCause, lsn: Int64
    ) -> (delta: PlannedDelta?, newState: SentState?) {
        let inScope = policy.linkedTo == nil || previous != nil || isLinked(keptView, to: policy.linkedTo ?? "")
        guard inScope else { return (nil, previous) }
        let visible: JSONObject = ["uid": .string(retired), "merged_into": .string(kept)]
        var state = SentState(sentVersion: previous?.sentVersion, version: version, visible: visible)
        guard policy.receives("person.merged") else { return (nil, state) }
        state.sentVersion = version
        let deltaID = "\(policy.name):\(retired):\(version)"
        var body: JSONObject = [
            "delta_id": .string(deltaID), "subscription": .string(policy.name), "kind": "person.merged",
            "uid": .string(retired), "version": .integer(version),
        ]
        if let prev = previous?.sentVersion { body["prev_version"] = .integer(prev) }
        // A protected person's merge says nothing of what joined the records, or when.
        let conceal = isProtected(keptView)
        if !conceal { body["lsn"] = .integer(lsn) }
        body["changes"] = ["merged_into": change(old: .null, new: .string(kept))]
        body["view"] = .object(visible)
        if !conceal { body["cause"] = cause.jsonValue }
        let delta = PlannedDelta(
            deltaID: deltaID, subscription: policy.name, kind: "person.merged", uid: retired, version: version,
            prevVersion: previous?.sentVersion, lsn: lsn, body: JSONValue.object(body).serializedBytes,
            disclosedFields: ["uid", "merged_into"], newState: state)
        return (delta, state)
    }

    /// Plans the delta for a uid an operator split a record off: `person.unlinked` to every
    /// subscription that held the person (even if the split takes it out of `linked_to` scope),
    /// with `changes` naming the subscription's fields that changed and `split_into` (the uid the
    /// record now has).
    public static func planUnlinked(
        policy: SubscriptionPolicy, uid: String, newUID: String, view: JSONObject, previous: SentState?,
        cause: DeltaCause, lsn: Int64
    ) -> (delta: PlannedDelta?, newState: SentState?) {
        guard let previous else { return plan(policy: policy, uid: uid, view: view, previous: nil, cause: cause, lsn: lsn) }
        let version = view["version"]?.integerValue ?? 0
        let current = split(view, policy: policy, version: version)
        var changes = visibleChanges(from: previous, to: current)
        changes["split_into"] = change(old: .null, new: .string(newUID))
        return assemble(
            policy: policy, kind: "person.unlinked", uid: uid, version: version, previous: previous, current: current,
            changes: changes, cause: cause, lsn: lsn, conceal: isProtected(view))
    }
}
