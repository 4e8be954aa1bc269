/// A mapping file read the other way (issue 17): how a delta (or an exported view) becomes one record
/// of a file subscription's CSV or fixed-length file.
///
/// The format is the source mapping format (``FileMapping``) reversed where it fits: the same
/// `layout` (CSV `header`, `delimiter`, `columns`; fixed-length `fields` with their widths in bytes)
/// and the same `codes` tables, read backwards (the value `male` is written as the code `1`; a code
/// mapped to `null` is written when the value is absent). What a source mapping's `data` says
/// (field ← column), `record` says the other way (column ← field):
/// ```json
/// {"layout": {"header": true, "delimiter": ",", "line_ending": "crlf",
///             "columns": ["宛名番号", "異動区分", "氏名", "性別", "住所"]},
///  "codes": {"性別": {"1": "male", "2": "female", "9": null},
///            "異動区分": {"01": "person.created", "02": "person.changed", "03": "person.merged"}},
///  "record": {"宛名番号": "uid", "異動区分": {"field": "kind", "codes": "異動区分"},
///             "氏名": "view.name", "性別": {"field": "view.sex", "codes": "性別"},
///             "住所": "view.address", "異動日": {"field": "cause.occurred_at", "as": "yyyymmdd"}}}
/// ```
/// A value is a dotted path into the delta body (`uid`, `kind`, `version`, `view.name`,
/// `changes.address.new`, `cause.type`), `{"field": P, "codes": T, "as": K, "join": S}` or
/// `{"value": V}`. Every column of the layout must have a `record` entry.
public struct OutputMapping: Sendable, Hashable {
    /// How records are laid out.
    public enum Format: String, Sendable { case csv, fixed }

    /// How a value is rewritten before it is written.
    enum Rewrite: String, Sendable {
        /// As it is.
        case text
        /// A date or timestamp as `YYYYMMDD`.
        case yyyymmdd
        /// A date or timestamp as `YYYY-MM-DD`.
        case date
    }

    /// Where one column's value comes from.
    enum Source: Sendable {
        /// A path into the body, optionally through a reversed code table, rewritten, or an array joined.
        case field(path: [String], codes: ReverseCodes?, rewrite: Rewrite, join: String?)
        /// A constant.
        case constant(String)
    }

    /// A code table read backwards: value text → code.
    struct ReverseCodes: Sendable {
        var name: String
        var codes: [String: String]
        /// The code written for an absent or null value (a code mapped to `null`), if any.
        var nullCode: String?
    }

    /// One output column.
    public struct Column: Sendable {
        /// Its name (the CSV header, or the fixed field's name).
        public var name: String
        /// Fixed-length: the width in bytes of the file's encoding.
        public var bytes: Int
        /// Fixed-length: right-aligned (numbers), else left-aligned.
        public var alignRight: Bool
        /// Fixed-length: the padding byte (an ASCII space or `0`).
        public var pad: UInt8
        let source: Source

        /// The dotted path of the field it reads (`view.name`), or `(constant)`.
        public var field: String {
            if case .field(let path, _, _, _) = source { return path.joined(separator: ".") }
            return "(constant)"
        }
    }

    /// The mapping file's path (for messages).
    public let file: String
    /// `csv` or `fixed`.
    public let format: Format
    /// CSV: whether the first line of each file names the columns.
    public let header: Bool
    /// CSV: the field separator.
    public let delimiter: UInt8
    /// The record terminator (`crlf`, the default, or `lf`).
    public let lineEnding: [UInt8]
    /// The columns, in order.
    public let columns: [Column]
    /// The mapping file's bytes.
    public let text: [UInt8]

    /// Two mappings are the same when read from the same file with the same bytes and format.
    public static func == (lhs: OutputMapping, rhs: OutputMapping) -> Bool {
        lhs.file == rhs.file && lhs.format == rhs.format && lhs.text == rhs.text
    }

    /// Hashes the file and its bytes (what ``==`` compares).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(file)
        hasher.combine(text)
    }

    /// The person-view fields the record reads (`view.X` and `changes.X`): each must be one the
    /// subscription may see, or the column would always be empty.
    public var viewFields: Set<String> {
        var fields: Set<String> = []
        for column in columns {
            if case .field(let path, _, _, _) = column.source, path.count >= 2, ["view", "changes"].contains(path[0]) {
                fields.insert(path[1])
            }
        }
        return fields
    }

    /// Reads and checks an output mapping.
    /// - Parameters:
    ///   - text: the file's bytes (UTF-8 JSON).
    ///   - file: its path, for messages.
    ///   - format: the subscription's `file.format`.
    /// - Throws: ``MappingError`` naming the file, line, column and key at fault.
    public init(text: [UInt8], file: String, format: Format) throws(MappingError) {
        self.text = text
        self.file = file
        self.format = format
        let context = ParseContext(file: file, text: text)
        let root: JSONObject
        do {
            guard let object = try JSONParser.parse(text).objectValue else {
                throw MappingError(file: file, line: 1, column: 1, path: "", reason: "an output mapping is a JSON object {\"layout\", \"record\", …}")
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
        try context.allowOnly(root, [], ["layout", "codes", "record", "comment"])
        let layoutPath: [MappingPathElement] = [.key("layout")]
        guard let layout = try context.object(root, "layout", []) else {
            throw context.error(layoutPath, "an output mapping needs a layout: {\"columns\": [...]} (csv) or {\"fields\": [...]} (fixed)")
        }
        // Code tables, reversed.
        var tables: [String: ReverseCodes] = [:]
        for member in try context.object(root, "codes", []) ?? JSONObject() {
            let path: [MappingPathElement] = [.key("codes"), .key(member.key)]
            guard let object = member.value.objectValue else {
                throw context.error(path, "a code table is an object {\"code\": value}, e.g. {\"1\": \"male\", \"2\": \"female\"}")
            }
            var reverse = ReverseCodes(name: member.key, codes: [:], nullCode: nil)
            for entry in object {
                if entry.value.isNull {
                    if let other = reverse.nullCode {
                        throw context.error(path + [.key(entry.key)], "codes '\(other)' and '\(entry.key)' both stand for an absent value: written out, which one? Keep one")
                    }
                    reverse.nullCode = entry.key
                    continue
                }
                guard let value = Self.text(of: entry.value) else {
                    throw context.error(path + [.key(entry.key)], "a code stands for a string, number or boolean (or null)")
                }
                if let other = reverse.codes[value] {
                    throw context.error(path + [.key(entry.key)], "codes '\(other)' and '\(entry.key)' both stand for '\(value)': written out, which one? Give this output its own table with one code per value")
                }
                reverse.codes[value] = entry.key
            }
            tables[member.key] = reverse
        }
        guard let record = try context.object(root, "record", []) else {
            throw context.error([.key("record")], "name where each column's value comes from: {\"宛名番号\": \"uid\", \"氏名\": \"view.name\", …}")
        }
        var sources: [String: Source] = [:]
        for member in record {
            sources[member.key] = try context.outputSource(member.value, path: [.key("record"), .key(member.key)], tables: tables)
        }
        var columns: [Column] = []
        switch format {
        case .csv:
            try context.allowOnly(layout, layoutPath, ["header", "delimiter", "columns", "line_ending", "comment"])
            header = try context.bool(layout, "header", layoutPath) ?? true
            let delimiterText = try context.string(layout, "delimiter", layoutPath) ?? ","
            guard delimiterText.utf8.count == 1, let byte = delimiterText.utf8.first, byte < 0x80, byte != 0x22,
                byte != 0x0A, byte != 0x0D
            else {
                throw context.error(layoutPath + [.key("delimiter")], "must be one ASCII character such as \",\", \"\\t\" or \"|\"")
            }
            delimiter = byte
            guard let names = try context.stringArray(layout, "columns", layoutPath), !names.isEmpty else {
                throw context.error(layoutPath + [.key("columns")], "list the output columns in order: [\"宛名番号\", \"氏名\", …]")
            }
            for name in names {
                guard let source = sources[name] else {
                    throw context.error([.key("record")], "has no entry for the column '\(name)' of layout.columns")
                }
                columns.append(Column(name: name, bytes: 0, alignRight: false, pad: 0x20, source: source))
            }
        case .fixed:
            try context.allowOnly(layout, layoutPath, ["fields", "line_ending", "comment"])
            header = false
            delimiter = 0x2C
            guard let fields = layout["fields"]?.arrayValue, !fields.isEmpty else {
                throw context.error(layoutPath + [.key("fields")],
                    "a fixed-length layout lists its fields in order: [{\"name\": \"宛名番号\", \"bytes\": 10}, …]")
            }
            for (index, field) in fields.enumerated() {
                let path = layoutPath + [.key("fields"), .index(index)]
                guard let object = field.objectValue, let name = object["name"]?.stringValue, !name.isEmpty,
                    let width = object["bytes"]?.integerValue, width >= 1, width <= 4096
                else {
                    throw context.error(path, "each field is {\"name\": \"…\", \"bytes\": N} (N from 1 to 4096, in bytes of the file's encoding)")
                }
                try context.allowOnly(object, path, ["name", "bytes", "align", "pad", "comment"])
                let align = try context.string(object, "align", path) ?? "left"
                guard ["left", "right"].contains(align) else { throw context.error(path + [.key("align")], "must be \"left\" or \"right\"") }
                let pad = try context.string(object, "pad", path) ?? " "
                guard pad == " " || pad == "0" else { throw context.error(path + [.key("pad")], "must be \" \" (a space) or \"0\"") }
                guard let source = sources[name] else {
                    throw context.error([.key("record")], "has no entry for the field '\(name)' of layout.fields")
                }
                columns.append(Column(name: name, bytes: Int(width), alignRight: align == "right", pad: pad.utf8.first!, source: source))
            }
        }
        for name in sources.keys where !columns.contains(where: { $0.name == name }) {
            throw context.error([.key("record"), .key(name)], "'\(name)' is not a column of the layout: add it there, or remove it here")
        }
        switch try context.string(layout, "line_ending", layoutPath) ?? "crlf" {
        case "crlf": lineEnding = [0x0D, 0x0A]
        case "lf": lineEnding = [0x0A]
        default: throw context.error(layoutPath + [.key("line_ending")], "must be \"crlf\" (the default) or \"lf\"")
        }
        self.columns = columns
    }

    /// The column values of one record, in column order, as text (not yet encoded).
    /// - Parameter body: the delta body after the send-time policy (or an exported view in the same shape).
    /// - Throws: ``OutputValueError`` naming the column and the field when a value cannot be written.
    public func values(of body: JSONObject) throws(OutputValueError) -> [String] {
        var values: [String] = []
        values.reserveCapacity(columns.count)
        for column in columns {
            switch column.source {
            case .constant(let text):
                values.append(text)
            case .field(let path, let codes, let rewrite, let join):
                var value: JSONValue? = .object(body)
                for key in path { value = value?[key] }
                values.append(try Self.render(value, column: column.name, path: path, codes: codes, rewrite: rewrite, join: join))
            }
        }
        return values
    }

    private static func render(
        _ value: JSONValue?, column: String, path: [String], codes: ReverseCodes?, rewrite: Rewrite, join: String?
    ) throws(OutputValueError) -> String {
        let field = path.joined(separator: ".")
        func failure(_ reason: String) -> OutputValueError { OutputValueError(column: column, field: field, reason: reason) }
        if let array = value?.arrayValue {
            guard let join else { throw failure("is a list: give {\"field\": \"\(field)\", \"join\": \";\"} to write it in one column") }
            var parts: [String] = []
            for element in array {
                guard let text = Self.text(of: element) else { throw failure("holds something other than text or numbers") }
                parts.append(try code(text, codes: codes, failure: failure))
            }
            return parts.joined(separator: join)
        }
        guard let value, !value.isNull else {
            if let codes {
                guard let code = codes.nullCode else {
                    throw failure("is absent, and code table \(codes.name) has no code for an absent value (map one code to null)")
                }
                return code
            }
            return ""
        }
        guard var text = Self.text(of: value) else {
            throw failure("is an object: name one of its members (\(field).…)")
        }
        switch rewrite {
        case .text: break
        case .yyyymmdd, .date:
            let bytes = Array(text.utf8.prefix(10))
            guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { throw failure("is not a date (YYYY-MM-DD…)") }
            text = rewrite == .date ? String(decoding: bytes, as: UTF8.self) : String(decoding: bytes.filter { $0 != 0x2D }, as: UTF8.self)
        }
        return try code(text, codes: codes, failure: failure)
    }

    private static func code(
        _ text: String, codes: ReverseCodes?, failure: (String) -> OutputValueError
    ) throws(OutputValueError) -> String {
        guard let codes else { return text }
        guard let code = codes.codes[text] else {
            // Code values are not personal data (性別 `male`, kinds): they are named, so the table can be completed.
            throw failure("'\(text)' has no code in table \(codes.name): add it to the mapping's codes")
        }
        return code
    }

    /// The text a scalar is written as (`true`/`false`, integers without a fraction).
    static func text(of value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .integer(let number): return String(number)
        case .double(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }
}

/// Why one record of a file subscription cannot be written: the column, the field it reads, and why.
/// It never quotes a personal value (code values are quoted, so a table can be completed).
public struct OutputValueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The output column.
    public var column: String
    /// The dotted path of the field in the delta (`view.name`).
    public var field: String
    /// What is wrong.
    public var reason: String

    /// Creates an error.
    public init(column: String, field: String, reason: String) {
        self.column = column
        self.field = field
        self.reason = reason
    }

    /// `"column 氏名 (view.name): …"`.
    public var description: String { "column \(column) (\(field)): \(reason)" }
}

extension ParseContext {
    func outputSource(
        _ value: JSONValue, path: [MappingPathElement], tables: [String: OutputMapping.ReverseCodes]
    ) throws(MappingError) -> OutputMapping.Source {
        func fieldPath(_ text: String) throws(MappingError) -> [String] {
            let keys = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !keys.contains(where: \.isEmpty) else { throw error(path, "a field path has an empty part between dots") }
            return keys
        }
        if let text = value.stringValue, !text.isEmpty {
            return .field(path: try fieldPath(text), codes: nil, rewrite: .text, join: nil)
        }
        guard let object = value.objectValue else {
            throw error(path, "a value is a field path (\"view.name\"), {\"field\": \"…\"} or {\"value\": …}")
        }
        if let constant = object["value"] {
            try allowOnly(object, path, ["value", "comment"])
            guard let text = OutputMapping.text(of: constant) else { throw error(path + [.key("value")], "a constant is a string or a number") }
            return .constant(text)
        }
        try allowOnly(object, path, ["field", "codes", "as", "join", "comment"])
        guard let field = try string(object, "field", path) else {
            throw error(path, "name the field: {\"field\": \"view.sex\"} (or give a constant: {\"value\": …})")
        }
        var table: OutputMapping.ReverseCodes?
        if let name = try string(object, "codes", path) {
            guard let found = tables[name] else {
                throw error(path + [.key("codes")], "no code table '\(name)' under \"codes\" (tables: \(tables.keys.sorted().joined(separator: ", ")))")
            }
            table = found
        }
        var rewrite = OutputMapping.Rewrite.text
        if let name = try string(object, "as", path) {
            guard let parsed = OutputMapping.Rewrite(rawValue: name), parsed != .text else {
                throw error(path + [.key("as")], "must be yyyymmdd or date")
            }
            rewrite = parsed
        }
        return .field(path: try fieldPath(field), codes: table, rewrite: rewrite, join: try string(object, "join", path))
    }
}
