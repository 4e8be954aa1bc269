import Testing

@testable import RenkeiCore

/// Each supported keyword on its own, against inline schemas.
@Suite struct SchemaEvaluatorTests {
    /// The first violation of `instance` against `schema` (file `t.schema.json`), as "path: reason" or nil.
    func check(_ schema: String, _ instance: String, others: [String: String] = [:]) throws -> SchemaViolation? {
        var documents = ["t.schema.json": try JSONParser.parse(schema)]
        for (path, text) in others { documents[path] = try JSONParser.parse(text) }
        let library = try SchemaLibrary(documents: documents)
        return library.check(try JSONParser.parse(instance), against: library.roots["t.schema.json"]!)
    }

    func passes(_ schema: String, _ instance: String, others: [String: String] = [:]) throws -> Bool {
        try check(schema, instance, others: others) == nil
    }

    @Test func booleanSchemas() throws {
        #expect(try passes("true", "1"))
        #expect(try !passes("false", "1"))
    }

    @Test func type() throws {
        #expect(try passes(#"{"type": "string"}"#, #""a""#))
        #expect(try check(#"{"type": "string"}"#, "1")?.reason == "must be a string, not an integer")
        #expect(try passes(#"{"type": ["string", "null"]}"#, "null"))
        #expect(try !passes(#"{"type": ["string", "null"]}"#, "true"))
        #expect(try passes(#"{"type": "integer"}"#, "3"))
        #expect(try passes(#"{"type": "integer"}"#, "3.0"))
        #expect(try !passes(#"{"type": "integer"}"#, "3.5"))
        #expect(try passes(#"{"type": "number"}"#, "3"))
        #expect(try passes(#"{"type": "boolean"}"#, "false"))
        #expect(try passes(#"{"type": "array"}"#, "[]"))
        #expect(try !passes(#"{"type": "object"}"#, "[]"))
    }

    @Test func enumAndConst() throws {
        #expect(try passes(#"{"enum": ["a", 1, null]}"#, "1.0"))
        #expect(try check(#"{"enum": ["male", "female"]}"#, #""x""#)?.reason == #"must be one of "male", "female""#)
        #expect(try passes(#"{"const": {"a": [1, 2]}}"#, #"{"a": [1, 2]}"#))
        #expect(try !passes(#"{"const": 0}"#, "false"))
        // Strings compare by scalars: the Kelvin sign is canonically equivalent to K but not the same.
        #expect(try !passes(#"{"const": "K"}"#, #""\u212A""#))
    }

    @Test func stringLengthsCountUnicodeScalars() throws {
        #expect(try passes(#"{"minLength": 2, "maxLength": 2}"#, #""髙橋""#))
        // 髙 + an IVS selector is one character but two scalars.
        #expect(try !passes(#"{"maxLength": 1}"#, #""髙\udb40\udd00""#))
        #expect(try check(#"{"minLength": 1}"#, #""""#)?.reason == "must not be empty")
        #expect(try check(#"{"maxLength": 3}"#, #""abcd""#)?.reason == "must be at most 3 characters long")
        #expect(try passes(#"{"minLength": 5}"#, "1"), "applies to strings only")
    }

    @Test func patternIsAnUnanchoredScalarSearch() throws {
        #expect(try passes(#"{"pattern": "b"}"#, #""abc""#))
        #expect(try !passes(#"{"pattern": "^b"}"#, #""abc""#))
        #expect(try !passes(#"{"pattern": "^\\d+$"}"#, #""１２""#), "\\d is ASCII only, as in ECMA-262")
        #expect(try check(#"{"pattern": "^x$"}"#, #""y""#)?.reason == "must match the pattern ^x$")
    }

    @Test func formats() throws {
        #expect(try passes(#"{"format": "date"}"#, #""2024-02-29""#))
        #expect(try check(#"{"format": "date"}"#, #""2026-02-30""#)?.reason == "must be a date YYYY-MM-DD that exists")
        #expect(try passes(#"{"format": "date-time"}"#, #""2026-04-01T09:00:00+09:00""#))
        #expect(try !passes(#"{"format": "my-number"}"#, #""123456789012""#))
        #expect(try passes(#"{"format": "municipality-code"}"#, #""131016""#))
        #expect(try passes(#"{"format": "date"}"#, "20260101"), "applies to strings only")
    }

    @Test func minimumAndMaximum() throws {
        #expect(try passes(#"{"minimum": 0, "maximum": 10}"#, "10"))
        #expect(try check(#"{"minimum": 0}"#, "-1")?.reason == "must be at least 0")
        #expect(try check(#"{"maximum": 1.5}"#, "2")?.reason == "must be at most 1.5")
        #expect(try passes(#"{"minimum": 9007199254740993}"#, "9007199254740993"), "integers compare exactly")
    }

    @Test func arrays() throws {
        let schema = #"{"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}}"#
        #expect(try passes(schema, #"["a"]"#))
        #expect(try check(schema, "[]")?.reason == "must not be empty")
        #expect(try check(schema, #"["a", "b", "c"]"#)?.reason == "must have at most 2 elements")
        let violation = try check(schema, #"["a", 2]"#)
        #expect(violation?.dottedPath() == "[1]")
    }

    @Test func objects() throws {
        let schema = #"""
            {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
             "required": ["a"], "additionalProperties": false}
            """#
        #expect(try passes(schema, #"{"a": "x", "b": 1}"#))
        #expect(try check(schema, #"{"b": 1}"#).map { "\($0.dottedPath()!): \($0.reason)" } == "a: is required")
        let unknown = try check(schema, #"{"a": "x", "c": 1}"#)
        #expect(unknown?.dottedPath() == "c")
        #expect(unknown?.reason == "is not an allowed field (allowed: a, b)")
        // additionalProperties as a schema.
        #expect(try passes(#"{"additionalProperties": {"type": "integer"}}"#, #"{"x": 1}"#))
        #expect(try check(#"{"additionalProperties": {"type": "integer"}}"#, #"{"x": "1"}"#)?.dottedPath() == "x")
        #expect(try check(#"{"minProperties": 1}"#, "{}")?.reason == "must have at least one field")
        #expect(try check(#"{"maxProperties": 0}"#, #"{"a": 1}"#)?.reason == "must be an empty object")
    }

    @Test func firstErrorInDocumentOrder() throws {
        let schema = #"""
            {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["c"]}
            """#
        // The instance's member order decides, not the schema's; missing keys come after present ones.
        #expect(try check(schema, #"{"b": 1, "a": 1}"#)?.dottedPath() == "b")
        #expect(try check(schema, #"{"a": 1, "b": 1}"#)?.dottedPath() == "a")
        #expect(try check(schema, #"{"a": "x"}"#)?.dottedPath() == "c")
    }

    @Test func nestedPathsAreDotted() throws {
        let schema = #"""
            {"properties": {"guardians": {"items": {"properties": {"name": {"type": "string"}}}}}}
            """#
        let violation = try check(schema, #"{"guardians": [{"name": "a"}, {"name": 1}]}"#)
        #expect(violation?.dottedPath(prefix: "data") == "data.guardians[1].name")
    }

    @Test func allOfAnyOfOneOfNot() throws {
        #expect(try passes(#"{"allOf": [{"type": "integer"}, {"minimum": 1}]}"#, "1"))
        #expect(try check(#"{"allOf": [{"type": "integer"}, {"minimum": 1}]}"#, "0")?.reason == "must be at least 1")
        #expect(try passes(#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#, "1"))
        #expect(try check(#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#, "true")?.reason
            == "must be a string, not a boolean")
        #expect(try passes(#"{"oneOf": [{"type": "integer"}, {"minimum": 5}]}"#, "1"))
        #expect(try check(#"{"oneOf": [{"type": "integer"}, {"minimum": 5}]}"#, "6")?.reason.contains("exactly one") == true)
        #expect(try passes(#"{"oneOf": [{"type": "integer"}, {"minimum": 5}]}"#, #""x""#), "minimum ignores strings")
        #expect(try !passes(#"{"oneOf": [{"type": "integer"}, {"type": "boolean"}]}"#, #""x""#))
        #expect(try passes(#"{"not": {"type": "null"}}"#, "1"))
        #expect(try !passes(#"{"not": {"type": "null"}}"#, "null"))
    }

    @Test func ifThenElse() throws {
        let schema = #"""
            {"if": {"required": ["atena_no"]}, "else": {"required": ["name"]},
             "properties": {"atena_no": {"type": "string"}, "name": {"type": "string"}}}
            """#
        #expect(try passes(schema, #"{"atena_no": "1"}"#))
        #expect(try passes(schema, #"{"name": "x"}"#))
        #expect(try check(schema, "{}")?.dottedPath() == "name")
        let thenSchema = #"{"if": {"const": 0}, "then": {"type": "integer"}, "else": {"type": "string"}}"#
        #expect(try passes(thenSchema, "0"))
        #expect(try passes(thenSchema, #""a""#))
        #expect(try !passes(thenSchema, "1"))
    }

    @Test func errorMessageReplacesOwnFailuresOnly() throws {
        let schema = #"""
            {"type": "object", "errorMessage": "custom", "required": ["a"],
             "properties": {"a": {"type": "string"}}}
            """#
        #expect(try check(schema, "1")?.reason == "custom")
        #expect(try check(schema, "{}")?.reason == "custom")
        #expect(try check(schema, #"{"a": 1}"#)?.reason == "must be a string, not an integer")
    }

    @Test func referencesWithinAndAcrossFiles() throws {
        let common = ##"{"$defs": {"code": {"type": "string", "pattern": "^[0-9]+$", "errorMessage": "digits"}}}"##
        let local = ##"{"$defs": {"n": {"type": "integer"}}, "properties": {"x": {"$ref": "#/$defs/n"}}}"##
        #expect(try passes(local, #"{"x": 1}"#))
        #expect(try check(local, #"{"x": "1"}"#)?.dottedPath() == "x")
        let cross = ##"{"properties": {"c": {"$ref": "common.schema.json#/$defs/code"}}}"##
        #expect(try check(cross, #"{"c": "a"}"#, others: ["common.schema.json": common])?.reason == "digits")
        // A referring schema's own errorMessage wins over the referenced one's.
        let overriding = ##"{"$ref": "common.schema.json#/$defs/code", "errorMessage": "mine"}"##
        #expect(try check(overriding, #""a""#, others: ["common.schema.json": common])?.reason == "mine")
        // Refs resolve relative to the file, as a file-system loader would.
        var documents = [
            "common.schema.json": try JSONParser.parse(common),
            "events/a.b.schema.json": try JSONParser.parse(##"{"$ref": "../common.schema.json#/$defs/code"}"##),
        ]
        let library = try SchemaLibrary(documents: documents)
        #expect(library.check("x", against: library.roots["events/a.b.schema.json"]!)?.reason == "digits")
        documents["events/a.b.schema.json"] = try JSONParser.parse(##"{"$ref": "common.schema.json#/$defs/code"}"##)
        #expect(throws: SchemaLoadError.self) { try SchemaLibrary(documents: documents) }
    }

    @Test func annotationsAreIgnored() throws {
        let schema = #"""
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "$comment": "c",
             "title": "t", "description": "d", "examples": [1], "type": "integer"}
            """#
        #expect(try passes(schema, "1"))
    }

    @Test func errorsNeverQuoteTheValue() throws {
        let schemas = [
            #"{"type": "integer"}"#, #"{"enum": ["a"]}"#, #"{"pattern": "^a$"}"#, #"{"maxLength": 3}"#,
            #"{"format": "my-number"}"#, #"{"not": {"type": "string"}}"#, #"{"const": "a"}"#,
        ]
        for schema in schemas {
            let reason = try check(schema, #""123456789012""#)?.reason ?? ""
            #expect(!reason.contains("123456789012"), "\(schema)")
        }
    }
}
