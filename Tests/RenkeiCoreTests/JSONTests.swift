import RenkeiCore
import Testing

@Suite struct JSONTests {
    @Test func parsesAndKeepsMemberOrder() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":[true,null,"x"],"c":{"z":-2,"y":1.5}}"#)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
        #expect(value.serializedString == #"{"b":1,"a":[true,null,"x"],"c":{"z":-2,"y":1.5}}"#)
        #expect(value.canonicalString == #"{"a":[true,null,"x"],"b":1,"c":{"y":1.5,"z":-2}}"#)
    }

    @Test func keepsExactCodePointsOfCompatibilityIdeographs() throws {
        // U+FA11 (﨑) and U+9AD9 (髙), and an IVS sequence: stored exactly, never normalised.
        let text = "{\"name\":\"\u{FA11}\u{9AD9}\u{845B}\u{E0100}\"}"
        let value = try JSONParser.parse(text)
        #expect(Array(value["name"]!.stringValue!.unicodeScalars).map(\.value) == [0xFA11, 0x9AD9, 0x845B, 0xE0100])
        #expect(value.serializedString == text)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""a\"b\\c\n\u3042\ud83d\ude00""#)
        #expect(value.stringValue == "a\"b\\c\nあ😀")
        #expect(value.serializedString == "\"a\\\"b\\\\c\\nあ😀\"")
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{\"a\":1,}", "expected a quoted key"),
        ("{\"a\":1,\"a\":2}", "duplicate key"),
        ("[1,2", "unexpected end of input"),
        ("01", "leading zeros"),
        ("\"\\ud800\"", "lone high surrogate"),
        ("{} x", "unexpected data"),
        ("\"a\u{01}\"", "control character"),
    ])
    func rejectsInvalidJSON(input: String, reason: String) {
        #expect {
            _ = try JSONParser.parse(input)
        } throws: { error in
            (error as? JSONParseError)?.reason.contains(reason) == true
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { _ = try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { _ = try JSONParser.parse([0x22, 0xC0, 0xAF, 0x22]) }  // overlong
        #expect(throws: JSONParseError.self) { _ = try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // surrogate
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { _ = try JSONParser.parse(deep) }
    }

    @Test func objectSubscriptSetsInPlaceAndRemoves() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 3
        object["c"] = "x"
        object["b"] = nil
        #expect(JSONValue.object(object).serializedString == #"{"a":3,"c":"x"}"#)
    }
}
