/// A mapping bound to one file's columns (its header, or the layout's declared columns): turns each
/// decoded row into the events it stands for.
public struct MappedFile: Sendable {
    /// The mapping.
    public let mapping: FileMapping
    /// The file's column names, in order.
    public let columns: [String]
    let index: [String: Int]
    /// Each template's `data` kinds by event type, looked up in the schemas once, not per row.
    let kinds: [[String: [SchemaFieldKind?]]]
    /// Makes a hex digest of bytes (SHA-256 in the daemon), for `row_digest` ids and snapshot fields.
    let digest: @Sendable ([UInt8]) -> String

    /// Binds a mapping to a file.
    /// - Parameters:
    ///   - mapping: the checked mapping.
    ///   - header: the decoded header cells of a CSV with a header; nil when the layout names the columns.
    ///   - line: the header's line, for errors.
    ///   - digest: a collision-resistant hex digest (the daemon passes SHA-256).
    /// - Throws: ``MappedRowError`` for a header that lacks a column the mapping reads, repeats a
    ///   name, or has a column the mapping neither reads nor lists under `ignore`.
    public init(
        mapping: FileMapping, header: [String]?, line: Int = 1, digest: @escaping @Sendable ([UInt8]) -> String
    ) throws(MappedRowError) {
        self.mapping = mapping
        self.digest = digest
        let names = header.map { $0.map(\.mappingTrimmed) } ?? mapping.declaredColumns ?? []
        var index: [String: Int] = [:]
        let used = mapping.usedColumns
        for (position, name) in names.enumerated() {
            guard index[name] == nil else {
                throw MappedRowError(line: line, column: position + 1, columnName: name,
                    reason: "the header repeats this name (column \(index[name]! + 1)); each column once")
            }
            index[name] = position
            if !used.contains(name), !mapping.ignored.contains(name) {
                throw MappedRowError(line: line, column: position + 1, columnName: name,
                    reason: "the mapping \(mapping.file) neither reads this column nor lists it under \"ignore\": "
                        + "map it, or add it to \"ignore\" if it is left out on purpose; no row of this file was taken")
            }
        }
        for name in used.sorted() where index[name] == nil {
            throw MappedRowError(line: line, column: nil, columnName: name,
                reason: "the mapping \(mapping.file) reads this column, but the file has none of that name "
                    + "(its columns: \(names.joined(separator: ", "))); no row of this file was taken")
        }
        self.columns = names
        self.index = index
        kinds = mapping.templates.map { template in
            var types: [String] = []
            switch template.type {
            case .constant(let name): types = [name]
            case .byCode(_, let codes): types = codes.values.compactMap { $0 }
            }
            var byType: [String: [SchemaFieldKind?]] = [:]
            for type in types {
                byType[type] = template.data.map { mapping.schemas.fieldKind(at: ["data"] + $0.path, eventType: type) }
            }
            return byType
        }
    }

    /// The 1-based column of a name.
    public func column(named name: String) -> Int? { index[name].map { $0 + 1 } }

    /// The events of one row.
    /// - Parameters:
    ///   - cells: the decoded cells.
    ///   - line: the row's 1-based line, for errors.
    /// - Returns: the envelopes (none when the row is skipped on purpose), or the first problem.
    public func events(cells: [String], line: Int) -> Result<[JSONValue], MappedRowError> {
        guard cells.count == columns.count else {
            return .failure(MappedRowError(line: line, column: min(cells.count, columns.count) + 1, columnName: nil,
                reason: "the row has \(cells.count) field(s) but the layout has \(columns.count): quote fields that hold the delimiter"))
        }
        var events: [JSONValue] = []
        for (position, template) in mapping.templates.enumerated() {
            switch event(template, kinds: kinds[position], cells: cells, line: line, suffix: mapping.templates.count > 1 ? "#\(position + 1)" : "") {
            case .success(let event?): events.append(event)
            case .success(nil): continue
            case .failure(let error): return .failure(error)
            }
        }
        return .success(events)
    }

    /// The snapshot key of a row (its key columns' values, trimmed, joined with U+001F), or nil when
    /// one is empty or missing.
    public func snapshotKey(cells: [String], keys: [String]) -> String? {
        var parts: [String] = []
        for key in keys {
            guard let position = index[key], position < cells.count else { return nil }
            let value = cells[position].mappingTrimmed
            guard !value.isEmpty else { return nil }
            parts.append(value)
        }
        return parts.joined(separator: "\u{1F}")
    }

    /// The registration of a snapshot row and its key, with a digest per top-level data field.
    /// - Returns: nil for a row that is skipped on purpose.
    public func snapshotRow(cells: [String], line: Int, keys: [String]) -> Result<SnapshotRow?, MappedRowError> {
        let events: [JSONValue]
        switch self.events(cells: cells, line: line) {
        case .success(let value): events = value
        case .failure(let error): return .failure(error)
        }
        guard let event = events.first else { return .success(nil) }
        var keyParts: [String] = []
        for key in keys {
            let value = cells[index[key] ?? 0].mappingTrimmed
            guard !value.isEmpty else {
                return .failure(MappedRowError(line: line, column: column(named: key), columnName: key,
                    reason: "is empty, but it is part of the snapshot key: every row needs its key"))
            }
            keyParts.append(value)
        }
        var fields: [String: String] = [:]
        for member in event["data"]?.objectValue ?? JSONObject() {
            fields[member.key] = digest(member.value.canonicalBytes)
        }
        return .success(SnapshotRow(
            key: keyParts.joined(separator: "\u{1F}"), line: line, subject: event["subject"]?.stringValue ?? "",
            registration: event, fields: fields))
    }

    // MARK: - One event

    private func cell(_ name: String, _ cells: [String]) -> String {
        index[name].map { cells[$0].mappingTrimmed } ?? ""
    }

    private func failure(_ line: Int, _ name: String?, _ reason: String) -> MappedRowError {
        MappedRowError(line: line, column: name.flatMap { column(named: $0) }, columnName: name, reason: reason)
    }

    private func event(
        _ template: FileMapping.EventTemplate, kinds: [String: [SchemaFieldKind?]], cells: [String], line: Int, suffix: String
    ) -> Result<JSONValue?, MappedRowError> {
        if let when = template.when {
            let value = cell(when.column, cells)
            if let codes = when.codes { if !codes.contains(value) { return .success(nil) } } else if value.isEmpty { return .success(nil) }
        }
        let type: String
        let typeIsConstant: Bool
        switch template.type {
        case .constant(let name):
            type = name
            typeIsConstant = true
        case .byCode(let column, let codes):
            let code = cell(column, cells)
            guard let entry = codes[code] else {
                return .failure(failure(line, column, "code '\(code)' is not in the mapping's type codes "
                    + "(known: \(codes.keys.sorted().joined(separator: ", "))): add it, mapped to an event type or to null"))
            }
            guard let name = entry else { return .success(nil) }
            type = name
            typeIsConstant = false
        }
        let subject = cell(template.subject, cells)
        guard !subject.isEmpty else { return .failure(failure(line, template.subject, "is empty: every row needs the record id (subject)")) }
        let eventID: String
        switch template.eventID {
        case .columns(let names):
            var parts: [String] = []
            for name in names {
                let value = cell(name, cells)
                guard !value.isEmpty else { return .failure(failure(line, name, "is empty, but event_id is made from it")) }
                parts.append(value)
            }
            eventID = parts.joined(separator: "-") + suffix
        case .rowDigest:
            var bytes: [UInt8] = []
            for (position, value) in cells.enumerated() {
                if position > 0 { bytes.append(0x1F) }
                bytes += Array(value.utf8)
            }
            eventID = subject + "-" + String(digest(bytes).prefix(32)) + suffix
        }
        guard eventID.count <= 128 else {
            return .failure(failure(line, nil, "the derived event_id is longer than 128 characters: make it from shorter columns"))
        }
        var envelope: JSONObject = [
            "source": .string(mapping.source), "event_id": .string(eventID), "type": .string(type),
        ]
        // occurred_at: a timestamp as given, or a date at 00:00 Japan time.
        if let spec = template.occurredAt {
            switch value(spec, kind: .date, cells: cells, line: line) {
            case .success(let value?):
                guard let text = value.stringValue else { return .failure(failure(line, nil, "occurred_at must be text")) }
                envelope["occurred_at"] = .string(text.count == 10 ? text + "T00:00:00+09:00" : text)
            case .success(nil):
                if case .column(let name, _, _, _) = spec { return .failure(failure(line, name, "is empty, but occurred_at is read from it")) }
            case .failure(let error): return .failure(error)
            }
        }
        envelope["subject"] = .string(subject)
        if let spec = template.effectiveDate {
            switch value(spec, kind: .date, cells: cells, line: line) {
            case .success(let value?): envelope["effective_date"] = value
            case .success(nil): break
            case .failure(let error): return .failure(error)
            }
        }
        var data = JSONValue.object(JSONObject())
        let typeKinds = kinds[type]
        for (position, entry) in template.data.enumerated() {
            let schemaKind = typeKinds?[position] ?? nil
            // A type chosen by code carries only the fields its schema has.
            if schemaKind == nil, !typeIsConstant { continue }
            switch value(entry.spec, kind: schemaKind ?? .string, cells: cells, line: line) {
            case .success(let value?): data = Self.set(data, entry.path[...], value)
            case .success(nil): continue
            case .failure(let error): return .failure(error)
            }
        }
        envelope["data"] = data
        return .success(.object(envelope))
    }

    /// One value: nil for an empty cell (or a code mapped to null), so the field is left out.
    func value(_ spec: FileMapping.ValueSpec, kind: SchemaFieldKind, cells: [String], line: Int) -> Result<JSONValue?, MappedRowError> {
        switch spec {
        case .constant(let value):
            return .success(value)
        case .column(let name, let codes, let override, let split):
            let text = cell(name, cells)
            guard !text.isEmpty else { return .success(nil) }
            if let codes {
                guard let mapped = codes.values[text] else {
                    return .failure(failure(line, name, "code '\(text)' is not in the code table \(codes.name) "
                        + "(known: \(codes.values.keys.sorted().joined(separator: ", ")))"))
                }
                return .success(mapped.isNull ? nil : mapped)
            }
            if let split {
                let parts = text.split(separator: split).map { String($0).mappingTrimmed }.filter { !$0.isEmpty }
                return .success(.array(parts.map { .string($0) }))
            }
            let effective: SchemaFieldKind
            switch override {
            case .string?: effective = .string
            case .date?: effective = .date
            case .integer?: effective = .integer
            case .boolean?: effective = .boolean
            case nil: effective = kind
            }
            if effective == .date {
                switch MappedDate.iso(text) {
                case .success(let iso): return .success(.string(iso))
                case .failure(let reason): return .failure(failure(line, name, reason.description))
                }
            }
            switch CSVEventBuilder.typed(text, kind: effective) {
            case .success(let value): return .success(value)
            case .failure(let reason): return .failure(failure(line, name, reason.description))
            }
        }
    }

    /// Sets `value` at `path`, creating objects (or arrays for numeric keys) on the way.
    static func set(_ container: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        let rest = path.dropFirst()
        if case .array(var elements) = container, let position = Int(key), position >= 0, position < 1000 {
            while elements.count <= position { elements.append(.object(JSONObject())) }
            elements[position] = set(elements[position], rest, value)
            return .array(elements)
        }
        var object = container.objectValue ?? JSONObject()
        let child = object[key] ?? (rest.first.flatMap { Int($0) } != nil ? .array([]) : .object(JSONObject()))
        object[key] = set(child, rest, value)
        return .object(object)
    }
}

/// Dates as vendors write them, to `YYYY-MM-DD`: 和暦 (`S60.06.12`, `令和6年4月1日`, see ``Wareki``)
/// and Western `1994/02/28`, `1994-02-28`, `1994.2.28`, `19940228`, full-width digits included.
public enum MappedDate {
    /// Converts a date cell.
    /// - Returns: the ISO date, or why it was refused (without quoting the value).
    public static func iso(_ text: String) -> Result<String, CSVRowErrorReason> {
        if Wareki.looksLikeWareki(text) {
            return Wareki.isoDate(text).mapError { CSVRowErrorReason($0.description) }
        }
        let half = String(text.unicodeScalars.map { scalar -> Character in
            switch scalar.value {
            case 0xFF10...0xFF19, 0xFF0D...0xFF0F: return Character(Unicode.Scalar(scalar.value - 0xFEE0)!)
            default: return Character(scalar)
            }
        })
        var parts: [Int] = []
        if half.count == 8, half.allSatisfy({ $0.isASCII && $0.isNumber }) {
            let digits = Array(half)
            parts = [Int(String(digits[0..<4]))!, Int(String(digits[4..<6]))!, Int(String(digits[6..<8]))!]
        } else {
            for separator: Character in ["/", "-", "."] where half.contains(separator) {
                let pieces = half.split(separator: separator, omittingEmptySubsequences: false)
                guard pieces.count == 3, pieces.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
                    pieces[0].count == 4
                else { break }
                parts = pieces.map { Int($0)! }
                break
            }
        }
        guard parts.count == 3 else {
            return .failure(CSVRowErrorReason("is not a date: write YYYY/MM/DD, YYYY-MM-DD, YYYYMMDD or 和暦 (S60.06.12, 令和6年4月1日)"))
        }
        let (year, month, day) = (parts[0], parts[1], parts[2])
        guard year >= 1873, (1...12).contains(month), day >= 1, day <= Wareki.daysIn(month: month, year: year) else {
            return .failure(CSVRowErrorReason("names a day that does not exist"))
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return .success("\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))")
    }
}

extension String {
    /// Without leading and trailing spaces (ASCII, tab, ideographic): fixed-length fields are padded.
    public var mappingTrimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\u{3000}" || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
