/// Checks incoming event lines against contract §1–2 and the loaded schemas.
///
/// The order of checks is fixed, so every line gets the most useful single reason:
/// 1. the line is one JSON object;
/// 2. `source` is the one this endpoint or folder accepts, and not `operator` unless allowed;
/// 3. a `library.*` type other than the three patron types is refused as a reading record;
/// 4. the envelope schema (keys, types, formats; unknown keys refused);
/// 5. `type` starts with `<source>.` and has a schema; `schema_version` is one this daemon reads;
/// 6. the type's `data` schema (unknown keys refused).
/// Within one schema the first failure in document order is reported.
public struct EventValidator: Sendable {
    /// The newest `schema_version` this daemon understands. Older versions would be upcast on read
    /// (see `Schemas/README.md`); there are none yet.
    public static let supportedSchemaVersion = 1

    /// The source the daemon itself writes, for operator decisions (contract §2).
    static let operatorSource = "operator"

    let schemas: SchemaSet

    /// Creates a validator over loaded schemas.
    /// - Parameter schemas: the compiled schema files.
    public init(schemas: SchemaSet) {
        self.schemas = schemas
    }

    /// Parses one JSONL line (bytes, no trailing newline) and validates it.
    /// - Parameters:
    ///   - line: the UTF-8 bytes of one line.
    ///   - expectedSource: the only source this endpoint or spool folder accepts; nil accepts any
    ///     (replay).
    ///   - allowOperator: whether `operator.*` events are accepted (only from the daemon's own log).
    /// - Returns: the event, or the first reason it is refused.
    public func validate(
        line: some Collection<UInt8>, expectedSource: String?, allowOperator: Bool = false
    ) -> Result<Event, EventRejection> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(EventRejection(field: nil, reason: error.description))
        }
        return validate(value: value, expectedSource: expectedSource, allowOperator: allowOperator)
    }

    /// Validates one parsed envelope.
    /// - Parameters:
    ///   - value: the parsed JSON of one event.
    ///   - expectedSource: the only source this endpoint or spool folder accepts; nil accepts any.
    ///   - allowOperator: whether `operator.*` events are accepted.
    /// - Returns: the event (envelope kept exactly as given), or the first reason it is refused.
    public func validate(
        value: JSONValue, expectedSource: String?, allowOperator: Bool = false
    ) -> Result<Event, EventRejection> {
        if let rejection = rejection(of: value, expectedSource: expectedSource, allowOperator: allowOperator) {
            return .failure(rejection)
        }
        do {
            return .success(try Event(envelope: value.objectValue!))
        } catch {
            return .failure(EventRejection(field: nil, reason: error.message))
        }
    }

    // MARK: - Rules

    private func rejection(of value: JSONValue, expectedSource: String?, allowOperator: Bool) -> EventRejection? {
        guard let envelope = value.objectValue else {
            return EventRejection(
                field: nil, reason: "an event must be a JSON object, not \(JSONTypeSet.article(value.typeName))")
        }
        let source = envelope["source"]?.stringValue
        if let source, let expectedSource, !JSONObject.sameKey(source, expectedSource) {
            return EventRejection(
                field: "source", reason: "this endpoint/folder accepts only source \(expectedSource)")
        }
        if let source, JSONObject.sameKey(source, Self.operatorSource), !allowOperator {
            return EventRejection(
                field: "source",
                reason: "operator events are written by the daemon itself when an operator decides; "
                    + "they are not accepted from outside")
        }
        let type = envelope["type"]?.stringValue
        if let type, type.utf8.starts(with: "library.".utf8), !SchemaSet.libraryPatronTypes.contains(type) {
            return EventRejection(
                field: "type",
                reason: "reading records (loans, reservations, titles) are never accepted: what a person reads "
                    + "is private (図書館の自由に関する宣言); the library may send only "
                    + SchemaSet.libraryPatronTypes.sorted().joined(separator: ", "))
        }
        if let violation = schemas.library.check(value, against: schemas.envelope) {
            return EventRejection(field: violation.dottedPath(), reason: violation.reason)
        }
        // The envelope schema guarantees these are strings from here on.
        guard let source, let type else { return EventRejection(field: nil, reason: "source and type are required") }
        let prefix = type.utf8.prefix { $0 != UInt8(ascii: ".") }
        guard prefix.elementsEqual(source.utf8) else {
            return EventRejection(field: "type", reason: "must be \(source).<verb>: its prefix must equal source")
        }
        guard let dataSchema = schemas.dataSchemas[type] else {
            let known = schemas.eventTypes.filter { $0.utf8.starts(with: (source + ".").utf8) }.sorted()
            let list = known.isEmpty ? "this daemon has no schemas for source \(source)" : "known: " + known.joined(separator: ", ")
            return EventRejection(field: "type", reason: "unknown event type \(type) (\(list))")
        }
        if let version = envelope["schema_version"]?.integerValue, version > Int64(Self.supportedSchemaVersion) {
            return EventRejection(
                field: "schema_version",
                reason: "version \(version) is not supported by this daemon (it reads up to "
                    + "\(Self.supportedSchemaVersion)); upgrade Renkei before sending it")
        }
        if let violation = schemas.library.check(envelope["data"]!, against: dataSchema) {
            return EventRejection(field: violation.dottedPath(prefix: "data"), reason: violation.reason)
        }
        return nil
    }
}
