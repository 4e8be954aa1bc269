/// Why one CSV row (or the header) was refused: where, and what is expected.
///
/// Like ``EventRejection``, the reason never quotes a cell's value (it may be a `my_number`).
public struct CSVRowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 1-based column, when one column is at fault.
    public var column: Int?
    /// The field the column maps to (`data.birth_date`), when known.
    public var field: String?
    /// What is wrong and what is expected.
    public var reason: String

    /// Creates an error.
    /// - Parameters:
    ///   - column: the 1-based column, if one is at fault.
    ///   - field: the dotted field name, if known.
    ///   - reason: what is expected, without quoting the value.
    public init(column: Int?, field: String?, reason: String) {
        self.column = column
        self.field = field
        self.reason = reason
    }

    /// `"column 5 (data.birth_date): is after the last day of 昭和 (1989-01-07)…"`.
    public var description: String {
        switch (column, field) {
        case (let column?, let field?): return "column \(column) (\(field)): \(reason)"
        case (let column?, nil): return "column \(column): \(reason)"
        case (nil, let field?): return "\(field): \(reason)"
        case (nil, nil): return reason
        }
    }
}

/// Turns CSV rows into event envelopes (contract §6): the header names envelope keys and `data` keys
/// (dotted for nesting: `child.name`; array elements by index: `guardians.0.name`), after a per-source
/// rename map; each cell is typed by the event type's schema (integers, booleans, dates — 和暦 converted
/// to `YYYY-MM-DD`); empty cells are left out. Validation proper stays with ``EventValidator``.
public struct CSVEventBuilder: Sendable {
    /// The envelope keys a header may name directly (contract §1); any other name is a `data` key.
    public static let envelopeKeys: Set<String> = [
        "source", "event_id", "type", "occurred_at", "subject", "effective_date", "municipality", "schema_version",
    ]

    /// Each column's path from the envelope down (`["data", "child", "name"]`).
    public let paths: [[String]]
    let schemas: SchemaSet
    let source: String
    let typeColumn: Int?

    /// Reads the header row.
    /// - Parameters:
    ///   - header: the decoded header cells.
    ///   - renames: vendor column name → envelope or `data` key (`{"利用者番号": "subject"}`).
    ///   - schemas: the loaded schemas, which type the cells.
    ///   - source: the spool folder's source, filled in when the file has no `source` column.
    /// - Throws: ``CSVRowError`` for a header that cannot be used (an empty or repeated name, no `type`).
    public init(header: [String], renames: [String: String], schemas: SchemaSet, source: String) throws(CSVRowError) {
        var paths: [[String]] = []
        var seen: [String: Int] = [:]
        for (index, cell) in header.enumerated() {
            let name = renames[cell] ?? renames[cell.headerTrimmed] ?? cell.headerTrimmed
            let column = index + 1
            guard !name.isEmpty else {
                throw CSVRowError(column: column, field: nil, reason: "the header cell is empty: name every column "
                    + "with an envelope key or a data key (or map it in csv.columns)")
            }
            var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: \.isEmpty) else {
                throw CSVRowError(column: column, field: name, reason: "the header name has an empty part between dots")
            }
            if !Self.envelopeKeys.contains(parts[0]) && parts[0] != "data" { parts.insert("data", at: 0) }
            if parts == ["data"] {
                throw CSVRowError(column: column, field: name, reason: "data is an object: name its keys (data.name or name)")
            }
            let key = parts.joined(separator: ".")
            if let earlier = seen[key] {
                throw CSVRowError(column: column, field: key, reason: "repeats column \(earlier): each field once")
            }
            seen[key] = column
            paths.append(parts)
        }
        guard let typeColumn = paths.firstIndex(of: ["type"]) else {
            throw CSVRowError(column: nil, field: "type", reason: "the header has no type column: every row names its "
                + "event type (e.g. library.patron_registered)")
        }
        self.paths = paths
        self.schemas = schemas
        self.source = source
        self.typeColumn = typeColumn
    }

    /// The 1-based column that holds a dotted field (as ``EventRejection/field`` names it), if any.
    /// - Parameter field: e.g. `data.birth_date` or `data.guardians[0].name`.
    public func column(forField field: String) -> Int? {
        let normalised = field.replacing("[", with: ".").replacing("]", with: "")
        if let index = paths.firstIndex(where: { $0.joined(separator: ".") == normalised }) { return index + 1 }
        // A field inside a column's value, or a column inside the field: the longest common prefix.
        let parts = normalised.split(separator: ".").map(String.init)
        return paths.indices.last { parts.starts(with: paths[$0]) }.map { $0 + 1 }
    }

    /// Builds the envelope of one row.
    /// - Parameter cells: the decoded cells, one per header column.
    /// - Returns: the envelope, or the first cell that cannot be typed.
    public func envelope(cells: [String]) -> Result<JSONValue, CSVRowError> {
        guard cells.count == paths.count else {
            return .failure(CSVRowError(column: min(cells.count, paths.count) + 1, field: nil,
                reason: "the row has \(cells.count) field(s) but the header has \(paths.count): "
                    + "quote fields that hold commas or line breaks"))
        }
        let eventType = typeColumn.map { cells[$0].headerTrimmed }
        var root = JSONValue.object(JSONObject())
        if !paths.contains(["source"]) { root = set(root, ["source"], .string(source)) }
        for (index, path) in paths.enumerated() {
            let cell = cells[index]
            guard !cell.isEmpty else { continue }
            let kind = schemas.fieldKind(at: path, eventType: eventType) ?? .string
            switch Self.typed(cell, kind: kind) {
            case .success(let value):
                root = set(root, path, value)
            case .failure(let reason):
                return .failure(CSVRowError(column: index + 1, field: path.joined(separator: "."), reason: reason.description))
            }
        }
        return .success(root)
    }

    /// A cell as the JSON value its schema kind expects.
    static func typed(_ cell: String, kind: SchemaFieldKind) -> Result<JSONValue, CSVRowErrorReason> {
        let text = cell.headerTrimmed
        switch kind {
        case .string, .array, .object:
            return .success(.string(cell))
        case .date:
            guard Wareki.looksLikeWareki(text) else { return .success(.string(text)) }
            return Wareki.isoDate(text).map { .string($0) }.mapError { CSVRowErrorReason($0.description) }
        case .integer:
            let digits = text.filter { $0 != "," }
            guard let value = Int64(digits) else {
                return .failure(CSVRowErrorReason("must be a whole number in ASCII digits (e.g. 12000)"))
            }
            return .success(.integer(value))
        case .number:
            guard let value = Double(text), value.isFinite else {
                return .failure(CSVRowErrorReason("must be a number in ASCII digits"))
            }
            return .success(.double(value))
        case .boolean:
            switch text.lowercased() {
            case "true", "1": return .success(.bool(true))
            case "false", "0": return .success(.bool(false))
            default: return .failure(CSVRowErrorReason("must be true or false (or 1 or 0)"))
            }
        }
    }

    /// Sets `value` at `path` inside `container`, creating objects (or arrays, for numeric keys) on the way.
    private func set(_ container: JSONValue, _ path: some Collection<String>, _ value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        let rest = path.dropFirst()
        if case .array(var elements) = container, let index = Int(key), index >= 0, index < 1000 {
            while elements.count <= index { elements.append(.null) }
            elements[index] = set(elements[index], rest, value)
            return .array(elements)
        }
        var object = container.objectValue ?? JSONObject()
        let child = object[key] ?? (rest.first.flatMap { Int($0) } != nil ? .array([]) : .object(JSONObject()))
        object[key] = set(child, rest, value)
        return .object(object)
    }
}

/// A reason text, as an error (so conversions can use `Result`).
public struct CSVRowErrorReason: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason.
    public var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    /// Without leading and trailing spaces (ASCII, tab, ideographic).
    fileprivate var headerTrimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\u{3000}" || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
