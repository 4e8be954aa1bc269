import Foundation
public import RenkeiCore
import RenkeiCrypto
import RenkeiSystem

/// A full file compared with its source's last accepted snapshot at the byte level (issue 16).
///
/// Rows are found and keyed on the file's bytes (``SnapshotScan``), each digested once with the
/// mapping (libcrypto SHA-256 from a hashed prefix, ``SHA256/Prefixed``) and looked up among the
/// stored keys' row digests (``SnapshotDigestIndex``). Only rows whose digest differs, whose key is
/// new, repeated or unreadable are decoded, mapped and validated; stored keys no row was found for
/// are the removals. The work runs on both cores: the stored digests load on the writer's thread
/// while one thread digests the whole file and two scan its halves (split at a line, checked against
/// the first half's end, scanned again in order in the rare case a quoted line break crossed it).
///
/// What it gives is what decoding and mapping every row gave (the diff, the refusals with line and
/// column), except that a row refused for an undecodable byte outside its key now keeps its key: a
/// bad row never withdraws anyone.
public enum SnapshotComparison {
    /// How long each part took (the first three run at the same time).
    public struct Timings: Sendable {
        /// Reading the stored keys and row digests (``Snapshots/digestIndex(of:in:)``).
        public var previous: Duration = .zero
        /// SHA-256 of the whole file (the run's digest).
        public var fileDigest: Duration = .zero
        /// Finding rows and keys, digesting each row (both halves, the longer one).
        public var scan: Duration = .zero
        /// Looking each row up among the stored digests.
        public var lookup: Duration = .zero
        /// Decoding, mapping and validating the rows left to the mapping, reading their stored entries.
        public var mapping: Duration = .zero
    }

    /// What a comparison found.
    public struct Outcome: Sendable {
        /// The differences.
        public var diff: SnapshotDiff
        /// The file's SHA-256, hex.
        public var digest: String
        /// Rows decoded and mapped (their digest differed, or their key was new or unreadable).
        public var mapped: Int
        /// How long each part took.
        public var timings: Timings
        var rejections: [SpoolIngest.RowRejection]
    }

    /// Why the whole file was refused (its header does not fit the mapping), with the line.
    public struct Refusal: Error, CustomStringConvertible {
        /// The line.
        public var line: Int
        /// The reason.
        public var description: String
        var rejection: SpoolIngest.RowRejection
    }

    /// Compares a full file with the stored snapshot.
    /// - Parameters:
    ///   - bytes: the file.
    ///   - source: the source.
    ///   - mapping: its mapping.
    ///   - encoding: `files.encoding`.
    ///   - keys: the snapshot key columns.
    ///   - validator: validates the mapped registrations.
    ///   - loadIndex: reads the stored keys and row digests.
    ///   - loadEntries: reads the stored entries of some keys.
    /// - Returns: the outcome, or the refusal of the whole file.
    /// - Throws: what the loaders throw.
    public static func compare(
        _ bytes: [UInt8], source: String, mapping: FileMapping, encoding: String, keys: [String], validator: EventValidator,
        loadIndex: @escaping @Sendable () async throws -> SnapshotDigestIndex,
        loadEntries: @escaping @Sendable ([String]) async throws -> [String: SnapshotEntry]
    ) async throws -> Result<Outcome, Refusal> {
        let clock = ContinuousClock()
        var timings = Timings()
        // The header (CSV with one) binds the mapping to the file's columns.
        var bodyStart = 0
        var bodyLine = 1
        var header: [String]?
        var headerRecord: CSVRecord?
        if mapping.format == .csv {
            bodyStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            if mapping.header {
                while bodyStart < bytes.count, headerRecord == nil {
                    headerRecord = CSVReader.nextRecord(bytes, index: &bodyStart, line: &bodyLine, delimiter: mapping.delimiter)
                }
            }
        }
        if let first = headerRecord {
            switch decodeCells(first, encoding: encoding) {
            case .success(let cells): header = cells
            case .failure(let error):
                let rejection = SpoolIngest.RowRejection(
                    line: first.line, column: error.column, error: "header: \(error); no row of this file was taken", raw: first.raw)
                return .failure(Refusal(line: first.line, description: rejection.error, rejection: rejection))
            }
        }
        let mapped: MappedFile
        do throws(MappedRowError) {
            mapped = try MappedFile(mapping: mapping, header: header, line: headerRecord?.line ?? 1, digest: SpoolIngest.sha256Hex)
        } catch {
            let rejection = SpoolIngest.RowRejection(line: error.line, column: error.column, error: "header: \(error)", raw: headerRecord?.raw ?? [])
            return .failure(Refusal(line: error.line, description: rejection.error, rejection: rejection))
        }
        let layout: SnapshotScan.Layout
        var keyColumns: [Range<Int>] = []
        switch mapping.format {
        case .csv:
            layout = .csv(delimiter: mapping.delimiter)
            for key in keys {
                guard let column = mapped.column(named: key) else { continue }
                keyColumns.append((column - 1)..<column)
            }
        case .fixed:
            layout = .fixed(width: mapping.fixedFields.map(\.bytes).reduce(0, +))
            for key in keys {
                var offset = 0
                for field in mapping.fixedFields {
                    if field.name == key { keyColumns.append(offset..<(offset + field.bytes)) }
                    offset += field.bytes
                }
            }
        }
        let (firstStart, firstBodyLine) = (bodyStart, bodyLine)
        let hasher = SHA256.Prefixed(prefix: Array(SpoolIngest.sha256Hex(mapping.text).utf8))
        let keyColumnsFound = keyColumns
        let scanPart: @Sendable (Int, Int, Int) -> (SnapshotScan, Duration) = { from, to, line in
            var scan: SnapshotScan?
            let elapsed = ContinuousClock().measure {
                scan = SnapshotScan.scan(
                    bytes, from: from, to: to, firstLine: line, layout: layout, keyColumns: keyColumnsFound,
                    normalize: { field in (try? SpoolIngest.decodeField(field, encoding: encoding)).map { Array($0.mappingTrimmed.utf8) } },
                    digest: { row, out in hasher.hash(row, into: out) })
            }
            return (scan!, elapsed)
        }

        // Both cores: the stored digests, the file's digest and the two halves at once.
        let end = bytes.count
        let middle = bytes.count > 1 << 20 ? bytes[(firstStart + (end - firstStart) / 2)...].firstIndex(of: 0x0A).map { $0 + 1 } : nil
        let split = middle.flatMap { $0 < end ? $0 : nil } ?? end
        async let previousTask = timed(loadIndex)
        async let digestTask: (String, Duration) = BlockingThread.run(name: "renkei-snapshot") {
            var digest = ""
            let elapsed = ContinuousClock().measure { digest = SpoolIngest.sha256Hex(bytes) }
            return (digest, elapsed)
        }
        async let firstTask = BlockingThread.run(name: "renkei-snapshot") { scanPart(firstStart, split, firstBodyLine) }
        async let secondTask = BlockingThread.run(name: "renkei-snapshot") { scanPart(split, end, 1) }
        var (rows, firstTime) = await firstTask
        let (second, secondTime) = await secondTask
        timings.scan = max(firstTime, secondTime)
        if rows.end == split {
            rows.append(contentsOf: second, lineOffset: rows.nextLine - 1)
        } else {
            // A quoted line break ran across the split: the rest again, in order.
            let (rest, restTime) = scanPart(rows.end, end, rows.nextLine)
            timings.scan += restTime
            rows.append(contentsOf: rest, lineOffset: 0)
        }
        let (digest, digestTime) = await digestTask
        timings.fileDigest = digestTime
        var (index, previousTime) = try await previousTask
        timings.previous = previousTime

        // Each row looked up: unchanged (the stored digest, the key's first row) or left to the mapping.
        let scanned = rows
        let lookupStart = clock.now
        let (marked, candidates, unchanged) = await BlockingThread.run(name: "renkei-snapshot") { [index] in
            var index = index
            var candidates: [Int] = []
            var unchanged = 0
            scanned.digests.withUnsafeBytes { digests in
                for row in 0..<scanned.count {
                    guard scanned.hasKey[row], scanned.wellFormed[row] else {
                        candidates.append(row)
                        continue
                    }
                    let entry = index.find(scanned.key(row))
                    if let entry, index.mark(of: entry) == 0,
                        index.digestMatches(entry, UnsafeRawBufferPointer(rebasing: digests[(row * 32)..<(row * 32 + 32)]))
                    {
                        index.mark(entry, line: scanned.lines[row])
                        unchanged += 1
                    } else {
                        if let entry, index.mark(of: entry) == 0 { index.mark(entry, line: -1) }
                        candidates.append(row)
                    }
                }
            }
            return (index, candidates, unchanged)
        }
        index = marked
        timings.lookup = clock.now - lookupStart

        // The rest decoded, mapped and validated, as every row was before.
        let mappingStart = clock.now
        var rejections: [SpoolIngest.RowRejection] = []
        var mappedRows: [SnapshotRow] = []
        var kept: Set<String> = []
        var firstLine: [String: Int] = [:]
        for row in candidates {
            guard let record = record(row, of: scanned, in: bytes, layout: layout, widths: mapping.fixedFields.map(\.bytes)) else { continue }
            if let error = record.error {
                rejections.append(.init(line: record.line, column: error.column, error: error.reason, raw: record.raw))
                continue
            }
            let cells: [String]
            switch decodeCells(record, encoding: encoding) {
            case .success(let value): cells = value
            case .failure(let error):
                rejections.append(.init(line: record.line, column: error.column, error: error.description, raw: record.raw))
                // Its key (read from the key's bytes alone) stays: a bad byte elsewhere withdraws no one.
                if scanned.hasKey[row] { kept.insert(String(decoding: scanned.key(row), as: UTF8.self)) }
                continue
            }
            let keyText = mapped.snapshotKey(cells: cells, keys: keys)
            func refuse(_ column: Int?, _ reason: String) {
                rejections.append(.init(line: record.line, column: column, error: reason, raw: record.raw))
                if let keyText { kept.insert(keyText) }
            }
            switch mapped.snapshotRow(cells: cells, line: record.line, keys: keys) {
            case .success(var mappedRow?):
                mappedRow.rowDigest = scanned.digests[(row * 32)..<(row * 32 + 32)].hexString
                let earlier = firstLine[mappedRow.key] ?? index.find(Array(mappedRow.key.utf8)[...]).map { index.mark(of: $0) }.flatMap { $0 > 0 ? $0 : nil }
                if let earlier {
                    refuse(nil, "the snapshot key repeats line \(earlier): each key once in a full file")
                    continue
                }
                if case .failure(let rejection) = validator.validate(value: mappedRow.registration, expectedSource: source) {
                    refuse(nil, rejection.description)
                    continue
                }
                firstLine[mappedRow.key] = record.line
                mappedRows.append(mappedRow)
            case .success(nil):
                continue
            case .failure(let error):
                refuse(error.column, error.description)
            }
        }
        // Stored keys no row was found for (nor mapped, nor refused) are the removals.
        let mappedKeys = Set(mappedRows.map(\.key))
        var removed: [String] = []
        for entry in index.entriesNotUnchanged() {
            let key = index.keyText(entry)
            if index.mark(of: entry) == 0 || (!mappedKeys.contains(key) && !kept.contains(key)) { removed.append(key) }
        }
        let needed = mappedRows.map(\.key).filter { index.find(Array($0.utf8)[...]) != nil } + removed
        let previous = needed.isEmpty ? [:] : try await loadEntries(needed)
        let diff = SnapshotDiff(
            rows: mappedRows, previous: previous, removed: removed, previousCount: index.count, rowCount: mappedRows.count + unchanged)
        timings.mapping = clock.now - mappingStart
        return .success(Outcome(diff: diff, digest: digest, mapped: candidates.count, timings: timings, rejections: rejections))
    }

    private static func timed<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try await body()
        return (value, clock.now - start)
    }

    /// Row `row` of a scan as the full reader returns it (line and offsets in the file).
    static func record(_ row: Int, of scan: SnapshotScan, in bytes: [UInt8], layout: SnapshotScan.Layout, widths: [Int]) -> CSVRecord? {
        switch layout {
        case .csv(let delimiter):
            var index = scan.starts[row]
            var line = scan.lines[row]
            return CSVReader.nextRecord(bytes, index: &index, line: &line, delimiter: delimiter)
        case .fixed:
            let start = scan.starts[row]
            guard var record = FixedRecordReader.records(Array(bytes[start..<scan.ends[row]]), widths: widths).first else { return nil }
            record.line = scan.lines[row]
            record.offset += start
            record.fieldOffsets = record.fieldOffsets.map { $0 + start }
            record.raw = bytes[start..<scan.ends[row]]
            return record
        }
    }

    /// Decodes a record's fields in the source's encoding.
    static func decodeCells(_ record: CSVRecord, encoding: String) -> Result<[String], CSVRowError> {
        var cells: [String] = []
        for (index, field) in record.fields.enumerated() {
            do {
                cells.append(try SpoolIngest.decodeField(field, encoding: encoding))
            } catch {
                return .failure(CSVRowError(column: index + 1, field: nil, reason: error.shifted(by: record.fieldOffsets[index]).description))
            }
        }
        return .success(cells)
    }
}
