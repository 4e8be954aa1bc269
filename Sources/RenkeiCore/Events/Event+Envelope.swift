extension Event {
    /// The envelope keys of contract §1, in the order views and errors list them.
    public static let envelopeKeys = [
        "source", "event_id", "type", "occurred_at", "subject", "effective_date", "municipality", "schema_version",
        "data",
    ]

    /// Reads the typed fields from an envelope that has already been validated (for example one read
    /// back from the log). Checks only the shape it needs, not the schema.
    /// - Throws: ``RenkeiError`` with code `invalidEvent` naming the missing or mistyped key.
    public init(envelope: JSONObject) throws(RenkeiError) {
        func string(_ key: String) throws(RenkeiError) -> String {
            guard let value = envelope[key]?.stringValue else {
                throw RenkeiError(.invalidEvent, "\(key): required string is missing or not a string")
            }
            return value
        }
        guard let data = envelope["data"]?.objectValue else {
            throw RenkeiError(.invalidEvent, "data: required object is missing or not an object")
        }
        var schemaVersion = 1
        if let version = envelope["schema_version"] {
            guard let integer = version.integerValue, let int = Int(exactly: integer) else {
                throw RenkeiError(.invalidEvent, "schema_version: must be an integer")
            }
            schemaVersion = int
        }
        self.init(
            source: try string("source"), eventID: try string("event_id"), type: try string("type"),
            occurredAt: try string("occurred_at"), subject: try string("subject"),
            effectiveDate: envelope["effective_date"]?.stringValue,
            municipality: envelope["municipality"]?.stringValue, schemaVersion: schemaVersion,
            data: data, envelope: envelope)
    }
}
