/// One validated change event from a source system (contract §1).
///
/// `envelope` is the object exactly as received (member order and code points kept); the typed
/// fields are read from it. Two events are the same content when their ``contentBytes`` are equal.
public struct Event: Sendable, Hashable {
    /// The source system (`resident`, `tax`, `childcare`, `library`, or a configured one).
    public var source: String
    /// The source's own event id, unique within the source.
    public var eventID: String
    /// `<source>.<verb>`.
    public var type: String
    /// RFC 3339 timestamp with offset, as given.
    public var occurredAt: String
    /// The source's own record id (宛名番号, 納税義務者番号, 児童番号, 利用者番号).
    public var subject: String
    /// The legal date of the change (異動日), `YYYY-MM-DD`, when given.
    public var effectiveDate: String?
    /// The 6-digit municipality code, when given (the daemon's code applies otherwise).
    public var municipality: String?
    /// The schema version of `data` (1 when absent).
    public var schemaVersion: Int
    /// The type-specific fields.
    public var data: JSONObject
    /// The whole envelope as received.
    public var envelope: JSONObject

    /// Creates an event from its parts; `envelope` must be the object these were read from.
    public init(
        source: String, eventID: String, type: String, occurredAt: String, subject: String,
        effectiveDate: String? = nil, municipality: String? = nil, schemaVersion: Int = 1,
        data: JSONObject, envelope: JSONObject
    ) {
        self.source = source
        self.eventID = eventID
        self.type = type
        self.occurredAt = occurredAt
        self.subject = subject
        self.effectiveDate = effectiveDate
        self.municipality = municipality
        self.schemaVersion = schemaVersion
        self.data = data
        self.envelope = envelope
    }

    /// The canonical bytes of the envelope: what duplicate detection compares and the log stores.
    public var contentBytes: [UInt8] { JSONValue.object(envelope).canonicalBytes }

    /// The verb part of `type` (`registered` in `resident.registered`).
    public var verb: Substring {
        guard let dot = type.firstIndex(of: ".") else { return type[...] }
        return type[type.index(after: dot)...]
    }
}

/// An event as the log holds it: the envelope plus what the daemon added (contract §1).
public struct LoggedEvent: Sendable, Hashable {
    /// Log sequence number: global, gap-free, from 1.
    public var lsn: Int64
    /// When the daemon appended it, RFC 3339 UTC with milliseconds.
    public var recordedAt: String
    /// Lowercase hex SHA-256 over the previous event's hash and this event's canonical bytes.
    public var hash: String
    /// The event.
    public var event: Event

    /// Creates a logged event.
    public init(lsn: Int64, recordedAt: String, hash: String, event: Event) {
        self.lsn = lsn
        self.recordedAt = recordedAt
        self.hash = hash
        self.event = event
    }
}
