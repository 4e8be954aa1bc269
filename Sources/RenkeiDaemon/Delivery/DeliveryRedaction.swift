import RenkeiCore

/// The last guard before a body leaves: protection is checked again at send time.
///
/// A delta planned before the person became protected (queued behind a retry, dead-lettered and
/// retried, or queued again by a replay) may still hold an address. If the person is protected
/// *now*, `address`, `postal_code` and `household_no` are taken out of `view` and `changes` and
/// listed under `withheld`, as the planner would have done. The delta id stays the same.
enum DeliveryRedaction {
    /// What leaves for one delta, and what the disclosure ledger records of it once it got a 2xx.
    struct Outgoing: Sendable, Equatable {
        var body: [UInt8]
        /// The field names it discloses (the keys of its `view`), comma-separated.
        var fields: String
        /// For `household.changed`: every person whose uid the sent body lists (`view.members`,
        /// `changes.members` old and new), so `GET /v1/disclosures?uid=` answers it for each of them.
        /// Empty for person deltas, whose ledger row is keyed by their own uid.
        var members: [String] = []
    }

    /// The body to send and the field names it discloses (the keys of its `view`).
    static func prepare(_ pending: DeliveryStore.Pending) -> Outgoing {
        let unchanged = Outgoing(body: pending.body, fields: pending.fields)
        guard pending.isProtected, pending.kind != "household.changed" else { return unchanged }
        guard let parsed = try? JSONParser.parse(pending.body), var body = parsed.objectValue else { return unchanged }
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
        guard changed else { return unchanged }
        body["withheld"] = .array(withheld.map { .string($0) })
        let fields = (body["view"]?.objectValue?.keys).map { $0.joined(separator: ",") } ?? ""
        return Outgoing(body: JSONValue.object(body).serializedBytes, fields: fields)
    }

    /// For `household.changed`: the body without the members protected now (``dropMembers(_:from:)``),
    /// and the members it still names.
    static func prepareHousehold(_ pending: DeliveryStore.Pending, protectedNow: Set<String>) -> Outgoing {
        let body = dropMembers(protectedNow, from: pending)
        return Outgoing(body: body, fields: pending.fields, members: namedMembers(body))
    }

    /// The uids a household body lists, in `view.members` then `changes.members` (old, new), once each.
    static func namedMembers(_ body: [UInt8]) -> [String] {
        guard let parsed = try? JSONParser.parse(body) else { return [] }
        let lists = [parsed["view"]?["members"], parsed["changes"]?["members"]?["old"], parsed["changes"]?["members"]?["new"]]
        var seen = Set<String>()
        return lists.flatMap { $0?.arrayValue ?? [] }.compactMap(\.stringValue).filter { seen.insert($0).inserted }
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
