import RenkeiCore

/// The last guard before a body leaves: protection is checked again at send time.
///
/// A delta planned before the person became protected (queued behind a retry, dead-lettered and
/// retried, or queued again by a replay) may still hold an address. If the person is protected
/// *now*, `address`, `postal_code` and `household_no` are taken out of `view` and `changes` and
/// listed under `withheld`, as the planner would have done. The delta id stays the same.
enum DeliveryRedaction {
    /// The body to send and the field names it discloses (the keys of its `view`).
    static func prepare(_ pending: DeliveryStore.Pending) -> (body: [UInt8], fields: String) {
        guard pending.isProtected, pending.kind != "household.changed" else { return (pending.body, pending.fields) }
        guard let parsed = try? JSONParser.parse(pending.body), var body = parsed.objectValue else {
            return (pending.body, pending.fields)
        }
        let protectedFields = PersonRecord.protectedFields
        var withheld = (body["withheld"]?.arrayValue ?? []).compactMap(\.stringValue)
        var changed = false
        for key in ["view", "changes"] {
            guard var object = body[key]?.objectValue else { continue }
            for field in protectedFields where object[field] != nil {
                object[field] = nil
                changed = true
                if !withheld.contains(field) { withheld.append(field) }
            }
            body[key] = .object(object)
        }
        guard changed else { return (pending.body, pending.fields) }
        body["withheld"] = .array(withheld.map { .string($0) })
        let fields = (body["view"]?.objectValue?.keys).map { $0.joined(separator: ",") } ?? ""
        return (JSONValue.object(body).serializedBytes, fields)
    }

    /// For `household.changed`: members protected now are left out of `view.members` and of
    /// `changes.members`, whatever the body was planned with.
    static func dropMembers(_ protectedNow: Set<String>, from pending: DeliveryStore.Pending) -> [UInt8] {
        guard !protectedNow.isEmpty, let parsed = try? JSONParser.parse(pending.body), var body = parsed.objectValue
        else { return pending.body }
        func filtered(_ value: JSONValue?) -> JSONValue? {
            guard let array = value?.arrayValue else { return value }
            return .array(array.filter { !protectedNow.contains($0.stringValue ?? "") })
        }
        if var view = body["view"]?.objectValue {
            view["members"] = filtered(view["members"])
            body["view"] = .object(view)
        }
        if var changes = body["changes"]?.objectValue, var members = changes["members"]?.objectValue {
            members["old"] = filtered(members["old"])
            members["new"] = filtered(members["new"])
            changes["members"] = .object(members)
            body["changes"] = .object(changes)
        }
        return JSONValue.object(body).serializedBytes
    }
}
