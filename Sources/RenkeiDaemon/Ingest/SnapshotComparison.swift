import Foundation
public import RenkeiCore
import RenkeiCrypto
public import RenkeiStore
import RenkeiSystem

/// A full file compared with its source's last accepted snapshot at the byte level (issue 16).
///
/// Rows are found on the file's bytes (``SnapshotScan``), each digested once with the mapping
/// (libcrypto SHA-256 from a hashed prefix, ``SHA256/Prefixed``) and looked up among the stored row
/// digests (``SnapshotDigestSet``): a row whose digest is stored is the same bytes, so the same key,
/// and is neither decoded nor mapped. The other rows (changed, new, repeated, malformed) are decoded,
/// mapped and validated; the stored digests no row had are changed or removed keys, read back by
/// digest. The work runs on both cores: the stored digests load on the writer's thread while one
/// thread digests the whole file and two scan its halves (split at a line, checked against the first
/// half's end, scanned again in order in the rare case a quoted line break crossed it).
///
/// What it gives is what decoding and mapping every row gave (the diff, the refusals with line and
/// column), except that a row refused for an undecodable byte outside its key now keeps its key: a
/// bad row never withdraws anyone.
public enum SnapshotComparison {
    /// How long each part took (the first three run at the same time).
    public struct Timings: Sendable {
        /// Reading the stored row digests (``Snapshots/digestSet(of:in:)``).
        public var previous: Duration = .zero
        /// SHA-256 of the whole file (the run's digest).
        public var fileDigest: Duration = .zero
        /// Finding and digesting each row (both halves, the longer one).
        public var scan: Duration = .zero
        /// Looking each row up among the stored digests.
        public var lookup: Duration = .zero
        /// Decoding, mapping and validating the rows left to the mapping; reading their stored entries
        /// and the keys of the stored digests no row had; the diff.
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

    /// Whether the byte-level comparison reads this layout: CSV and fixed-length (another format is
    /// compared by decoding every row, `SpoolIngest.planSnapshotDecoded`).
    public static func handles(_ format: FileMapping.Format) -> Bool {
        format == .csv || format == .fixed
    }

    /// Compares a full file with the stored snapshot.
    /// - Parameters:
    ///   - bytes: the file.
    ///   - source: the source.
    ///   - mapping: its mapping.
    ///   - encoding: `files.encoding`.
    ///   - keys: the snapshot key columns.
    ///   - validator: validates the mapped registrations.
    ///   - loadSet: reads the stored row digests.
    ///   - loadKeys: reads the keys of some stored digests (hex), and the keys stored without one.
    ///   - loadEntries: reads the stored entries of some keys.
    /// - Returns: the outcome, or the refusal of the whole file.
    /// - Throws: what the loaders throw.
    public static func compare(
        _ bytes: [UInt8], source: String, mapping: FileMapping, encoding: String, keys: [String], validator: EventValidator,
        loadSet: @escaping @Sendable () async throws -> SnapshotDigestSet,
        loadKeys: @escaping @Sendable ([String]) async throws -> Snapshots.DigestKeys,
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
            mapped = try MappedFile(mapping: mapping, header: header, line: headerRecord?.line ?? 1, digest: fieldDigest)
        } catch {
            let rejection = SpoolIngest.RowRejection(line: error.line, column: error.column, error: "header: \(error)", raw: headerRecord?.raw ?? [])
            return .failure(Refusal(line: error.line, description: rejection.error, rejection: rejection))
        }
        let layout: SnapshotScan.Layout
        // CSV and fixed-length only (see ``handles(_:)``).
        if mapping.format == .fixed {
            layout = .fixed(width: mapping.fixedFields.map(\.bytes).reduce(0, +))
        } else {
            layout = .csv(delimiter: mapping.delimiter)
        }
        let (firstStart, firstBodyLine) = (bodyStart, bodyLine)
        let hasher = SHA256.Prefixed(prefix: Array(SpoolIngest.sha256Hex(mapping.text).utf8))
        let scanPart: @Sendable (Int, Int, Int) -> (SnapshotScan, Duration) = { from, to, line in
            var scan: SnapshotScan?
            let elapsed = ContinuousClock().measure {
                scan = SnapshotScan.scan(
                    bytes, from: from, to: to, firstLine: line, layout: layout, keyColumns: [], normalize: { _ in nil },
                    digest: { row, out in hasher.hash(row, into: out) })
            }
            return (scan!, elapsed)
        }

        // Both cores: the stored digests, the file's digest and the two halves at once.
        let end = bytes.count
        let middle = bytes.count > 1 << 20 ? bytes[(firstStart + (end - firstStart) / 2)...].firstIndex(of: 0x0A).map { $0 + 1 } : nil
        let split = middle.flatMap { $0 < end ? $0 : nil } ?? end
        async let previousTask = timed(loadSet)
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
        var (set, previousTime) = try await previousTask
        timings.previous = previousTime

        // Each row looked up (both halves at once), then, in file order, a stored digest not yet had
        // by an earlier row makes an unchanged row.
        let scanned = rows
        let lookupStart = clock.now
        let storedSet = set
        let findPart: @Sendable (Range<Int>) -> [Int32] = { range in
            scanned.digests.withUnsafeBytes { digests in
                range.map { row in
                    guard scanned.wellFormed[row] else { return -1 }
                    return Int32(storedSet.find(UnsafeRawBufferPointer(rebasing: digests[(row * 32)..<(row * 32 + 32)])) ?? -1)
                }
            }
        }
        let half = scanned.count / 2
        async let firstEntries = BlockingThread.run(name: "renkei-snapshot") { findPart(0..<half) }
        async let secondEntries = BlockingThread.run(name: "renkei-snapshot") { findPart(half..<scanned.count) }
        let entries = await firstEntries + secondEntries
        var candidates: [Int] = []
        var unchanged = 0
        for row in 0..<scanned.count {
            let entry = Int(entries[row])
            if entry >= 0, set.mark(of: entry) == 0 {
                set.mark(entry, line: scanned.lines[row])
                unchanged += 1
            } else {
                candidates.append(row)
            }
        }
        timings.lookup = clock.now - lookupStart

        // The rest decoded and mapped (as every row was before), then checked in file order.
        let mappingStart = clock.now
        var rejections: [SpoolIngest.RowRejection] = []
        // Decoded, mapped and validated on both cores (each half of them); then checked in file order.
        let unmatched = set.unmatchedHex()
        // While the rows are mapped: the keys of the stored digests no row had, then their stored entries
        // (the changed keys' previous rows and the removed keys'), so the point reads overlap the mapping.
        async let keysTask: (Snapshots.DigestKeys, [String: SnapshotEntry]) = {
            let found = try await loadKeys(unmatched)
            let keys = Array(Set(found.byDigest.values))
            return (found, keys.isEmpty ? [:] : try await loadEntries(keys))
        }()
        let widths = mapping.fixedFields.map(\.bytes)
        let delimiter: UInt8? = mapping.format == .csv ? mapping.delimiter : nil
        let readPart: @Sendable (ArraySlice<Int>) -> [CandidateRead] = { rows in
            var reads: [CandidateRead] = []
            for row in rows {
                guard let record = record(row, of: scanned, in: bytes, layout: layout, widths: widths) else { continue }
                if let error = record.error {
                    reads.append(CandidateRead(record: record, row: row, read: .refused(.init(line: record.line, column: error.column, error: error.reason, raw: record.raw), key: nil)))
                    continue
                }
                switch decodeCells(record, encoding: encoding, delimiter: delimiter) {
                case .success(let cells):
                    let result = mapped.snapshotRow(cells: cells, line: record.line, keys: keys)
                    var invalid: String?
                    if case .success(let mappedRow?) = result,
                        case .failure(let rejection) = validator.validate(value: mappedRow.registration, expectedSource: source)
                    {
                        invalid = rejection.description
                    }
                    reads.append(CandidateRead(record: record, row: row, read: .mapped(result, key: mapped.snapshotKey(cells: cells, keys: keys), invalid: invalid)))
                case .failure(let error):
                    // Its key, if the key's own bytes decode, stays: a bad byte elsewhere withdraws no one.
                    var parts: [String] = []
                    for key in keys {
                        guard let column = mapped.column(named: key), column <= record.fields.count,
                            let text = try? SpoolIngest.decodeField(record.fields[column - 1], encoding: encoding), !text.mappingTrimmed.isEmpty
                        else { parts = []; break }
                        parts.append(text.mappingTrimmed)
                    }
                    reads.append(CandidateRead(record: record, row: row, read: .refused(
                        .init(line: record.line, column: error.column, error: error.description, raw: record.raw),
                        key: parts.isEmpty ? nil : parts.joined(separator: "\u{1F}"))))
                }
            }
            return reads
        }
        let candidateHalf = candidates.count / 2
        let candidateRows = candidates
        async let firstReads = BlockingThread.run(name: "renkei-snapshot") { readPart(candidateRows[..<candidateHalf]) }
        async let secondReads = BlockingThread.run(name: "renkei-snapshot") { readPart(candidateRows[candidateHalf...]) }
        let reads = await firstReads + secondReads
        var candidateKeys: Set<String> = []
        for read in reads {
            switch read.read {
            case .refused(_, let key?), .mapped(_, let key?, _): candidateKeys.insert(key)
            default: continue
            }
        }
        let (found, preloaded) = try await keysTask
        // A first file (nothing stored) reads no entries: a million point reads for nothing. The keys
        // read already (those of the unmatched digests: most changed rows) are not read again.
        let storeIsEmpty = set.count == 0 && found.withoutDigest.isEmpty
        var stored: [String: SnapshotEntry] = [:]
        if !candidateKeys.isEmpty, !storeIsEmpty {
            var unread: [String] = []
            for key in candidateKeys {
                if let entry = preloaded[key] { stored[key] = entry } else { unread.append(key) }
            }
            if !unread.isEmpty { stored.merge(try await loadEntries(unread)) { a, _ in a } }
        }
        /// The line of the row that had a key's stored digest (the key found unchanged there), or nil.
        func keptLine(_ key: String) -> Int? {
            guard let digest = stored[key]?.rowDigest, let entry = set.find(hex: digest), set.mark(of: entry) > 0 else { return nil }
            return set.mark(of: entry)
        }
        var mappedRows: [SnapshotRow] = []
        var kept: Set<String> = []
        var firstLine: [String: Int] = [:]
        var repeatedLater: [(line: Int, first: Int)] = []
        for candidate in reads {
            let (record, row) = (candidate.record, candidate.row)
            switch candidate.read {
            case .refused(let rejection, let key):
                rejections.append(rejection)
                if let key { kept.insert(key) }
            case .mapped(let result, let keyText, let invalid):
                func refuse(_ column: Int?, _ reason: String) {
                    rejections.append(.init(line: record.line, column: column, error: reason, raw: record.raw))
                    if let keyText { kept.insert(keyText) }
                }
                switch result {
                case .success(var mappedRow?):
                    mappedRow.rowDigest = scanned.digests[(row * 32)..<(row * 32 + 32)].hexString
                    let keptAt = keptLine(mappedRow.key)
                    if let earlier = firstLine[mappedRow.key] ?? keptAt.flatMap({ $0 < record.line ? $0 : nil }) {
                        refuse(nil, "the snapshot key repeats line \(earlier): each key once in a full file")
                        continue
                    }
                    if let invalid {
                        refuse(nil, invalid)
                        continue
                    }
                    firstLine[mappedRow.key] = record.line
                    mappedRows.append(mappedRow)
                    if let keptAt {
                        // The row found unchanged comes later: this one is the key's first, that one repeats it.
                        repeatedLater.append((keptAt, record.line))
                    }
                case .success(nil):
                    continue
                case .failure(let error):
                    refuse(error.column, error.description)
                }
            }
        }
        for (line, first) in repeatedLater {
            guard let row = Self.row(atLine: line, of: scanned),
                let record = record(row, of: scanned, in: bytes, layout: layout, widths: mapping.fixedFields.map(\.bytes))
            else { continue }
            rejections.append(.init(line: line, column: nil, error: "the snapshot key repeats line \(first): each key once in a full file", raw: record.raw))
            unchanged -= 1
        }
        // The stored digests no row had: their keys are changed (mapped or refused above) or removed.
        let (byDigest, withoutDigest) = (found.byDigest, found.withoutDigest)
        let mappedKeys = Set(mappedRows.map(\.key))
        let removed = (unmatched.compactMap { byDigest[$0] } + withoutDigest).filter { !mappedKeys.contains($0) && !kept.contains($0) }
        var removedEntries: [String: SnapshotEntry] = [:]
        var removedUnread: [String] = []
        for key in removed {
            if let entry = preloaded[key] { removedEntries[key] = entry } else { removedUnread.append(key) }
        }
        if !removedUnread.isEmpty { removedEntries.merge(try await loadEntries(removedUnread)) { a, _ in a } }
        let diff = SnapshotDiff(
            rows: mappedRows, previous: stored.merging(removedEntries) { a, _ in a }, removed: removed,
            previousCount: set.count + withoutDigest.count, rowCount: mappedRows.count + unchanged)
        timings.mapping = clock.now - mappingStart
        return .success(Outcome(diff: diff, digest: digest, mapped: candidates.count, timings: timings, rejections: rejections))
    }

    /// SHA-256 in hex of a short value (each `data` field of a mapped row, a row-digest event id): the
    /// same digest as `SpoolIngest.sha256Hex`, through the stack-held context (EVP allocated one per
    /// field, five per changed row).
    static let fieldDigest: @Sendable ([UInt8]) -> String = { bytes in
        var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
        bytes.withUnsafeBytes { input in digest.withUnsafeMutableBytes { fieldHasher.hash(input, into: $0.baseAddress!) } }
        return digest.hexString
    }

    private static let fieldHasher = SHA256.Prefixed(prefix: [UInt8]())

    /// A row left to the mapping, read: refused (with its key, if known) or mapped (with its key and,
    /// for a mapped registration the schemas refuse, why).
    struct CandidateRead: Sendable {
        enum Read: Sendable {
            case refused(SpoolIngest.RowRejection, key: String?)
            case mapped(Result<SnapshotRow?, MappedRowError>, key: String?, invalid: String?)
        }
        var record: CSVRecord
        var row: Int
        var read: Read
    }

    private static func timed<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try await body()
        return (value, clock.now - start)
    }

    /// The scan's row on `line` (rows are in line order).
    static func row(atLine line: Int, of scan: SnapshotScan) -> Int? {
        var low = 0
        var high = scan.count
        while low < high {
            let middle = (low + high) / 2
            if scan.lines[middle] < line { low = middle + 1 } else { high = middle }
        }
        return low < scan.count && scan.lines[low] == line ? low : nil
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

    /// Decodes a record's fields in the source's encoding. A CSV line without quotes is decoded whole
    /// and split on the delimiter (one converter instead of one per field: CP932's second bytes are
    /// never ASCII punctuation, so the cells are the same); anything else, or a line that does not
    /// decode, field by field, which names the field of a bad byte.
    static func decodeCells(_ record: CSVRecord, encoding: String, delimiter: UInt8? = nil) -> Result<[String], CSVRowError> {
        if let delimiter, !record.raw.contains(0x22), let text = try? SpoolIngest.decodeField(Array(record.raw), encoding: encoding) {
            let cells = text.utf8.split(separator: delimiter, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if cells.count == record.fields.count { return .success(cells) }
        }
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
