import RenkeiCore
import Testing

/// The parser's one-step strings, objects built without lookups, and comparing values without
/// serialising them must agree exactly with the slow, obvious ways.
@Suite struct JSONFastPathTests {
    static let strings: [String] = [
        "", "a", "name", "name_kana", "山田 太郎", "髙橋 﨑", "高橋 崎", "\u{F900}", "\u{8C48}", "e\u{301}", "\u{E9}",
        "tab\there", "quote\"back\\slash", "🇯🇵", "ｶﾀｶﾅ", "\u{1}",
    ]

    @Test func byteIdentityIsEqualityOfSerializedBytes() {
        var values: [JSONValue] = Self.strings.map { .string($0) }
        values += [
            .null, .bool(true), .bool(false), .integer(3), .double(3), .double(3.5), .integer(-0), .double(-0.0),
            .double(1e19), .integer(9_000_000_000_000_000_001), .array([]), .array(["a", 1]), .array([1, "a"]),
            ["a": 1, "b": 2], ["b": 2, "a": 1], ["a": 1], ["a": .double(1)], ["a": ["b": "﨑"]], ["a": ["b": "崎"]],
        ]
        for a in values {
            for b in values {
                #expect(a.isByteIdentical(to: b) == (a.serializedBytes == b.serializedBytes), "\(a) vs \(b)")
            }
        }
    }

    /// The obvious serialiser the writer's fast paths (a string copied whole when nothing needs
    /// escaping, integers written without a `String`, keys sorted over contiguous bytes) must equal.
    static func reference(_ value: JSONValue, sortKeys: Bool) -> String {
        switch value {
        case .string(let s):
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{0}"..."\u{1F}":
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        case .integer(let i): return String(i)
        case .array(let elements): return "[" + elements.map { reference($0, sortKeys: sortKeys) }.joined(separator: ",") + "]"
        case .object(let object):
            let members = sortKeys ? object.members.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) } : object.members
            return "{" + members.map { reference(.string($0.key), sortKeys: sortKeys) + ":" + reference($0.value, sortKeys: sortKeys) }
                .joined(separator: ",") + "}"
        default: return value.serializedString
        }
    }

    @Test func writerFastPathsEqualTheObviousSerialiser() {
        let integers: [Int64] = [0, 1, -1, 9, 10, -10, 1234567890, Int64.max, Int64.min, -9_223_372_036_854_775_807]
        var values: [JSONValue] = Self.strings.map { .string($0) } + integers.map { .integer($0) }
        values.append(.string("a\u{7F}b\u{1F}c\u{0}"))
        var object = JSONObject()
        for (index, key) in (Self.strings + ["z", "A", "_", "\u{7F}", "\u{80}", "ab", "a"]).enumerated() {
            object[key] = .integer(Int64(index))
        }
        values.append(.object(object))
        values.append(.array(values))
        // Integral doubles are written as the integer they equal.
        #expect(JSONValue.array([.double(3), .double(-0.0), .double(-42), .double(3.5)]).serializedString == "[3,0,-42,3.5]")
        for value in values {
            #expect(value.serializedString == Self.reference(value, sortKeys: false), "\(value)")
            #expect(value.canonicalString == Self.reference(value, sortKeys: true), "\(value)")
        }
    }

    @Test func keysCompareByBytesNotByCanonicalEquivalence() {
        // U+F900 is canonically equivalent to U+8C48 (Swift's == says equal); é written two ways too.
        var object = JSONObject()
        object["\u{F900}"] = 1
        object["\u{8C48}"] = 2
        object["e\u{301}"] = 3
        object["\u{E9}"] = 4
        #expect(object.count == 4)
        #expect(object["\u{8C48}"] == 2 && object["\u{F900}"] == 1 && object["\u{E9}"] == 4)
        #expect(JSONValue.object(JSONObject(uniqueMembers: object.members)).serializedString == JSONValue.object(object).serializedString)
    }

    @Test func parsedStringsKeepTheirExactScalars() throws {
        for string in Self.strings {
            let text = JSONValue.array([.string(string), ["k": .string(string)]]).serializedString
            let parsed = try JSONParser.parse(text)
            #expect(parsed.isByteIdentical(to: .array([.string(string), ["k": .string(string)]])), "\(string)")
            #expect(Array(parsed.arrayValue?.first?.stringValue?.unicodeScalars ?? "".unicodeScalars) == Array(string.unicodeScalars))
        }
        #expect(try JSONParser.parse(#""a\u00e9\/b""#) == .string("a\u{E9}/b"))
    }

    @Test func invalidStringsAreRefusedWhereTheyGoWrong() {
        let cases: [([UInt8], Int)] = [
            (Array(#""ab"#.utf8) + [0xC0, 0xAF, 0x22], 3),  // overlong "/"
            (Array(#""ab"#.utf8) + [0xED, 0xA0, 0x80, 0x22], 3),  // a surrogate in UTF-8
            (Array(#""ab"#.utf8) + [0xF4, 0x90, 0x80, 0x80, 0x22], 3),  // above U+10FFFF
            (Array(#""ab"#.utf8) + [0xE5, 0xB4, 0x22], 5),  // truncated, then the quote
            (Array(#""a"#.utf8) + [0x0A, 0x22], 2),  // a raw line feed
            (Array(#""abc"#.utf8), 4),  // unterminated
        ]
        for (bytes, offset) in cases {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
            do {
                _ = try JSONParser.parse(bytes)
            } catch {
                #expect(error.offset == offset, "\(bytes): \(error)")
            }
        }
    }

    @Test func duplicateKeysAreRefusedInSmallAndLargeObjects() throws {
        for size in [1, 2, 15, 16, 17, 40] {
            let members = (0..<size).map { #""k\#($0)":\#($0)"# }
            let good = "{" + members.joined(separator: ",") + "}"
            #expect(try JSONParser.parse(good).objectValue?.count == size)
            for duplicate in [0, size - 1] {
                let bad = "{" + (members + [#""k\#(duplicate)":0"#]).joined(separator: ",") + "}"
                #expect(throws: JSONParseError.self, "size \(size), duplicate k\(duplicate)") { try JSONParser.parse(bad) }
            }
        }
        // Keys differing only by canonical equivalence are different keys.
        #expect(try JSONParser.parse("{\"\u{F900}\":1,\"\u{8C48}\":2}").objectValue?.count == 2)
    }
}
