/// Why a mapping file cannot be used: the file, the 1-based line and column of the key at fault, and
/// what to write instead.
public struct MappingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The mapping file's path as configured.
    public var file: String
    /// The 1-based line of the key at fault (0 when unknown).
    public var line: Int
    /// The 1-based column (in characters) of the key at fault (0 when unknown).
    public var column: Int
    /// The dotted path of the key at fault inside the mapping (`events[0].data.sex`).
    public var path: String
    /// What is wrong and what is expected.
    public var reason: String

    /// Creates an error.
    public init(file: String, line: Int, column: Int, path: String, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.reason = reason
    }

    /// `"/etc/renkei/mappings/library.json:12:5: events[0].data.sex: …"`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return path.isEmpty ? "\(place): \(reason)" : "\(place): \(path): \(reason)"
    }
}

/// Why one data row was refused by a mapping: the row's line, the column (1-based and by name), and
/// the reason. Like ``CSVRowError``, the reason never quotes a personal value; code values (性別
/// `3`) are quoted, since a code table must be completed from them.
public struct MappedRowError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line of the row in the data file.
    public var line: Int
    /// The 1-based column of the row at fault, when one is.
    public var column: Int?
    /// The column's name, when one is at fault.
    public var columnName: String?
    /// What is wrong and what is expected.
    public var reason: String

    /// Creates an error.
    public init(line: Int, column: Int?, columnName: String?, reason: String) {
        self.line = line
        self.column = column
        self.columnName = columnName
        self.reason = reason
    }

    /// `"column 5 (性別): code '3' is not in the code table 性別 …"`.
    public var description: String {
        switch (column, columnName) {
        case (let column?, let name?): return "column \(column) (\(name)): \(reason)"
        case (let column?, nil): return "column \(column): \(reason)"
        case (nil, let name?): return "\(name): \(reason)"
        case (nil, nil): return reason
        }
    }
}

/// Finds where a key of a JSON text is, to name its line and column in an error.
///
/// The search follows the path's keys in order through the text (each found after the previous
/// one), which points at the right key in every mapping whose keys are written once per object;
/// array indexes skip that many earlier occurrences of the next key.
enum JSONTextLocator {
    /// The 1-based line and column of the last key of `path`, or of the nearest parent found.
    static func locate(_ path: [MappingPathElement], in text: [UInt8]) -> (line: Int, column: Int) {
        var position = 0
        var pendingSkips = 0
        for element in path {
            switch element {
            case .index(let index):
                pendingSkips += index
            case .key(let key):
                let needle = Array("\"\(key)\"".utf8)
                var found: Int?
                var from = position
                var skips = pendingSkips
                while let hit = find(needle, in: text, from: from) {
                    if skips == 0 { found = hit; break }
                    skips -= 1
                    from = hit + needle.count
                }
                pendingSkips = 0
                guard let found else { return lineColumn(of: position, in: text) }
                position = found
            }
        }
        return lineColumn(of: position, in: text)
    }

    /// The 1-based line and column (in characters) of a byte offset.
    static func lineColumn(of offset: Int, in text: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in text.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    private static func find(_ needle: [UInt8], in text: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, text.count >= needle.count, start <= text.count - needle.count else { return nil }
        var index = start
        while index <= text.count - needle.count {
            if text[index] == needle[0], text[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// One step of a path inside a mapping file.
enum MappingPathElement: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    var description: String {
        switch self {
        case .key(let key): return key
        case .index(let index): return "[\(index)]"
        }
    }
}

extension [MappingPathElement] {
    /// `events[0].data.sex`.
    var dotted: String {
        var text = ""
        for element in self {
            switch element {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}
