/// One record of a CSV file as raw bytes: where it starts and its fields, quotes removed.
///
/// Fields stay bytes so that the caller decodes each one in the file's encoding (UTF-8 or CP932)
/// and can name the row and column of a byte that does not decode. CP932's second bytes are
/// 0x40–0xFC, so they never look like a quote, comma, CR or LF: splitting bytes first is safe.
public struct CSVRecord: Sendable, Hashable {
    /// The 1-based physical line on which the record starts.
    public var line: Int
    /// The 0-based byte offset of the record in the input.
    public var offset: Int
    /// The fields, unquoted (doubled quotes made single).
    public var fields: [[UInt8]]
    /// The 0-based byte offset of each field's first byte in the input.
    public var fieldOffsets: [Int]
    /// The record's bytes exactly as in the input (without the line end), for error copies.
    public var raw: ArraySlice<UInt8>
    /// Why the record is malformed, if it is: the 1-based column and the reason.
    public var error: (column: Int, reason: String)?

    public static func == (lhs: CSVRecord, rhs: CSVRecord) -> Bool {
        lhs.line == rhs.line && lhs.offset == rhs.offset && lhs.fields == rhs.fields
            && lhs.error?.column == rhs.error?.column && lhs.error?.reason == rhs.error?.reason
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(line)
        hasher.combine(fields)
    }
}

/// An RFC 4180 reader: fields separated by commas, records by CRLF or LF, fields optionally quoted
/// with `"` (commas, line breaks and doubled `""` inside), a leading UTF-8 byte order mark skipped.
///
/// It never fails as a whole: a malformed record (a quote inside an unquoted field, text after a
/// closing quote, a quoted field still open at the end of the input) is returned with ``CSVRecord/error``
/// set and reading resumes at the next line, so one bad row does not cost the good ones.
public enum CSVReader {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

    /// Splits `bytes` into records. Blank lines are skipped.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - delimiter: the field separator (a comma unless a mapping's layout names another ASCII byte).
    /// - Returns: the records in order, malformed ones flagged.
    public static func records(_ bytes: [UInt8], delimiter: UInt8 = UInt8(ascii: ",")) -> [CSVRecord] {
        var records: [CSVRecord] = []
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        while index < bytes.count {
            if let record = nextRecord(bytes, index: &index, line: &line, delimiter: delimiter) { records.append(record) }
        }
        return records
    }

    /// Reads the one record that starts at `index` (on line `line`), as ``records(_:delimiter:)`` does,
    /// and moves both past it: the snapshot scanner's way back into the full reader for a row that
    /// holds a quote.
    /// - Returns: the record, or nil for a blank line (skipped).
    public static func nextRecord(_ bytes: [UInt8], index: inout Int, line: inout Int, delimiter: UInt8 = UInt8(ascii: ",")) -> CSVRecord? {
        let comma = delimiter
        var result: CSVRecord?
        do {
            let start = index
            let startLine = line
            var fields: [[UInt8]] = []
            var offsets: [Int] = []
            var field: [UInt8] = []
            var fieldStart = index
            var error: (column: Int, reason: String)?
            var endOfRecord = false
            // One record: a sequence of fields.
            while !endOfRecord {
                field.removeAll(keepingCapacity: true)
                fieldStart = index
                if index < bytes.count, bytes[index] == quote {
                    // A quoted field: up to the closing quote, `""` is one quote.
                    index += 1
                    var closed = false
                    while index < bytes.count {
                        let byte = bytes[index]
                        if byte == quote {
                            if index + 1 < bytes.count, bytes[index + 1] == quote {
                                field.append(quote)
                                index += 2
                                continue
                            }
                            index += 1
                            closed = true
                            break
                        }
                        if byte == lf { line += 1 }
                        field.append(byte)
                        index += 1
                    }
                    if !closed, error == nil {
                        error = (fields.count + 1, "a quoted field is not closed before the end of the file "
                            + "(a missing \" or a file cut short)")
                    }
                    // After the closing quote: a comma, a line end or the end of input.
                    if index < bytes.count, bytes[index] != comma, bytes[index] != lf,
                        !(bytes[index] == cr && (index + 1 == bytes.count || bytes[index + 1] == lf))
                    {
                        if error == nil {
                            error = (fields.count + 1, "text after the closing quote of a quoted field "
                                + "(write \"\" for a quote inside quotes)")
                        }
                        while index < bytes.count, bytes[index] != comma, bytes[index] != lf { index += 1 }
                    }
                } else {
                    while index < bytes.count, bytes[index] != comma, bytes[index] != lf {
                        if bytes[index] == quote, error == nil {
                            error = (fields.count + 1, "a quote inside an unquoted field "
                                + "(quote the whole field and double the quote: \"a\"\"b\")")
                        }
                        field.append(bytes[index])
                        index += 1
                    }
                    if index <= bytes.count, field.last == cr, index == bytes.count || bytes[index] == lf {
                        field.removeLast()
                    }
                }
                fields.append(field)
                offsets.append(fieldStart)
                if index < bytes.count, bytes[index] == comma {
                    index += 1
                    continue
                }
                // CR before LF after a quoted field.
                if index < bytes.count, bytes[index] == cr { index += 1 }
                var end = index
                if end > start, end <= bytes.count, end > 0, bytes[end - 1] == cr { end -= 1 }
                if index < bytes.count, bytes[index] == lf {
                    index += 1
                    line += 1
                }
                let raw = bytes[start..<min(end, bytes.count)]
                endOfRecord = true
                let blank = fields.count == 1 && fields[0].isEmpty && error == nil
                if !blank {
                    result = CSVRecord(line: startLine, offset: start, fields: fields, fieldOffsets: offsets, raw: raw, error: error)
                }
            }
        }
        return result
    }
}
