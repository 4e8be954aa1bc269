// MARK: - Status-socket replies (contract §2 protection rules, §6)

extension Projection {
    /// A person as the status socket answers it (`GET /v1/persons/{uid}`), or `nil` for an unknown uid.
    ///
    /// `my_number` never appears: `"my_number_on_file": true/false` takes its place. While the person
    /// is protected (支援措置) and `revealProtected` is false, `address`, `postal_code` and
    /// `household_no` are removed and `"withheld": ["address", "postal_code", "household_no"]` is
    /// added at the end.
    /// - Parameters:
    ///   - uid: the unified ID.
    ///   - revealProtected: `?reveal=protected`, an operator action the caller must audit.
    public func personReply(_ uid: String, revealProtected: Bool = false) -> JSONObject? {
        guard let view = personView(uid) else { return nil }
        return Self.reply(fromView: view, revealProtected: revealProtected)
    }

    /// Turns a full person view into a status-socket reply (see ``personReply(_:revealProtected:)``).
    public static func reply(fromView view: JSONObject, revealProtected: Bool) -> JSONObject {
        let withhold = !revealProtected && view["protected"]?.boolValue == true
        var members: [JSONObject.Member] = []
        for member in view {
            if member.key == "my_number" {
                members.append(.init(key: "my_number_on_file", value: .bool(!(member.value.isNull))))
            } else if withhold && PersonRecord.protectedFields.contains(member.key) {
                continue
            } else {
                members.append(member)
            }
        }
        if withhold {
            members.append(.init(key: "withheld", value: .array(PersonRecord.protectedFields.map { .string($0) })))
        }
        return JSONObject(members)
    }
}
