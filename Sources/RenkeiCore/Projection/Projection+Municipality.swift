// MARK: - Municipality scoping (issue 16)

extension Projection {
    /// The `data` members that hold a number issued by a municipality: 宛名番号 (`atena_no`, at any
    /// depth: `tax.atena_no`, `child.atena_no`, `guardians[].atena_no`) and 世帯番号 (`household_no`).
    static let municipalNumberKeys: Set<String> = ["atena_no", "household_no"]

    /// `event` as the projection reads it when it names a municipality other than
    /// ``homeMunicipality``: its subject and its municipal numbers prefixed with that code
    /// (`272108:000000001`), so two municipalities on one daemon (自治体クラウド) never share a
    /// 宛名番号, a household or a (source, subject) link. An event of the home municipality — or of
    /// none, which the daemon's code fills in at ingest — is read unchanged, so a single-municipality
    /// daemon's views are exactly what they were. Operator events name subjects as views show them.
    ///
    /// The scoped numbers are what the views show (`links[].subject`, `household_no`) and what
    /// `GET /v1/households/{no}` and `GET /v1/persons?source=…&subject=…` take for such a person.
    func scopedToMunicipality(_ event: Event) -> Event {
        guard let home = homeMunicipality, let municipality = event.municipality, municipality != home,
            event.source != EventValidator.operatorSource
        else { return event }
        let prefix = municipality + ":"
        var scoped = event
        scoped.subject = prefix + event.subject
        scoped.data = Self.scopeNumbers(event.data, prefix: prefix)
        return scoped
    }

    private static func scopeNumbers(_ object: JSONObject, prefix: String) -> JSONObject {
        JSONObject(uniqueMembers: object.members.map { member in
            switch member.value {
            case .string(let number) where municipalNumberKeys.contains(member.key):
                return .init(key: member.key, value: .string(prefix + number))
            case .object(let inner):
                return .init(key: member.key, value: .object(scopeNumbers(inner, prefix: prefix)))
            case .array(let elements):
                return .init(key: member.key, value: .array(elements.map {
                    guard case .object(let inner) = $0 else { return $0 }
                    return .object(scopeNumbers(inner, prefix: prefix))
                }))
            default:
                return member
            }
        })
    }
}
