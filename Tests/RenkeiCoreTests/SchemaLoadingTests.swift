import Foundation
import Testing

@testable import RenkeiCore

/// The real `Schemas/` folder and the contract's sample, found by walking up from this file.
enum SchemaFixtures {
    /// The repository root: the first folder above this file that holds `Schemas/envelope.schema.json`.
    static let repositoryRoot: URL = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Schemas/envelope.schema.json").path) {
                return folder
            }
            folder.deleteLastPathComponent()
        }
        fatalError("Schemas/ not found above \(#filePath)")
    }()

    /// Every file of `Schemas/`, keyed by its path relative to the folder.
    static let files: [String: [UInt8]] = {
        let root = repositoryRoot.appendingPathComponent("Schemas").resolvingSymlinksInPath()
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root.path)!
        while let relative = enumerator.nextObject() as? String {
            let url = root.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            files[relative] = [UInt8](try! Data(contentsOf: url))
        }
        return files
    }()

    /// The compiled real schemas.
    static let schemas: SchemaSet = try! SchemaSet(files: files)

    /// A validator over the real schemas.
    static let validator = EventValidator(schemas: schemas)

    /// The lines of `shared/contract/examples/sample.jsonl` (shared/ sits beside the repository).
    static func sampleLines() throws -> [[UInt8]] {
        var folder = repositoryRoot
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("shared/contract/examples/sample.jsonl")
            if FileManager.default.fileExists(atPath: candidate.path) {
                let bytes = [UInt8](try Data(contentsOf: candidate))
                return bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
            }
            folder.deleteLastPathComponent()
        }
        throw SampleMissing()
    }

    struct SampleMissing: Error {}
}

@Suite struct SchemaLoadingTests {
    /// A minimal valid folder to mutate in load-error tests.
    static let minimal: [String: [UInt8]] = [
        "envelope.schema.json": Array(#"{"type": "object"}"#.utf8),
        "events/demo.done.schema.json": Array(#"{"type": "object", "additionalProperties": false}"#.utf8),
    ]

    func loadError(_ files: [String: [UInt8]]) -> String? {
        do {
            _ = try SchemaSet(files: files)
            return nil
        } catch {
            #expect(error.code == .invalidConfiguration)
            return error.message
        }
    }

    func with(_ path: String, _ text: String) -> [String: [UInt8]] {
        var files = Self.minimal
        files[path] = Array(text.utf8)
        return files
    }

    @Test func realFolderLoadsEveryEventType() throws {
        let schemas = SchemaFixtures.schemas
        #expect(schemas.eventTypes == [
            "resident.registered", "resident.moved", "resident.moved_out", "resident.died", "resident.name_changed",
            "resident.household_changed", "resident.corrected", "resident.protection_changed",
            "tax.assessed", "tax.corrected",
            "childcare.applied", "childcare.enrolled", "childcare.fee_decided", "childcare.withdrawn",
            "library.patron_registered", "library.patron_updated", "library.patron_withdrawn",
            "operator.linked", "operator.unlinked", "operator.review_rejected", "operator.linking_estimated",
            "operator.finding_explained",
        ])
        #expect(schemas.sources == ["resident", "tax", "childcare", "library", "operator"])
    }

    @Test func filesThatAreNotSchemasAreIgnored() throws {
        var files = Self.minimal
        files["README.md"] = Array("# not JSON".utf8)
        files["openapi.json"] = Array("{}".utf8)
        let schemas = try SchemaSet(files: files)
        #expect(schemas.eventTypes == ["demo.done"])
        #expect(schemas.sources == ["demo"])
    }

    @Test func missingEnvelopeIsALoadError() {
        let message = loadError(["events/demo.done.schema.json": Array("{}".utf8)])
        #expect(message?.contains("envelope.schema.json") == true)
    }

    @Test func invalidJSONNamesTheFile() {
        let message = loadError(with("events/demo.bad.schema.json", "{\"type\": "))
        #expect(message?.contains("events/demo.bad.schema.json") == true)
    }

    @Test func unsupportedKeywordIsALoadError() {
        let message = loadError(with("events/demo.bad.schema.json", #"{"type": "object", "patternProperties": {}}"#))
        #expect(message?.contains("events/demo.bad.schema.json") == true)
        #expect(message?.contains("patternProperties") == true)
        // Nested too, with the location.
        let nested = loadError(
            with("events/demo.bad.schema.json", #"{"properties": {"a": {"type": "string", "minContains": 1}}}"#))
        #expect(nested?.contains("/properties/a/minContains") == true)
    }

    @Test func badKeywordValuesAreLoadErrors() {
        #expect(loadError(with("events/demo.bad.schema.json", #"{"format": "email"}"#))?.contains("format") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"pattern": "("}"#))?.contains("pattern") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"type": "text"}"#))?.contains("type") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"minLength": -1}"#))?.contains("minLength") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"required": ["a", "a"]}"#)) != nil)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"items": [{}]}"#))?.contains("prefixItems") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"then": {}}"#))?.contains("if") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"$schema": "http://json-schema.org/draft-07/schema#"}"#)) != nil)
        #expect(loadError(with("events/demo.bad.schema.json", "[]"))?.contains("schema must be") == true)
    }

    @Test func unresolvedReferenceIsALoadError() {
        let message = loadError(with("events/demo.bad.schema.json", ##"{"$ref": "../common.schema.json#/$defs/nope"}"##))
        #expect(message?.contains("does not resolve") == true)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"$ref": "https://example.com/s.json"}"#)) != nil)
        #expect(loadError(with("events/demo.bad.schema.json", #"{"$ref": "../../outside.json"}"#)) != nil)
    }

    @Test func referenceCycleIsALoadError() {
        let message = loadError(with(
            "events/demo.bad.schema.json", ##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}}"##))
        #expect(message?.contains("cycle") == true)
        // Recursion that descends into the value is fine.
        let recursive = with("events/demo.tree.schema.json", ##"{"type": "object", "properties": {"child": {"$ref": "#"}}}"##)
        #expect(loadError(recursive) == nil)
    }

    @Test func eventFileNamesMustBeSourceDotVerb() {
        #expect(loadError(with("events/Demo.Done.schema.json", "{}"))?.contains("<source>.<verb>") == true)
        #expect(loadError(with("events/demo.schema.json", "{}")) != nil)
    }

    @Test func aLibraryReadingRecordSchemaIsRefused() {
        let message = loadError(with("events/library.loan_recorded.schema.json", "{}"))
        #expect(message?.contains("図書館の自由に関する宣言") == true)
    }

    @Test func everyEventSchemaDescribesAClosedObject() throws {
        // Unknown data keys are refused for every type (contract §1).
        for type in SchemaFixtures.schemas.eventTypes {
            let root = SchemaFixtures.schemas.dataSchemas[type]!
            let violation = SchemaFixtures.schemas.library.check(["zz_unknown": 1], against: root)
            #expect(violation?.dottedPath() == "zz_unknown", "\(type)")
        }
    }
}
