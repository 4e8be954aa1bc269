/// What one subscription's copy of one person is believed to be, after the last planned delta.
///
/// It remembers what the receiver saw (``visible``), which fields it was told are withheld, and —
/// never sent — the withheld fields' current values, so that a change to them alone still sends a
/// delta and lifting protection sends them again.
public struct SentState: Sendable, Hashable {
    /// The version of the last delta actually sent; `nil` when only a baseline was recorded.
    public var sentVersion: Int64?
    /// The person version this state reflects (sent or baseline).
    public var version: Int64
    /// The subscription's fields as the receiver holds them (withheld fields left out), view order.
    public var visible: JSONObject
    /// The subscription's fields the receiver was told are withheld.
    public var withheld: [String]
    /// The withheld fields' values at that time (kept here, never sent).
    public var withheldValues: JSONObject

    /// Creates a state.
    public init(
        sentVersion: Int64?, version: Int64, visible: JSONObject, withheld: [String] = [],
        withheldValues: JSONObject = JSONObject()
    ) {
        self.sentVersion = sentVersion
        self.version = version
        self.visible = visible
        self.withheld = withheld
        self.withheldValues = withheldValues
    }

    /// Compact JSON bytes (`sent_version`, `version`, `visible`, `withheld`, `withheld_values`),
    /// for storage. They hold personal data: store them like the projection itself.
    public var encoded: [UInt8] {
        JSONValue.object([
            "sent_version": sentVersion.map { .integer($0) } ?? .null, "version": .integer(version),
            "visible": .object(visible), "withheld": .array(withheld.map { .string($0) }),
            "withheld_values": .object(withheldValues),
        ]).serializedBytes
    }

    /// Reads a state back from ``encoded`` bytes.
    /// - Throws: ``RenkeiError`` with code `database` when the bytes are not a stored state.
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "sent state")
        var sentVersion: Int64?
        if let value = stored.object["sent_version"], !value.isNull {
            guard let integer = value.integerValue else { throw stored.damaged("sent_version") }
            sentVersion = integer
        }
        self.init(
            sentVersion: sentVersion, version: try stored.integer("version"), visible: try stored.objectMember("visible"),
            withheld: try stored.strings("withheld"), withheldValues: try stored.objectMember("withheld_values"))
    }
}
