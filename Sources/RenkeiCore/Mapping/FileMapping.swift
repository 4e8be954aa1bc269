/// A mapping file (issue 16): how a vendor's file layout becomes Renkei events.
///
/// The file is JSON (README "Mapped sources" has worked examples):
/// ```json
/// {"layout": {"header": true, "delimiter": ","},
///  "ignore": ["電話番号", "性別"],
///  "codes": {"性別": {"1": "male", "2": "female", "9": "unknown"}},
///  "events": [{"type": "library.patron_registered", "subject": "利用者番号",
///              "event_id": {"columns": ["利用者番号"]}, "occurred_at": "登録日",
///              "data": {"name": "氏名", "name_kana": "カナ氏名", "birth_date": "生年月日",
///                       "address": "住所", "postal_code": "郵便番号"}}],
///  "snapshot": {"changed": "library.patron_updated", "removed": "library.patron_withdrawn"}}
/// ```
/// A value is a column name, `{"column": C, "codes": T, "as": K, "split": S}` or `{"value": V}`.
/// The format (`csv`/`fixed`/`jsonl`) and encoding come from the source's `files` settings; a
/// `jsonl` file's columns are its objects' members (dotted names read nested members).
public struct FileMapping: Sendable {
    /// How the file's records are laid out.
    public enum Format: String, Sendable {
        case csv, fixed
        /// JSON lines in the vendor's own shape: one object a line, its members the columns.
        case jsonl
    }

    /// One fixed-length field: its name and width in bytes of the file's encoding.
    public struct FixedField: Sendable, Hashable {
        /// The field's name, as the mapping refers to it.
        public var name: String
        /// The width in bytes.
        public var bytes: Int
    }

    /// How a value is typed when the schema does not say (or to override it).
    enum ValueKind: String, Sendable { case string, date, integer, boolean }

    /// Where one value comes from.
    enum ValueSpec: Sendable {
        /// A column, optionally through a code table, typed, or split into an array.
        case column(name: String, codes: CodeTable?, kind: ValueKind?, split: String?)
        /// A constant.
        case constant(JSONValue)
    }

    /// A code table: code → value (`null` leaves the field out).
    struct CodeTable: Sendable {
        var name: String
        var values: [String: JSONValue]
    }

    /// How an event's type is chosen.
    enum TypeSpec: Sendable {
        case constant(String)
        /// By a code column; a code mapped to `null` skips the row on purpose.
        case byCode(column: String, codes: [String: String?])
    }

    /// How an event's id is derived.
    enum EventIDSpec: Sendable {
        /// The values of these columns joined with `-` (e.g. 宛名番号 + 履歴番号).
        case columns([String])
        /// The subject and a digest of the whole row.
        case rowDigest
    }

    /// A row condition: the column is non-empty, or holds one of the codes.
    struct Condition: Sendable {
        var column: String
        var codes: Set<String>?
    }

    /// One event a row may produce.
    struct EventTemplate: Sendable {
        var type: TypeSpec
        var subject: String
        var eventID: EventIDSpec
        var occurredAt: ValueSpec?
        var effectiveDate: ValueSpec?
        var when: Condition?
        var data: [(path: [String], spec: ValueSpec)]
    }

    /// The change and withdrawal event types of a snapshot source.
    public struct SnapshotEvents: Sendable {
        /// The type of a changed row's event (e.g. `library.patron_updated`), carrying the changed fields.
        public var changed: String
        /// The type of a key missing from the file (e.g. `library.patron_withdrawn`).
        public var removed: String
        var removedData: [(path: [String], spec: ValueSpec)]
    }

    /// The file the mapping was read from (for messages).
    public let file: String
    /// The source the events belong to.
    public let source: String
    /// `csv` or `fixed`.
    public let format: Format
    /// CSV: whether the first record names the columns.
    public let header: Bool
    /// CSV: the field separator (one ASCII byte).
    public let delimiter: UInt8
    /// CSV without a header: the column names in order.
    public let columnNames: [String]?
    /// Fixed: the fields in order.
    public let fixedFields: [FixedField]
    /// Columns left out on purpose.
    public let ignored: Set<String>
    /// The snapshot event types, if the mapping has them.
    public let snapshot: SnapshotEvents?
    let templates: [EventTemplate]
    let schemas: SchemaSet
    /// The mapping file's bytes (a snapshot's row digests include them, so a changed mapping maps
    /// every row again).
    public let text: [UInt8]

    /// Every column name the mapping reads.
    var usedColumns: Set<String> {
        var names: Set<String> = []
        func add(_ spec: ValueSpec?) { if case .column(let name, _, _, _)? = spec { names.insert(name) } }
        for template in templates {
            if case .byCode(let column, _) = template.type { names.insert(column) }
            names.insert(template.subject)
            if case .columns(let columns) = template.eventID { names.formUnion(columns) }
            add(template.occurredAt)
            add(template.effectiveDate)
            if let when = template.when { names.insert(when.column) }
            for entry in template.data { add(entry.spec) }
        }
        return names
    }

    /// Reads and checks a mapping file.
    /// - Parameters:
    ///   - text: the file's bytes (UTF-8 JSON).
    ///   - file: its path, for messages.
    ///   - source: the source whose files it maps; every event type must belong to it.
    ///   - format: the source's `files.format`.
    ///   - schemas: the event schemas, which type the values and check the data keys.
    /// - Throws: ``MappingError`` naming the file, line, column and key at fault.
    public init(text: [UInt8], file: String, source: String, format: Format, schemas: SchemaSet) throws(MappingError) {
        self.text = text
        self.file = file
        self.source = source
        self.format = format
        self.schemas = schemas
        let root: JSONObject
        do {
            guard let object = try JSONParser.parse(text).objectValue else {
                throw MappingError(file: file, line: 1, column: 1, path: "", reason: "a mapping is a JSON object {\"layout\", \"events\", …}")
            }
            root = object
        } catch let error as JSONParseError {
            let (line, column) = JSONTextLocator.lineColumn(of: error.offset, in: text)
            throw MappingError(file: file, line: line, column: column, path: "", reason: "not JSON: \(error.reason)")
        } catch let error as MappingError {
            throw error
        } catch {
            throw MappingError(file: file, line: 0, column: 0, path: "", reason: "\(error)")
        }
        let context = ParseContext(file: file, text: text)
        try context.allowOnly(root, [], ["layout", "ignore", "codes", "events", "snapshot", "comment"])

        // Layout.
        let layout = try context.object(root, "layout", []) ?? JSONObject()
        let layoutPath: [MappingPathElement] = [.key("layout")]
        switch format {
        case .csv:
            try context.allowOnly(layout, layoutPath, ["header", "delimiter", "columns", "comment"])
            header = try context.bool(layout, "header", layoutPath) ?? true
            let delimiterText = try context.string(layout, "delimiter", layoutPath) ?? ","
            guard delimiterText.utf8.count == 1, let byte = delimiterText.utf8.first, byte < 0x80, byte != 0x22,
                byte != 0x0A, byte != 0x0D
            else {
                throw context.error(layoutPath + [.key("delimiter")], "must be one ASCII character such as \",\", \"\\t\" or \"|\"")
            }
            delimiter = byte
            columnNames = try context.stringArray(layout, "columns", layoutPath)
            if !header, columnNames == nil {
                throw context.error(layoutPath + [.key("header")], "a file without a header needs layout.columns: the column names in order")
            }
            fixedFields = []
        case .fixed:
            try context.allowOnly(layout, layoutPath, ["fields", "comment"])
            header = false
            delimiter = 0x2C
            columnNames = nil
            guard let fields = layout["fields"]?.arrayValue, !fields.isEmpty else {
                throw context.error(layoutPath + [.key("fields")],
                    "a fixed-length layout lists its fields in order: [{\"name\": \"宛名番号\", \"bytes\": 10}, …]")
            }
            var parsed: [FixedField] = []
            for (index, field) in fields.enumerated() {
                let path = layoutPath + [.key("fields"), .index(index)]
                guard let object = field.objectValue, let name = object["name"]?.stringValue, !name.isEmpty,
                    let width = object["bytes"]?.integerValue, width >= 1, width <= 4096
                else {
                    throw context.error(path, "each field is {\"name\": \"…\", \"bytes\": N} (N from 1 to 4096, in bytes of the file's encoding)")
                }
                parsed.append(FixedField(name: name, bytes: Int(width)))
            }
            fixedFields = parsed
        case .jsonl:
            try context.allowOnly(layout, layoutPath, ["columns", "comment"])
            header = false
            delimiter = 0x2C
            columnNames = try context.stringArray(layout, "columns", layoutPath)
            fixedFields = []
        }
        ignored = Set(try context.stringArray(root, "ignore", []) ?? [])

        // Code tables.
        var tables: [String: CodeTable] = [:]
        for member in try context.object(root, "codes", []) ?? JSONObject() {
            let path: [MappingPathElement] = [.key("codes"), .key(member.key)]
            guard let object = member.value.objectValue else {
                throw context.error(path, "a code table is an object {\"code\": value}, e.g. {\"1\": \"male\", \"2\": \"female\"}")
            }
            tables[member.key] = CodeTable(name: member.key, values: Dictionary(object.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
        }

        // Events.
        guard let events = root["events"]?.arrayValue, !events.isEmpty else {
            throw context.error([.key("events")], "list the events a row becomes: [{\"type\", \"subject\", \"event_id\", \"occurred_at\", \"data\"}]")
        }
        var templates: [EventTemplate] = []
        for (index, value) in events.enumerated() {
            templates.append(try context.template(value, path: [.key("events"), .index(index)], tables: tables, source: source, schemas: schemas))
        }
        self.templates = templates

        if let snapshotObject = try context.object(root, "snapshot", []) {
            let path: [MappingPathElement] = [.key("snapshot")]
            try context.allowOnly(snapshotObject, path, ["changed", "removed", "removed_data", "comment"])
            guard let changed = try context.string(snapshotObject, "changed", path),
                let removed = try context.string(snapshotObject, "removed", path)
            else {
                throw context.error(path, "a snapshot mapping names {\"changed\": \"<source>.<updated type>\", \"removed\": \"<source>.<withdrawal type>\"}")
            }
            for (key, type) in [("changed", changed), ("removed", removed)] {
                try context.checkType(type, path: path + [.key(key)], source: source, schemas: schemas)
            }
            var removedData: [(path: [String], spec: ValueSpec)] = []
            for member in try context.object(snapshotObject, "removed_data", path) ?? JSONObject() {
                let memberPath = path + [.key("removed_data"), .key(member.key)]
                let spec = try context.valueSpec(member.value, path: memberPath, tables: tables)
                guard case .constant = spec else {
                    throw context.error(memberPath, "a withdrawal has no row: give constants only ({\"value\": …})")
                }
                removedData.append((member.key.split(separator: ".").map(String.init), spec))
            }
            snapshot = SnapshotEvents(changed: changed, removed: removed, removedData: removedData)
        } else {
            snapshot = nil
        }

        // Every column named must exist in a layout that names its columns up front.
        if let known = declaredColumns {
            for name in usedColumns.union(ignored) where !known.contains(name) {
                throw context.error(context.pathOfColumn(name, in: root), "names the column '\(name)', which the layout does not have (its columns: \(known.joined(separator: ", ")))")
            }
        }
    }

    /// The column names known before the file is read: fixed fields, CSV `layout.columns`, or for
    /// JSON lines `layout.columns` or else every column the mapping reads or ignores (sorted).
    public var declaredColumns: [String]? {
        switch format {
        case .fixed: return fixedFields.map(\.name)
        case .csv: return columnNames
        case .jsonl: return columnNames ?? usedColumns.union(ignored).sorted()
        }
    }

    /// Checks that the mapping fits a snapshot source with these key columns.
    /// - Throws: ``MappingError`` when the mapping has no `snapshot` section, more than one event,
    ///   a type chosen by code, or a key column the layout does not have.
    public func checkSnapshot(keys: [String]) throws(MappingError) {
        let context = ParseContext(file: file, text: text)
        guard snapshot != nil else {
            throw context.error([.key("snapshot")], "the source is a snapshot source: add \"snapshot\": {\"changed\": \"<source>.<updated type>\", \"removed\": \"<source>.<withdrawal type>\"}")
        }
        guard templates.count == 1, case .constant = templates[0].type else {
            throw context.error([.key("events")], "a snapshot source maps each row to exactly one registration event of a constant type")
        }
        if let known = declaredColumns {
            for key in keys where !known.contains(key) {
                throw context.error([.key("layout")], "has no column '\(key)', named in snapshot.key of the configuration")
            }
        }
    }
}

/// Reading helpers that turn a wrong value into a ``MappingError`` at its place in the text.
struct ParseContext {
    let file: String
    let text: [UInt8]

    func error(_ path: [MappingPathElement], _ reason: String) -> MappingError {
        let (line, column) = JSONTextLocator.locate(path, in: text)
        return MappingError(file: file, line: line, column: column, path: path.dotted, reason: reason)
    }

    func allowOnly(_ object: JSONObject, _ path: [MappingPathElement], _ keys: Set<String>) throws(MappingError) {
        for member in object where !keys.contains(member.key) {
            throw error(path + [.key(member.key)], "unknown key (allowed here: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func object(_ object: JSONObject, _ key: String, _ path: [MappingPathElement]) throws(MappingError) -> JSONObject? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let result = value.objectValue else { throw error(path + [.key(key)], "must be an object") }
        return result
    }

    func string(_ object: JSONObject, _ key: String, _ path: [MappingPathElement]) throws(MappingError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let result = value.stringValue, !result.isEmpty else { throw error(path + [.key(key)], "must be a non-empty string") }
        return result
    }

    func bool(_ object: JSONObject, _ key: String, _ path: [MappingPathElement]) throws(MappingError) -> Bool? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let result = value.boolValue else { throw error(path + [.key(key)], "must be true or false") }
        return result
    }

    func stringArray(_ object: JSONObject, _ key: String, _ path: [MappingPathElement]) throws(MappingError) -> [String]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let array = value.arrayValue, array.allSatisfy({ !($0.stringValue ?? "").isEmpty }) else {
            throw error(path + [.key(key)], "must be a list of column names")
        }
        return array.compactMap(\.stringValue)
    }

    func checkType(_ type: String, path: [MappingPathElement], source: String, schemas: SchemaSet) throws(MappingError) {
        guard type.hasPrefix(source + ".") else {
            throw error(path, "'\(type)' is not a type of source \(source): write \(source).<verb>")
        }
        guard schemas.eventTypes.contains(type) else {
            let known = schemas.eventTypes.filter { $0.hasPrefix(source + ".") }.sorted()
            throw error(path, "'\(type)' is not a known event type (\(source) has: \(known.joined(separator: ", ")))")
        }
    }

    /// The place of the first mention of a column, for an error about it.
    func pathOfColumn(_ name: String, in root: JSONObject) -> [MappingPathElement] { [.key(name)] }

    func valueSpec(_ value: JSONValue, path: [MappingPathElement], tables: [String: FileMapping.CodeTable]) throws(MappingError) -> FileMapping.ValueSpec {
        if let name = value.stringValue, !name.isEmpty { return .column(name: name, codes: nil, kind: nil, split: nil) }
        guard let object = value.objectValue else {
            throw error(path, "a value is a column name, {\"column\": \"…\"} or {\"value\": …}")
        }
        if let constant = object["value"] {
            try allowOnly(object, path, ["value", "comment"])
            return .constant(constant)
        }
        try allowOnly(object, path, ["column", "codes", "as", "split", "comment"])
        guard let column = try string(object, "column", path) else {
            throw error(path, "name the column: {\"column\": \"…\"} (or give a constant: {\"value\": …})")
        }
        var table: FileMapping.CodeTable?
        if let codes = object["codes"] {
            if let name = codes.stringValue {
                guard let found = tables[name] else {
                    throw error(path + [.key("codes")], "no code table '\(name)' under \"codes\" (tables: \(tables.keys.sorted().joined(separator: ", ")))")
                }
                table = found
            } else if let inline = codes.objectValue {
                table = FileMapping.CodeTable(name: column, values: Dictionary(inline.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
            } else {
                throw error(path + [.key("codes")], "the name of a code table, or an object {\"code\": value}")
            }
        }
        var kind: FileMapping.ValueKind?
        if let name = try string(object, "as", path) {
            guard let parsed = FileMapping.ValueKind(rawValue: name) else {
                throw error(path + [.key("as")], "must be string, date, integer or boolean")
            }
            kind = parsed
        }
        return .column(name: column, codes: table, kind: kind, split: try string(object, "split", path))
    }

    func template(
        _ value: JSONValue, path: [MappingPathElement], tables: [String: FileMapping.CodeTable], source: String, schemas: SchemaSet
    ) throws(MappingError) -> FileMapping.EventTemplate {
        guard let object = value.objectValue else { throw error(path, "an event is an object {\"type\", \"subject\", …}") }
        try allowOnly(object, path, ["type", "subject", "event_id", "occurred_at", "effective_date", "when", "data", "comment"])
        // Type.
        let type: FileMapping.TypeSpec
        var constantType: String?
        switch object["type"] {
        case .string(let name)?:
            try checkType(name, path: path + [.key("type")], source: source, schemas: schemas)
            type = .constant(name)
            constantType = name
        case .object(let byCode)?:
            let typePath = path + [.key("type")]
            try allowOnly(byCode, typePath, ["column", "codes", "comment"])
            guard let column = try string(byCode, "column", typePath), let codes = byCode["codes"]?.objectValue, !codes.isEmpty else {
                throw error(typePath, "a type chosen by code is {\"column\": \"異動事由\", \"codes\": {\"01\": \"resident.registered\", \"99\": null}}")
            }
            var table: [String: String?] = [:]
            for member in codes {
                if member.value.isNull {
                    table[member.key] = .some(nil)
                } else if let name = member.value.stringValue {
                    try checkType(name, path: typePath + [.key("codes"), .key(member.key)], source: source, schemas: schemas)
                    table[member.key] = name
                } else {
                    throw error(typePath + [.key("codes"), .key(member.key)], "an event type, or null to skip such rows on purpose")
                }
            }
            type = .byCode(column: column, codes: table)
        default:
            throw error(path + [.key("type")], "give the event type (\"\(source).…\") or {\"column\": …, \"codes\": {…}}")
        }
        guard let subject = try string(object, "subject", path) else {
            throw error(path + [.key("subject")], "name the column holding the source's record id (e.g. 利用者番号)")
        }
        // Event id.
        let eventID: FileMapping.EventIDSpec
        switch object["event_id"] {
        case .string("row_digest")?, nil:
            eventID = .rowDigest
        case .object(let spec)?:
            guard let columns = try stringArray(spec, "columns", path + [.key("event_id")]), !columns.isEmpty else {
                throw error(path + [.key("event_id")], "{\"columns\": [\"宛名番号\", \"履歴番号\"]} or \"row_digest\"")
            }
            eventID = .columns(columns)
        default:
            throw error(path + [.key("event_id")], "{\"columns\": [\"宛名番号\", \"履歴番号\"]} or \"row_digest\"")
        }
        let occurredAt = try object["occurred_at"].map { v throws(MappingError) in try valueSpec(v, path: path + [.key("occurred_at")], tables: tables) }
        guard occurredAt != nil else {
            throw error(path + [.key("occurred_at")], "name the column with the date of the change (or {\"value\": \"2026-12-01T00:00:00+09:00\"})")
        }
        let effectiveDate = try object["effective_date"].map { v throws(MappingError) in try valueSpec(v, path: path + [.key("effective_date")], tables: tables) }
        var when: FileMapping.Condition?
        if let condition = try self.object(object, "when", path) {
            let whenPath = path + [.key("when")]
            try allowOnly(condition, whenPath, ["column", "in", "comment"])
            guard let column = try string(condition, "column", whenPath) else {
                throw error(whenPath, "{\"column\": \"児童2氏名\"} (the column is not empty) or {\"column\": …, \"in\": [codes]}")
            }
            when = FileMapping.Condition(column: column, codes: try stringArray(condition, "in", whenPath).map(Set.init))
        }
        var data: [(path: [String], spec: FileMapping.ValueSpec)] = []
        for member in try self.object(object, "data", path) ?? JSONObject() {
            let memberPath = path + [.key("data"), .key(member.key)]
            let keys = member.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !keys.contains(where: \.isEmpty) else { throw error(memberPath, "a data key has an empty part between dots") }
            if let constantType, schemas.fieldKind(at: ["data"] + keys, eventType: constantType) == nil {
                throw error(memberPath, "\(constantType) has no data field '\(member.key)' (see Schemas/events)")
            }
            data.append((keys, try valueSpec(member.value, path: memberPath, tables: tables)))
        }
        return FileMapping.EventTemplate(
            type: type, subject: subject, eventID: eventID, occurredAt: occurredAt, effectiveDate: effectiveDate, when: when, data: data)
    }
}
