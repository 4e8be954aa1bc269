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
        var out = Array("{\"sent_version\":".utf8)
        out.reserveCapacity(256)
        (sentVersion.map { JSONValue.integer($0) } ?? .null).write(to: &out, sortKeys: false)
        out.append(contentsOf: ",\"version\":".utf8)
        JSONValue.integer(version).write(to: &out, sortKeys: false)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: Self.content(visible: visible, withheld: withheld, withheldValues: withheldValues))
        return out
    }

    /// The tail of ``encoded`` from `"visible"` on: what a receiver holds, whatever the versions.
    static func content(visible: JSONObject, withheld: [String], withheldValues: JSONObject) -> [UInt8] {
        var out = Array("\"visible\":".utf8)
        out.reserveCapacity(256)
        JSONValue.object(visible).write(to: &out, sortKeys: false)
        out.append(contentsOf: ",\"withheld\":".utf8)
        JSONValue.array(withheld.map { .string($0) }).write(to: &out, sortKeys: false)
        out.append(contentsOf: ",\"withheld_values\":".utf8)
        JSONValue.object(withheldValues).write(to: &out, sortKeys: false)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Whether stored ``encoded`` bytes hold exactly this state's `visible`, `withheld` and
    /// `withheld_values` (byte for byte, versions aside), without parsing them.
    func hasSameContent(asEncoded stored: [UInt8]) -> Bool {
        let content = Self.content(visible: visible, withheld: withheld, withheldValues: withheldValues)
        // The versions before it are integers or null, so the first `"visible":` is the member's key.
        guard stored.count > content.count else { return false }
        let start = stored.count - content.count
        guard stored[start - 1] == UInt8(ascii: ",") else { return false }
        return stored[start...].elementsEqual(content)
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
