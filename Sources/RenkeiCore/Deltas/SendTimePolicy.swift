/// The policy in force when a delta's body leaves (issue 13): the last check before a request.
///
/// A delta is planned under the subscription's policy of that moment and may wait in the outbox
/// for a long time — behind a receiver that is down, dead-lettered and retried, queued again by a
/// subscription replay. By the time it leaves, the configuration may have narrowed (a field or its
/// `legal_basis` removed, a kind dropped, `linked_to` set), the person may have become protected
/// (支援措置), and the uid may have been retired into another one by a merge. The body is therefore
/// filtered again here, against the policy and the facts of *now*:
/// - a kind the subscription no longer receives is not sent;
/// - `view`, `changes` and `withheld` keep only the fields the subscription may see now (restricted
///   fields, `my_number` and `tax`, only with a current `legal_basis`);
/// - person deltas (`person.created`, `person.changed`) leave only while the live person — the uid
///   the delta names, or the one it was merged into — is in `linked_to` scope; `person.merged` and
///   `person.unlinked` tell a receiver that what it held has ended, so they still go when the person
///   has left its scope, but then carry only uids (`uid`, `merged_into`, `split_into`), none of the
///   person's fields;
/// - while the live person is protected, `address`, `postal_code` and `household_no` leave `view`
///   and `changes` and are listed under `withheld`, and the body carries no `cause` and no `lsn`
///   (they would say what happened to the person, and when);
/// - `household.changed` bodies never name a member who is protected now or, with `linked_to`, no
///   longer linked to that source; naming a protected member's change, the body carries no `cause`
///   and no `lsn`, and `all_members_tax_exempt` only goes with `tax` in the fields.
///
/// A delta left with nothing the subscription may see is not sent: it is *skipped*, with a reason
/// an operator can read (it never names a value).
public enum SendTimePolicy {
    /// What the daemon knows, at send time, about the person or household a delta concerns.
    public struct Facts: Sendable, Equatable {
        /// The live person (following `merged_into`) is protected now. Person deltas only.
        public var isProtected: Bool
        /// The live person is linked to the policy's `linked_to` source (always true without one).
        public var inScope: Bool
        /// Household deltas: the named members who are protected now.
        public var protectedMembers: Set<String>
        /// Household deltas: the named members out of `linked_to` scope now.
        public var outOfScopeMembers: Set<String>

        /// Creates the facts.
        public init(
            isProtected: Bool = false, inScope: Bool = true, protectedMembers: Set<String> = [],
            outOfScopeMembers: Set<String> = []
        ) {
            self.isProtected = isProtected
            self.inScope = inScope
            self.protectedMembers = protectedMembers
            self.outOfScopeMembers = outOfScopeMembers
        }
    }

    /// What to do with one delta.
    public enum Decision: Sendable, Equatable {
        /// Send `body`; `fields` are the keys of its `view` (what the ledger records); `members`, for
        /// `household.changed`, every uid the body names (`view.members`, `changes.members` old, new).
        case send(body: [UInt8], fields: [String], members: [String])
        /// Do not send; the outbox keeps the delta as `skipped` with this reason.
        case skip(reason: String)
    }

    /// The delta kind of households.
    public static let householdKind = "household.changed"
    /// Members of `view`/`changes` that are not person-view fields but tell a receiver what a
    /// delta is about: kept whatever the fields.
    static let structuralKeys: Set<String> = ["merged_into", "split_into"]

    /// The person-view fields the policy lets leave now: its `fields`, less `my_number` and `tax`
    /// unless it declares a non-blank `legal_basis`.
    public static func allowedFields(_ policy: SubscriptionPolicy) -> Set<String> {
        let hasBasis = !(policy.legalBasis ?? "").allSatisfy { $0.isWhitespace }
        return Set(policy.fields.filter { hasBasis || !SubscriptionPolicy.restrictedFields.contains($0) })
    }

    /// Decides what leaves for one delta.
    /// - Parameters:
    ///   - kind: the delta's kind.
    ///   - body: the body as planned (and stored in the outbox).
    ///   - plannedFields: the keys of its planned `view`.
    ///   - policy: the subscription's policy in force now.
    ///   - facts: the live person's or household's state now.
    public static func decide(
        kind: String, body: [UInt8], plannedFields: [String], policy: SubscriptionPolicy, facts: Facts
    ) -> Decision {
        let path = "subscriptions.\(policy.name)"
        guard policy.receives(kind) else {
            return .skip(reason: "\(path).kinds no longer lists \(kind)")
        }
        let allowed = allowedFields(policy)
        if kind == householdKind {
            guard allowed.contains("household_no") else {
                return .skip(reason: "\(path).fields no longer lists household_no")
            }
            return household(body: body, allowed: allowed, facts: facts, path: path)
        }
        let announcesEnd = kind == "person.merged" || kind == "person.unlinked"
        if !announcesEnd, !facts.inScope, let source = policy.linkedTo {
            return .skip(reason: "the person is no longer linked to \(source) (\(path).linked_to)")
        }
        // Out of scope now, an end-of-relation delta keeps only the uids it names.
        let allowedNow = facts.inScope ? allowed : allowed.intersection(["uid"])
        let keeps = keptKeys(kind: kind, allowed: allowedNow)
        // Nearly every delta: planned under the same policy, nothing protected — sent as it is.
        if !facts.isProtected, plannedFields.allSatisfy(keeps), !contains(body, Array("\"withheld\"".utf8)) {
            return .send(body: body, fields: plannedFields, members: [])
        }
        guard let parsed = try? JSONParser.parse(body), let object = parsed.objectValue else {
            return .skip(reason: "the stored body is not a JSON object (the outbox is damaged)")
        }
        return person(kind: kind, body: object, allowed: allowedNow, keeps: keeps, facts: facts, path: path)
    }

    /// Which `view`/`changes` members of a person delta may leave: the allowed fields, the structural
    /// keys, and `person.merged`'s `uid` (its view is `{uid, merged_into}` whatever the fields).
    static func keptKeys(kind: String, allowed: Set<String>) -> @Sendable (String) -> Bool {
        { key in allowed.contains(key) || structuralKeys.contains(key) || (kind == "person.merged" && key == "uid") }
    }

    // MARK: - Person deltas

    private static func person(
        kind: String, body original: JSONObject, allowed: Set<String>, keeps: (String) -> Bool, facts: Facts, path: String
    ) -> Decision {
        var body = original
        var withheld = (original["withheld"]?.arrayValue ?? []).compactMap(\.stringValue).filter { allowed.contains($0) }
        var newlyWithheld = false
        var visibleChangesBefore = 0
        for key in ["view", "changes"] {
            guard let members = original[key]?.objectValue else { continue }
            if key == "changes" { visibleChangesBefore = members.count }
            var kept = JSONObject()
            for member in members where keeps(member.key) {
                if facts.isProtected && PersonRecord.protectedFields.contains(member.key) {
                    if !withheld.contains(member.key) {
                        withheld.append(member.key)
                        newlyWithheld = true
                    }
                    continue
                }
                kept.appendUnique(member.key, member.value)
            }
            body[key] = .object(kept)
        }
        let view = body["view"]?.objectValue ?? JSONObject()
        let changes = body["changes"]?.objectValue ?? JSONObject()
        switch kind {
        case "person.created":
            if view.isEmpty && withheld.isEmpty {
                return .skip(reason: "none of its fields is in \(path).fields now")
            }
        case "person.changed":
            if changes.isEmpty {
                // A withheld-only delta stays one (the receiver learns its copy is restricted); a
                // change to fields the subscription may no longer see is not sent at all.
                let stillNotice = !withheld.isEmpty && (visibleChangesBefore == 0 || newlyWithheld)
                if !stillNotice { return .skip(reason: "the fields it changes are no longer in \(path).fields") }
            }
        default:
            break
        }
        body["withheld"] = withheld.isEmpty ? nil : .array(withheld.map { .string($0) })
        if facts.isProtected {
            body["cause"] = nil
            body["lsn"] = nil
        }
        return .send(body: JSONValue.object(body).serializedBytes, fields: view.keys, members: [])
    }

    // MARK: - household.changed

    private static func household(body bytes: [UInt8], allowed: Set<String>, facts: Facts, path: String) -> Decision {
        guard let parsed = try? JSONParser.parse(bytes), var body = parsed.objectValue else {
            return .skip(reason: "the stored body is not a JSON object (the outbox is damaged)")
        }
        let hidden = facts.protectedMembers.union(facts.outOfScopeMembers)
        var namedProtected = false
        func filtered(_ value: JSONValue?) -> JSONValue? {
            guard let array = value?.arrayValue else { return value }
            return .array(array.filter { member in
                guard let uid = member.stringValue, hidden.contains(uid) else { return true }
                if facts.protectedMembers.contains(uid) { namedProtected = true }
                return false
            })
        }
        let showsExemption = allowed.contains("tax")
        if var view = body["view"]?.objectValue {
            view["members"] = filtered(view["members"])
            if !showsExemption { view["all_members_tax_exempt"] = nil }
            body["view"] = .object(view)
        }
        var changes = body["changes"]?.objectValue ?? JSONObject()
        if var members = changes["members"]?.objectValue {
            let old = filtered(members["old"])
            let new = filtered(members["new"])
            // A member list that differs only by hidden members did not change for this receiver (a
            // first announcement, `old` null, that names no one is no announcement either).
            if (old?.arrayValue ?? []) == (new?.arrayValue ?? []) {
                changes["members"] = nil
            } else {
                members["old"] = old
                members["new"] = new
                changes["members"] = .object(members)
            }
        }
        if !showsExemption { changes["all_members_tax_exempt"] = nil }
        body["changes"] = .object(changes)
        if changes.keys.allSatisfy({ $0 == "household_no" }) {
            return .skip(reason: "nothing it may see of the household changed (\(path).fields, protected or out-of-scope members)")
        }
        if namedProtected {
            body["cause"] = nil
            body["lsn"] = nil
        }
        let out = JSONValue.object(body).serializedBytes
        let view = body["view"]?.objectValue ?? JSONObject()
        return .send(body: out, fields: view.keys, members: namedMembers(body))
    }

    /// The uids a household body lists, in `view.members` then `changes.members` (old, new), once each.
    public static func namedMembers(_ body: JSONObject) -> [String] {
        let value = JSONValue.object(body)
        let lists = [value["view"]?["members"], value["changes"]?["members"]?["old"], value["changes"]?["members"]?["new"]]
        var seen = Set<String>()
        return lists.flatMap { $0?.arrayValue ?? [] }.compactMap(\.stringValue).filter { seen.insert($0).inserted }
    }

    /// Whether `haystack` contains `needle` (bytes).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
