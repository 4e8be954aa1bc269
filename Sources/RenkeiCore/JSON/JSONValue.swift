/// A JSON value that keeps what it was given: object members in their order, strings with their
/// exact Unicode scalars (no normalisation), integers as integers.
///
/// Renkei stores names as given (CJK compatibility ideographs and IVS sequences included), so
/// strings are never compared with Swift's canonical-equivalence `==` where identity matters:
/// compare ``canonicalBytes`` instead.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is an integer (a double with an exact integer value counts).
    public var integerValue: Int64? {
        switch self {
        case .integer(let i): return i
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The boolean, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type name used in error messages and schemas (`"string"`, `"integer"`, …).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Member lookup on an object; `nil` for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

/// A JSON object whose members keep their insertion order.
///
/// Objects in events and views are small, so lookup is a linear scan over the members.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One member of an object.
    public struct Member: Sendable, Hashable {
        /// The member's key.
        public var key: String
        /// The member's value.
        public var value: JSONValue
        /// Creates a member.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in order.
    public private(set) var members: [Member]

    /// Creates an empty object.
    public init() { members = [] }

    /// Creates an object from members; a later duplicate key replaces an earlier one in place.
    public init(_ members: [Member]) {
        self.members = []
        self.members.reserveCapacity(members.count)
        for member in members { self[member.key] = member.value }
    }

    /// Creates an object from members whose keys are known to be distinct (byte for byte), keeping
    /// their order, without the per-member lookup of ``init(_:)``: for parsers and view builders that
    /// produce many objects.
    /// - Precondition: no two members have byte-identical keys (checked in debug builds).
    public init(uniqueMembers members: [Member]) {
        assert(
            Set(members.map { Array($0.key.utf8) }).count == members.count,
            "JSONObject(uniqueMembers:) was given a duplicate key")
        self.members = members
    }

    /// Creates an object from a literal.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { Member(key: $0.0, value: $0.1) })
    }

    /// The number of members.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// Gets or sets a member; setting `nil` removes it, setting an existing key keeps its place.
    public subscript(key: String) -> JSONValue? {
        get {
            for member in members where Self.sameKey(member.key, key) { return member.value }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { Self.sameKey($0.key, key) }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Appends a member whose key is known not to be present yet (no lookup).
    /// - Precondition: no member has a byte-identical key (checked in debug builds).
    public mutating func appendUnique(_ key: String, _ value: JSONValue) {
        assert(self[key] == nil, "JSONObject.appendUnique: the key is already present")
        members.append(Member(key: key, value: value))
    }

    /// Byte equality of two keys (never canonical equivalence): the lengths first, which is O(1) for
    /// native strings and settles most mismatches.
    ///
    /// Native and small strings compare as two contiguous buffers (the generic `elementsEqual` over
    /// two `UTF8View`s walks them an index at a time, and was a tenth of a rebuild's time).
    @inline(__always)
    static func sameKey(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in UTF8Bytes.equal(x, y) }
        }
        if let fast, let fast { return fast }
        return a.utf8.elementsEqual(b.utf8)
    }

    /// Iterates the members in order.
    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }

    /// A copy holding only the members whose key is in `keys`, in this object's order.
    public func filtered(keeping keys: Set<String>) -> JSONObject {
        var copy = self
        copy.members.removeAll { !keys.contains($0.key) }
        return copy
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
