/// JSON-lines vendor files read through a mapping (`sources.<name>.files.format` `jsonl` with a
/// `mapping`, issue 16): one JSON object a line in the vendor's own shape, not Renkei's envelope.
/// Each object becomes a row whose columns are the mapping's column names; a dotted name
/// (`保護者.氏名`) reads a member of a nested object. The rows then go through the mapping exactly as
/// a CSV file's do.
public enum JSONLinesRecordReader {
    /// Splits `bytes` (UTF-8, RFC 8259) into one record per non-blank line, each field the UTF-8 text
    /// of its column's value: a string as it is, a number as written, `true`/`false`, and an empty
    /// field for `null` or a member the object does not have. A line that is not a JSON object, holds
    /// a member the mapping neither reads nor ignores, or an object or array where a column is read,
    /// is returned with ``CSVRecord/error`` set, naming the member.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - columns: every column name of the mapping, in the order the rows' fields are wanted.
    ///   - ignored: the columns left out on purpose: any value is allowed there, and none is read.
    public static func records(_ bytes: [UInt8], columns: [String], ignored: Set<String>) -> [CSVRecord] {
        // A top-level member is known when it is a column or the first part of a dotted one.
        var known: Set<String> = []
        for name in columns { known.insert(String(name.split(separator: ".", maxSplits: 1).first ?? Substring(name))) }
        var records: [CSVRecord] = []
        var start = 0
        var line = 1
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0A {
                var end = index
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                let raw = bytes[start..<end]
                if raw.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                    records.append(record(raw, line: line, offset: start, columns: columns, ignored: ignored, known: known))
                }
                line += 1
                start = index + 1
            }
            index += 1
        }
        return records
    }

    private static func record(
        _ raw: ArraySlice<UInt8>, line: Int, offset: Int, columns: [String], ignored: Set<String>, known: Set<String>
    ) -> CSVRecord {
        var record = CSVRecord(line: line, offset: offset, fields: [], fieldOffsets: [], raw: raw, error: nil)
        let object: JSONObject
        do {
            guard let parsed = try JSONParser.parse(raw).objectValue else {
                record.error = (1, "is not a JSON object: each line of a JSON-lines file is one object {\"column\": value, …}")
                return record
            }
            object = parsed
        } catch {
            record.error = (1, "is not JSON (byte \(error.offset + 1) of the line: \(error.reason)); each line is one UTF-8 JSON object")
            return record
        }
        for member in object where !known.contains(member.key) {
            record.error = (1, "has the member \"\(member.key)\", which the mapping neither reads nor lists under \"ignore\": "
                + "map it, or add it to \"ignore\" if it is left out on purpose")
            return record
        }
        for (position, name) in columns.enumerated() {
            record.fieldOffsets.append(offset)
            if ignored.contains(name) {
                record.fields.append([])
                continue
            }
            var value: JSONValue? = object[name]
            if value == nil, name.contains(".") {
                // A dotted name reads a nested member; a scalar or array on the way cannot hold it.
                var path: [Substring] = []
                value = .object(object)
                for part in name.split(separator: ".", omittingEmptySubsequences: false) {
                    guard let current = value, !current.isNull else { break }
                    guard let inner = current.objectValue else {
                        record.fields = []
                        record.fieldOffsets = []
                        let kind = current.arrayValue != nil ? "an array" : "a value"
                        record.error = (position + 1, "\"\(name)\": \"\(path.joined(separator: "."))\" holds \(kind), not an object with the member \"\(part)\"")
                        return record
                    }
                    path.append(part)
                    value = inner[String(part)]
                }
            }
            switch value {
            case nil, .null?:
                record.fields.append([])
            case .string(let text)?:
                record.fields.append(Array(text.utf8))
            case .bool(let flag)?:
                record.fields.append(Array((flag ? "true" : "false").utf8))
            case .object?, .array?:
                record.fields = []
                record.fieldOffsets = []
                record.error = (position + 1, "\"\(name)\" holds an \(value?.arrayValue != nil ? "array" : "object"): "
                    + "read its members with dotted column names (\"\(name).…\") or list it under \"ignore\"")
                return record
            case let number?:
                record.fields.append(number.serializedBytes)
            }
        }
        return record
    }
}
