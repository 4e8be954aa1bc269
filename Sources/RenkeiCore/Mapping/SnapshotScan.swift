/// A full file's rows found at the byte level (issue 16): where each row is, its line, its snapshot
/// key as UTF-8 bytes and its row digest, without decoding or mapping anything else.
///
/// A row is what ``CSVReader`` or ``FixedRecordReader`` would return, byte for byte: a CSV line with
/// no quote is split here (one pass, eight bytes at a time); a line with a quote is read by
/// ``CSVReader/nextRecord(_:index:line:delimiter:)`` itself, so quoted line breaks and malformed
/// quotes come out exactly as the full reader has them. Only rows whose digest differs from the
/// stored one (or whose key is new) are then decoded and mapped.
public struct SnapshotScan: Sendable {
    /// How the file is laid out.
    public enum Layout: Sendable {
        /// CSV with this delimiter (an ASCII byte).
        case csv(delimiter: UInt8)
        /// Fixed-length records of `width` bytes.
        case fixed(width: Int)
    }

    /// Each row's first byte (0-based offset in the file).
    public private(set) var starts: [Int] = []
    /// Each row's end (exclusive, without the line end): the row's bytes are the record's `raw`.
    public private(set) var ends: [Int] = []
    /// Each row's 1-based line.
    public private(set) var lines: [Int] = []
    /// Each row's key ends in ``keyBytes`` (the key of row i runs from `keyEnds[i - 1]`, or 0).
    public private(set) var keyEnds: [Int] = []
    /// The keys, UTF-8, the columns joined with U+001F, as ``MappedFile/snapshotKey(cells:keys:)`` makes them.
    public private(set) var keyBytes: [UInt8] = []
    /// Whether row i has a key (false: a key column is empty, missing or undecodable; the row is
    /// then always mapped, and refused there with the reason).
    public private(set) var hasKey: [Bool] = []
    /// Whether row i is well formed for the layout (false: a CSV record with a quoting error, a fixed
    /// record of another length; always mapped, and refused there).
    public private(set) var wellFormed: [Bool] = []
    /// 32 bytes per row: the row digest the caller computed.
    public private(set) var digests: [UInt8] = []
    /// Where the scan stopped: the offset after the last row's line end.
    public private(set) var end: Int = 0
    /// The line after the last row.
    public private(set) var nextLine: Int = 1

    /// Rows found.
    public var count: Int { starts.count }

    /// The key of row `i`.
    public func key(_ i: Int) -> ArraySlice<UInt8> {
        keyBytes[(i == 0 ? 0 : keyEnds[i - 1])..<keyEnds[i]]
    }

    /// Scans rows that start in `from..<to` (the last may run past `to`; the scan ends after it).
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - from: the first row's offset (after the header, or the start of a half that begins at a line start).
    ///   - to: rows starting at or after this offset are left to another scan.
    ///   - firstLine: the line at `from`.
    ///   - layout: CSV or fixed-length.
    ///   - keyColumns: for CSV, the key columns' 0-based positions; for fixed-length, each key field's
    ///     byte range in the record.
    ///   - normalize: a key column's bytes to its key text's UTF-8 (decoded, trimmed), or nil when empty
    ///     or undecodable; only called for bytes that are not plain ASCII (0x21–0x7E), which are their own key.
    ///   - digest: writes the row digest of a row's bytes (32 bytes) to the pointer.
    public static func scan(
        _ bytes: [UInt8], from: Int, to: Int, firstLine: Int, layout: Layout, keyColumns: [Range<Int>],
        normalize: ([UInt8]) -> [UInt8]?, digest: (UnsafeRawBufferPointer, UnsafeMutableRawPointer) -> Void
    ) -> SnapshotScan {
        var scan = SnapshotScan()
        let estimate = max(16, (to - from) / 96)
        scan.starts.reserveCapacity(estimate)
        scan.ends.reserveCapacity(estimate)
        scan.lines.reserveCapacity(estimate)
        scan.keyEnds.reserveCapacity(estimate)
        scan.hasKey.reserveCapacity(estimate)
        scan.wellFormed.reserveCapacity(estimate)
        scan.keyBytes.reserveCapacity(estimate * 12)
        scan.digests.reserveCapacity(estimate * 32)
        var index = from
        var line = firstLine
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            while index < to {
                let start = index
                let special: Int
                switch layout {
                case .csv: special = Self.nextSpecial(base, from: index, count: buffer.count)
                case .fixed: special = Self.nextLineFeed(base, from: index, count: buffer.count)
                }
                if case .csv(let delimiter) = layout, special < buffer.count, buffer[special] == 0x22 {
                    // A quote: this record is read exactly as the full reader reads it.
                    var next = start
                    var nextLine = line
                    let record = CSVReader.nextRecord(bytes, index: &next, line: &nextLine, delimiter: delimiter)
                    if let record {
                        let keyStart = scan.keyBytes.count
                        var hasKey = true
                        for (number, column) in keyColumns.enumerated() {
                            guard let position = column.first, position < record.fields.count else { hasKey = false; break }
                            if number > 0 { scan.keyBytes.append(0x1F) }
                            hasKey = record.fields[position].withUnsafeBufferPointer { scan.appendKeyPart($0, normalize) }
                            if !hasKey { break }
                        }
                        scan.append(start: start, end: record.raw.endIndex, line: line, keyStart: keyStart, hasKey: hasKey,
                                    wellFormed: record.error == nil, base: base, digest: digest)
                    }
                    index = next
                    line = nextLine
                    continue
                }
                // A line with no quote: up to the line feed (or the end), one CR before it dropped.
                let lineEnd = special
                var end = lineEnd
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                index = lineEnd < buffer.count ? lineEnd + 1 : lineEnd
                defer { line += 1 }
                guard end > start else { continue }  // a blank line is skipped
                let keyStart = scan.keyBytes.count
                var hasKey = true
                switch layout {
                case .csv(let delimiter):
                    for (number, column) in keyColumns.enumerated() {
                        // The key column's bytes: count delimiters from the line's start.
                        let wanted = column.first ?? 0
                        var field = 0
                        var fieldStart = start
                        var position = start
                        while position < end, field < wanted {
                            if base[position] == delimiter {
                                field += 1
                                fieldStart = position + 1
                            }
                            position += 1
                        }
                        guard field == wanted else { hasKey = false; break }
                        var fieldEnd = fieldStart
                        while fieldEnd < end, base[fieldEnd] != delimiter { fieldEnd += 1 }
                        if number > 0 { scan.keyBytes.append(0x1F) }
                        hasKey = scan.appendKeyPart(UnsafeBufferPointer(rebasing: buffer[fieldStart..<fieldEnd]), normalize)
                        if !hasKey { break }
                    }
                    scan.append(start: start, end: end, line: line, keyStart: keyStart, hasKey: hasKey, wellFormed: true, base: base, digest: digest)
                case .fixed(let width):
                    let wellFormed = end - start == width
                    if wellFormed {
                        for (number, range) in keyColumns.enumerated() {
                            if number > 0 { scan.keyBytes.append(0x1F) }
                            hasKey = scan.appendKeyPart(UnsafeBufferPointer(rebasing: buffer[(start + range.lowerBound)..<(start + range.upperBound)]), normalize)
                            if !hasKey { break }
                        }
                    } else {
                        hasKey = false
                    }
                    scan.append(start: start, end: end, line: line, keyStart: keyStart, hasKey: hasKey, wellFormed: wellFormed, base: base, digest: digest)
                }
            }
        }
        scan.end = index
        scan.nextLine = line
        return scan
    }

    /// Adds the rows of a scan of the next part of the file, its lines shifted by `lineOffset`.
    public mutating func append(contentsOf other: SnapshotScan, lineOffset: Int) {
        let keyBase = keyBytes.count
        starts += other.starts
        ends += other.ends
        lines += other.lines.map { $0 + lineOffset }
        keyEnds += other.keyEnds.map { $0 + keyBase }
        keyBytes += other.keyBytes
        hasKey += other.hasKey
        wellFormed += other.wellFormed
        digests += other.digests
        end = other.end
        nextLine = other.nextLine + lineOffset
    }

    private mutating func append(
        start: Int, end: Int, line: Int, keyStart: Int, hasKey: Bool, wellFormed: Bool, base: UnsafePointer<UInt8>,
        digest: (UnsafeRawBufferPointer, UnsafeMutableRawPointer) -> Void
    ) {
        starts.append(start)
        ends.append(end)
        lines.append(line)
        let keyed = hasKey && keyBytes.count > keyStart
        if !keyed { keyBytes.removeSubrange(keyStart...) }
        self.hasKey.append(keyed)
        keyEnds.append(keyBytes.count)
        self.wellFormed.append(wellFormed)
        let at = digests.count
        digests.append(contentsOf: repeatElement(0, count: 32))
        digests.withUnsafeMutableBytes { out in
            digest(UnsafeRawBufferPointer(start: base + start, count: end - start), out.baseAddress! + at)
        }
    }

    /// Appends a key column's part of the key to ``keyBytes``: ASCII spaces and tabs trimmed, plain
    /// ASCII as it is, anything else through `normalize` (which trims U+3000 too, as ``MappedFile``
    /// does). Returns false when the part is empty or undecodable.
    private mutating func appendKeyPart(_ field: UnsafeBufferPointer<UInt8>, _ normalize: ([UInt8]) -> [UInt8]?) -> Bool {
        var lower = 0
        var upper = field.count
        while lower < upper, field[lower] == 0x20 || field[lower] == 0x09 { lower += 1 }
        while upper > lower, field[upper - 1] == 0x20 || field[upper - 1] == 0x09 { upper -= 1 }
        guard upper > lower else { return false }
        let trimmed = UnsafeBufferPointer(rebasing: field[lower..<upper])
        var plain = true
        for byte in trimmed where byte < 0x21 || byte > 0x7E {
            plain = false
            break
        }
        if plain {
            keyBytes.append(contentsOf: trimmed)
            return true
        }
        guard let text = normalize(Array(trimmed)), !text.isEmpty else { return false }
        keyBytes += text
        return true
    }

    // MARK: - Finding line feeds and quotes eight bytes at a time

    /// The offset of the first line feed or quote at or after `from`, or `count`.
    static func nextSpecial(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var index = from
        let lf: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        let quote: UInt64 = 0x2222_2222_2222_2222
        while index + 8 <= count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            if hasZeroByte(word ^ lf) || hasZeroByte(word ^ quote) { break }
            index += 8
        }
        while index < count, base[index] != 0x0A, base[index] != 0x22 { index += 1 }
        return index
    }

    /// The offset of the first line feed at or after `from`, or `count`.
    static func nextLineFeed(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var index = from
        let lf: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        while index + 8 <= count {
            if hasZeroByte(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) ^ lf) { break }
            index += 8
        }
        while index < count, base[index] != 0x0A { index += 1 }
        return index
    }

    /// Whether a byte of `word` is zero (the classic bit trick: exact, with no false positive for "is any").
    @inline(__always)
    static func hasZeroByte(_ word: UInt64) -> Bool {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0
    }
}
