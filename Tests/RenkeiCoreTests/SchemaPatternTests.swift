import Testing

@testable import RenkeiCore

/// The fast matcher must give the same answers as `Regex` (anchored patterns only).
@Suite struct SchemaPatternTests {
    /// Every `pattern` in the real schema files.
    static let schemaPatterns: [String] = {
        var found: Set<String> = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let object):
                for member in object {
                    if member.key == "pattern", let pattern = member.value.stringValue { found.insert(pattern) }
                    walk(member.value)
                }
            case .array(let elements): elements.forEach(walk)
            default: break
            }
        }
        for (path, bytes) in SchemaFixtures.files where path.hasSuffix(".schema.json") {
            walk(try! JSONParser.parse(bytes))
        }
        return found.sorted()
    }()

    static let extraPatterns = [
        "^a$", "^ab?c*d+$", "^[a-c]{2}x{1,3}$", "^[^a-c]{2,}$", #"^\d{3}-?\d{4}$"#, #"^\w+\s\S$"#, #"^[\-.]$"#,
        #"^\.$"#, "^[-a]$", "^[a-]$", #"^[\u3041-\u3096]+$"#, #"^\x41$"#,
    ]

    static let samples = [
        "", " ", "　", "a", "ab", "abc", "abbccd", "aax", "aaxxx", "aaxxxx", "dd", "d", "102-0074", "1020074",
        "102-007", "102-0074\n", "\n102-0074", "１０２-0074", "000100001", "0001000010000000", "A-1", "H000501",
        "F-101", "U0000000001", "U123", "resident", "Resident", "resident.moved", "resident.moved.x", ".", "-", "]",
        "髙橋 一郎", "髙橋\n一郎", "\t", "a\u{85}b", "タカハシ イチロウ", "ﾀｶﾊｼ ｲﾁﾛｳ", "たかはし", "ー", "高橋", "x y", "x_y z",
        "SMITH John", "\u{9AD9}\u{E0100}", "e\u{301}", "A", "\u{212A}",
    ]

    @Test func schemaPatternsRunOnTheFastMatcher() throws {
        #expect(!Self.schemaPatterns.isEmpty)
        for source in Self.schemaPatterns {
            #expect(try SchemaPattern(source).isSimple, "\(source)")
        }
    }

    @Test func fastMatcherAgreesWithRegex() throws {
        for source in Self.schemaPatterns + Self.extraPatterns {
            let pattern = try SchemaPattern(source)
            #expect(pattern.isSimple, "\(source)")
            for sample in Self.samples {
                #expect(pattern.matches(sample) == pattern.matchesWithRegex(sample), "\(source) on \(sample.debugDescription)")
            }
        }
    }

    @Test func otherPatternsFallBackToRegex() throws {
        for source in ["a", "^a", "a$", "^(a|b)$", "^a.$", "^a+?$", #"^\bx$"#, "^[[a]]$", "^(?=a)a$"] {
            let pattern = try SchemaPattern(source)
            #expect(!pattern.isSimple, "\(source)")
        }
        #expect(try SchemaPattern("b").matches("abc"))
        #expect(try SchemaPattern("^(a|b)$").matches("b"))
    }
}
