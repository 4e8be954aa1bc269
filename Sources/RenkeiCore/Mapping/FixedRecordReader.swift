/// Fixed-length records (APPLIC / 中間標準レイアウト style): one record per line (CRLF or LF), each
/// field a fixed number of bytes of the file's encoding. Splitting bytes before decoding is what the
/// layout sheets mean: a CP932 kanji is two bytes of the width.
public enum FixedRecordReader {
    /// Splits `bytes` into records of the given field widths. A line of another length is returned
    /// with ``CSVRecord/error`` set (a record cut short, or a layout that does not fit). Blank lines
    /// are skipped.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - widths: each field's width in bytes.
    public static func records(_ bytes: [UInt8], widths: [Int]) -> [CSVRecord] {
        let total = widths.reduce(0, +)
        var records: [CSVRecord] = []
        var start = 0
        var line = 1
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0A {
                var end = index
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                let raw = bytes[start..<end]
                if !raw.isEmpty {
                    var record = CSVRecord(line: line, offset: start, fields: [], fieldOffsets: [], raw: raw, error: nil)
                    if raw.count != total {
                        record.error = (1, "the record is \(raw.count) bytes but the layout's fields add up to \(total): "
                            + "a record cut short or a layout that does not fit the file")
                    } else {
                        var offset = start
                        for width in widths {
                            record.fields.append(Array(bytes[offset..<(offset + width)]))
                            record.fieldOffsets.append(offset)
                            offset += width
                        }
                    }
                    records.append(record)
                }
                line += 1
                start = index + 1
            }
            index += 1
        }
        return records
    }
}
