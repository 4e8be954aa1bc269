import Foundation
import RenkeiCore
import RenkeiSystem

/// Turns delta bodies into the bytes of a file subscription's records (issue 17): CSV or
/// fixed-length through the output mapping, or the body itself as a JSONL line; then encoded in
/// UTF-8 or CP932.
///
/// A value that cannot be written — a character CP932 has no code for, a value wider than its fixed
/// field, a value missing from a code table — is an error naming the column and field (the caller
/// adds the uid), never a `?`, a look-alike or a cut value. Not shared between threads (it holds an
/// iconv converter).
final class FileRecordEncoder {
    let target: Configuration.FileTarget
    private let cp932: CP932Encoder?

    init(target: Configuration.FileTarget) {
        self.target = target
        self.cp932 = target.isCP932 ? CP932Encoder() : nil
    }

    /// Why a record cannot be written.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The CSV header line, if the layout has one (empty otherwise).
    func header() throws(Failure) -> [UInt8] {
        guard let mapping = target.mapping, mapping.format == .csv, mapping.header else { return [] }
        var line: [UInt8] = []
        for (index, column) in mapping.columns.enumerated() {
            if index > 0 { line.append(mapping.delimiter) }
            try encode(quoted(column.name, mapping: mapping), into: &line, column: column.name, field: "(header)")
        }
        line.append(contentsOf: mapping.lineEnding)
        return line
    }

    /// One record for `body` (the delta as it leaves, after the send-time policy).
    func record(_ body: [UInt8]) throws(Failure) -> [UInt8] {
        guard let mapping = target.mapping else {
            // JSONL: the body as it is, one line (JSON text never holds a raw newline).
            return body + [0x0A]
        }
        guard let object = (try? JSONParser.parse(body))?.objectValue else {
            throw Failure(description: "the delta body is not a JSON object (the outbox is damaged)")
        }
        return try record(object, mapping: mapping)
    }

    /// One record for an object in the shape of a delta body.
    func record(_ object: JSONObject, mapping: OutputMapping) throws(Failure) -> [UInt8] {
        let values: [String]
        do {
            values = try mapping.values(of: object)
        } catch {
            throw Failure(description: error.description)
        }
        var line: [UInt8] = []
        line.reserveCapacity(values.count * 16)
        for (index, (column, value)) in zip(mapping.columns, values).enumerated() {
            switch mapping.format {
            case .csv:
                if index > 0 { line.append(mapping.delimiter) }
                var bytes: [UInt8] = []
                let text = quoted(value, mapping: mapping)
                try encode(text, into: &bytes, column: column.name, field: column.field)
                // A CP932 second byte can equal a delimiter from 0x40 up (`\`, `|`): quoted, so that a
                // reader splitting on bytes keeps the value whole.
                if text == value, cp932 != nil, mapping.delimiter >= 0x40, bytes.contains(mapping.delimiter) {
                    bytes = [0x22] + bytes + [0x22]
                }
                line.append(contentsOf: bytes)
            case .fixed:
                if value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
                    throw Failure(description: "column \(column.name) (\(column.field)): the value holds a line break, which a fixed-length record cannot carry")
                }
                var bytes: [UInt8] = []
                try encode(value, into: &bytes, column: column.name, field: column.field)
                guard bytes.count <= column.bytes else {
                    throw Failure(description: "column \(column.name) (\(column.field)): the value takes \(bytes.count) bytes, more than the field's \(column.bytes) (it is never cut): widen the field in the mapping")
                }
                let padding = [UInt8](repeating: column.pad, count: column.bytes - bytes.count)
                line.append(contentsOf: column.alignRight ? padding + bytes : bytes + padding)
            }
        }
        line.append(contentsOf: mapping.lineEnding)
        return line
    }

    /// RFC 4180 quoting, decided on the text (so a CP932 trail byte equal to the delimiter is no issue).
    private func quoted(_ value: String, mapping: OutputMapping) -> String {
        let delimiter = Character(Unicode.Scalar(mapping.delimiter))
        guard value.contains(where: { $0 == delimiter || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func encode(_ text: String, into output: inout [UInt8], column: String, field: String?) throws(Failure) {
        guard let cp932 else {
            output.append(contentsOf: text.utf8)
            return
        }
        do {
            try cp932.append(text, to: &output)
        } catch {
            throw Failure(description: "column \(column)\(field.map { " (\($0))" } ?? ""): \(error.description), and is never written as '?': correct the source record, or use encoding utf-8")
        }
    }
}
