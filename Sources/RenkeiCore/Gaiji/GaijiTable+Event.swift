extension GaijiTable {
    /// The envelope member that keeps, for each text of `data` a table changed, the text as the
    /// source sent it (`{"data.name": "\u{E000}橋 一郎"}`): the log holds the mapped Unicode and,
    /// beside it, the raw code points, so nothing the source said is lost. Only the daemon writes
    /// it (a source sending it is refused by the envelope schema).
    public static let noteKey = "gaiji"

    /// What mapping an event did.
    public struct EventOutcome: Sendable {
        /// The event with its `data` texts mapped (and the ``noteKey`` note when anything changed).
        public var event: Event
        /// How many Private Use characters were replaced.
        public var mapped = 0
        /// How many were left unmapped (kept as sent).
        public var unmapped = 0
    }

    /// Maps every string inside `event.data` (nested objects and arrays included). The envelope's
    /// other members (`subject`, `event_id`, …) are identifiers and stay as sent.
    public func apply(to event: Event) -> EventOutcome {
        var outcome = EventOutcome(event: event)
        guard Self.containsPrivateUse(.object(event.data)) else { return outcome }
        var raw: [JSONObject.Member] = []
        let data = mapObject(event.data, path: "data", &outcome, &raw)
        guard !raw.isEmpty else { return outcome }
        var envelope = event.envelope
        envelope["data"] = .object(data)
        envelope[Self.noteKey] = .object(JSONObject(uniqueMembers: raw))
        outcome.event.data = data
        outcome.event.envelope = envelope
        return outcome
    }

    /// Whether any string inside `value` holds a Private Use character (the common case, none, costs
    /// one scan and no allocation).
    static func containsPrivateUse(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): return text.unicodeScalars.contains { isPrivateUse($0.value) }
        case .object(let object): return object.members.contains { containsPrivateUse($0.value) }
        case .array(let elements): return elements.contains(where: containsPrivateUse)
        default: return false
        }
    }

    private func mapObject(_ object: JSONObject, path: String, _ outcome: inout EventOutcome, _ raw: inout [JSONObject.Member]) -> JSONObject {
        JSONObject(uniqueMembers: object.members.map {
            .init(key: $0.key, value: mapValue($0.value, path: path + "." + $0.key, &outcome, &raw))
        })
    }

    private func mapValue(_ value: JSONValue, path: String, _ outcome: inout EventOutcome, _ raw: inout [JSONObject.Member]) -> JSONValue {
        switch value {
        case .string(let text):
            let mapped = map(text)
            outcome.mapped += mapped.mapped
            outcome.unmapped += mapped.unmapped.count
            guard mapped.mapped > 0 else { return value }
            raw.append(.init(key: path, value: .string(text)))
            return .string(mapped.text)
        case .object(let object):
            return .object(mapObject(object, path: path, &outcome, &raw))
        case .array(let elements):
            return .array(elements.enumerated().map { mapValue($0.element, path: path + "." + String($0.offset), &outcome, &raw) })
        default:
            return value
        }
    }
}
