/// The event behind a change: the `cause` member of a delta (contract §4).
public struct DeltaCause: Sendable, Hashable {
    /// The event's source.
    public var source: String
    /// The event's `event_id`.
    public var eventID: String
    /// The event's `type`.
    public var type: String

    /// Creates a cause.
    public init(source: String, eventID: String, type: String) {
        self.source = source
        self.eventID = eventID
        self.type = type
    }

    /// The cause of an event.
    public init(_ event: Event) {
        self.init(source: event.source, eventID: event.eventID, type: event.type)
    }

    /// `{"source", "event_id", "type"}`.
    public var jsonValue: JSONValue {
        .object(["source": .string(source), "event_id": .string(eventID), "type": .string(type)])
    }
}
