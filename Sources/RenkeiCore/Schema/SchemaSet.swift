/// The loaded schema files. Core does no I/O: the daemon reads the directory and passes the bytes.
///
/// Layout (see `Schemas/README.md`): `envelope.schema.json` describes the envelope (contract §1),
/// `common.schema.json` holds shared `$defs`, and `events/<source>.<verb>.schema.json` describes the
/// `data` object of one event type. Files not ending in `.schema.json` (README.md, openapi.json) are
/// ignored. Everything is compiled once, here.
public struct SchemaSet: Sendable {
    /// The file that describes the envelope.
    static let envelopeFile = "envelope.schema.json"
    /// The only `library.*` types there may be: reading records are never accepted
    /// (図書館の自由に関する宣言), so no schema may describe one.
    static let libraryPatronTypes: Set<String> = [
        "library.patron_registered", "library.patron_updated", "library.patron_withdrawn",
    ]

    /// Every type that has a schema.
    public private(set) var eventTypes: Set<String>
    /// The prefixes of ``eventTypes`` (`resident`, `tax`, `childcare`, `library`, `operator`).
    public private(set) var sources: Set<String>

    /// The compiled schemas.
    let library: SchemaLibrary
    /// The envelope schema's root node.
    let envelope: Int
    /// Event type → the root node of its `data` schema.
    let dataSchemas: [String: Int]

    /// Compiles the schema files.
    /// - Parameter files: path relative to the schemas folder (`"envelope.schema.json"`,
    ///   `"events/resident.moved.schema.json"`) → the file's bytes.
    /// - Throws: ``RenkeiError`` with code `invalidConfiguration`, naming the file and the problem
    ///   (not JSON, an unsupported keyword, a `$ref` that does not resolve, a misnamed event file…).
    public init(files: [String: [UInt8]]) throws(RenkeiError) {
        func fail(_ file: String, _ problem: String) -> RenkeiError {
            RenkeiError(.invalidConfiguration, "schema file \(file): \(problem)")
        }
        var documents: [String: JSONValue] = [:]
        var dataFiles: [String: String] = [:]
        for (path, bytes) in files where path.hasSuffix(".schema.json") {
            do {
                documents[path] = try JSONParser.parse(bytes)
            } catch {
                throw fail(path, "\(error.description); fix the file or remove it from the schemas folder")
            }
            guard path.hasPrefix("events/") else { continue }
            let type = String(path.dropFirst("events/".count).dropLast(".schema.json".count))
            guard SchemaSet.isEventTypeName(type) else {
                throw fail(path, "an event schema must be named events/<source>.<verb>.schema.json "
                    + "in lowercase letters, digits and _")
            }
            if type.hasPrefix("library."), !SchemaSet.libraryPatronTypes.contains(type) {
                throw fail(path, "reading records (loans, reservations, titles) are never accepted "
                    + "(図書館の自由に関する宣言): only the three library.patron_* types may have a schema")
            }
            dataFiles[type] = path
        }
        guard documents[SchemaSet.envelopeFile] != nil else {
            throw fail(SchemaSet.envelopeFile, "missing: the schemas folder must hold the envelope schema")
        }
        let compiled: SchemaLibrary
        do {
            compiled = try SchemaLibrary(documents: documents)
        } catch {
            throw fail(error.file, error.pointer.isEmpty ? error.problem : "at \(error.pointer): \(error.problem)")
        }
        library = compiled
        envelope = compiled.roots[SchemaSet.envelopeFile]!
        dataSchemas = dataFiles.mapValues { compiled.roots[$0]! }
        eventTypes = Set(dataFiles.keys)
        sources = Set(dataFiles.keys.map { String($0.prefix { $0 != "." }) })
    }

    /// Whether `name` is `<source>.<verb>`, each `[a-z][a-z0-9_]*`.
    static func isEventTypeName(_ name: String) -> Bool {
        let parts = name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { part in
            guard let first = part.first, (0x61...0x7A).contains(first) else { return false }
            return part.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        }
    }
}
