/// One compiled JSON Schema (2020-12 subset): every keyword Renkei's schemas use, read once at load
/// time so that validating an event never re-interprets the schema's JSON.
///
/// Subschemas are indices into ``SchemaLibrary/nodes`` (an arena), which lets `$ref` point anywhere,
/// including across files, without reference cycles between values.
struct SchemaNode: Sendable {
    /// The `false` schema: nothing validates.
    var rejectsEverything = false
    /// `$ref`, resolved to a node.
    var ref: Int?
    /// `type`.
    var types: JSONTypeSet?
    /// `const`.
    var constValue: JSONValue?
    /// `enum`.
    var enumValues: [JSONValue]?
    /// `minLength`, in Unicode scalars.
    var minLength: Int?
    /// `maxLength`, in Unicode scalars.
    var maxLength: Int?
    /// `pattern`.
    var pattern: SchemaPattern?
    /// `format`.
    var format: SchemaFormat?
    /// `minimum`.
    var minimum: JSONValue?
    /// `maximum`.
    var maximum: JSONValue?
    /// `minItems`.
    var minItems: Int?
    /// `maxItems`.
    var maxItems: Int?
    /// `items`.
    var items: Int?
    /// `properties`: key → node, looked up by exact UTF-8 bytes.
    var properties: [String: Int] = [:]
    /// The `properties` keys in schema order, for messages.
    var propertyNames: [String] = []
    /// `additionalProperties`.
    var additionalProperties: Int?
    /// `required`, in schema order.
    var required: [String] = []
    /// `minProperties`.
    var minProperties: Int?
    /// `maxProperties`.
    var maxProperties: Int?
    /// `allOf`.
    var allOf: [Int] = []
    /// `anyOf`.
    var anyOf: [Int]?
    /// `oneOf`.
    var oneOf: [Int]?
    /// `not`.
    var not: Int?
    /// `if`.
    var ifSchema: Int?
    /// `then`.
    var thenSchema: Int?
    /// `else`.
    var elseSchema: Int?
    /// `errorMessage` (the ajv-errors keyword): replaces the reason of failures found at this node's own
    /// location (its assertions, its `required`, and its in-place applicators), not those of children.
    var errorMessage: String?

    /// The subschemas evaluated at the same instance location (the edges a `$ref` loop would follow).
    var inPlaceSubschemas: [Int] {
        var result = allOf + (anyOf ?? []) + (oneOf ?? [])
        for node in [ref, not, ifSchema, thenSchema, elseSchema] { if let node { result.append(node) } }
        return result
    }
}

/// The JSON types a `type` keyword names.
struct JSONTypeSet: OptionSet, Sendable {
    let rawValue: UInt8

    static let null = JSONTypeSet(rawValue: 1 << 0)
    static let boolean = JSONTypeSet(rawValue: 1 << 1)
    static let integer = JSONTypeSet(rawValue: 1 << 2)
    static let number = JSONTypeSet(rawValue: 1 << 3)
    static let string = JSONTypeSet(rawValue: 1 << 4)
    static let array = JSONTypeSet(rawValue: 1 << 5)
    static let object = JSONTypeSet(rawValue: 1 << 6)

    /// The names in the order messages list them.
    static let named: [(String, JSONTypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number), ("string", .string),
        ("array", .array), ("object", .object),
    ]

    /// Whether `value` is of one of these types (an integral `number` counts as `integer`, as in 2020-12).
    func matches(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .integer: return contains(.integer) || contains(.number)
        case .double(let d): return contains(.number) || (contains(.integer) && d.rounded(.towardZero) == d)
        case .string: return contains(.string)
        case .array: return contains(.array)
        case .object: return contains(.object)
        }
    }

    /// "a string", "an integer or null".
    var phrase: String {
        Self.named.filter { contains($0.1) }.map { JSONTypeSet.article($0.0) }.joined(separator: " or ")
    }

    static func article(_ name: String) -> String {
        switch name {
        case "null": return "null"
        case "integer", "array", "object": return "an \(name)"
        default: return "a \(name)"
        }
    }
}

/// A compiled `pattern`.
///
/// Simple anchored patterns (the ones Renkei's schemas use) run on ``SimplePattern``; anything else
/// on `Regex`. `Regex` is not declared `Sendable`, but a compiled regex is immutable once built; its
/// program is compiled eagerly in `init` (by one match), so sharing it between threads only reads it.
final class SchemaPattern: @unchecked Sendable {
    /// The pattern as written in the schema.
    let source: String
    private let simple: SimplePattern?
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `source` with JSON Schema's semantics: Unicode scalars (code points, not grapheme
    /// clusters), ASCII-only `\d` and `\w` as in ECMA-262, an unanchored search.
    init(_ source: String) throws {
        self.source = source
        // Always compiled, so a pattern that is invalid for Regex is a load error either way.
        regex = try Regex(source).matchingSemantics(.unicodeScalar).asciiOnlyDigits().asciiOnlyWordCharacters()
        _ = try regex.firstMatch(in: "")
        simple = SimplePattern(source)
    }

    /// Whether this pattern runs on the fast matcher (for tests).
    var isSimple: Bool { simple != nil }

    /// Whether the pattern matches somewhere in `string`.
    func matches(_ string: String) -> Bool {
        if let simple { return simple.matches(string) }
        return matchesWithRegex(string)
    }

    /// The `Regex` answer, for comparing the two matchers in tests.
    func matchesWithRegex(_ string: String) -> Bool {
        (try? regex.firstMatch(in: string)) != nil
    }
}
