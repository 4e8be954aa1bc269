/// An ordered list of header fields with case-insensitive lookup, for requests and responses.
///
/// Named apart from RenkeiSystem's server-side `HTTPHeaders`, so code importing both needs no qualification.
///
/// Order and duplicates are kept as given or received. Build one from a dictionary literal:
/// `["Content-Type": "application/json", "Authorization": "Bearer …"]`.
public struct OutboundHeaders: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One HTTP header field as sent or received.
    public struct Field: Sendable, Hashable {
        /// The field name, as written (matching is case-insensitive).
        public var name: String
        /// The field value, without surrounding whitespace.
        public var value: String

        /// Creates a header field.
        /// - Parameters:
        ///   - name: The field name.
        ///   - value: The field value.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in order.
    public var fields: [Field]

    /// Creates a header list from fields in order.
    /// - Parameter fields: The header fields.
    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// Creates a header list from a literal; repeated names are kept in order.
    /// - Parameter elements: Name and value pairs.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    /// The position of the first field.
    public var startIndex: Int { fields.startIndex }
    /// The position after the last field.
    public var endIndex: Int { fields.endIndex }
    /// The field at a position.
    /// - Parameter position: A valid index.
    public subscript(position: Int) -> Field { fields[position] }

    /// The value of the first field with this name, compared case-insensitively; `nil` if none.
    /// - Parameter name: The field name, in any case.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of the fields with this name, in order, compared case-insensitively.
    /// - Parameter name: The field name, in any case.
    public func values(named name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Whether a field with this name is present, compared case-insensitively.
    /// - Parameter name: The field name, in any case.
    public func contains(name: String) -> Bool {
        fields.contains { Self.sameName($0.name, name) }
    }

    /// Appends a field at the end.
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The field value.
    public mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// ASCII case-insensitive comparison, as field names are ASCII tokens (RFC 9110 §5.1).
    static func sameName(_ a: String, _ b: String) -> Bool {
        let a = a.utf8, b = b.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lower($0) == lower($1) }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }
}
