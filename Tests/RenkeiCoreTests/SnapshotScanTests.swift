import Foundation
import RenkeiCore
import Testing

/// The byte-level snapshot scan (issue 16) finds exactly the rows, lines and keys the full readers
/// find, however the file is quoted or split.
@Suite("Snapshot scan: rows and keys at the byte level")
struct SnapshotScanTests {
    /// A stand-in digest that depends on every byte of the row (the daemon passes SHA-256).
    static func digest(_ row: UnsafeRawBufferPointer, _ out: UnsafeMutableRawPointer) {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in row { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        for i in 0..<32 { out.storeBytes(of: UInt8(truncatingIfNeeded: hash >> (8 * UInt64(i % 8))) ^ UInt8(i), toByteOffset: i, as: UInt8.self) }
    }

    /// Decodes as UTF-8 and trims like the mapping (spaces, tabs, U+3000).
    static func normalize(_ bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self).mappingTrimmed
        return text.isEmpty ? nil : Array(text.utf8)
    }

    static func scan(_ bytes: [UInt8], from: Int, to: Int, line: Int, layout: SnapshotScan.Layout, keys: [Range<Int>]) -> SnapshotScan {
        SnapshotScan.scan(bytes, from: from, to: to, firstLine: line, layout: layout, keyColumns: keys, normalize: normalize, digest: digest)
    }

    static let csv = Array((
        "\u{FEFF}id,name,note\r\nL1,a,x\r\n\r\n\"L2\",\"multi\nline\",y\nL3 ,x,z\n  ,empty key,z\n\"L\"\"4\",q,r\n"
            + "L5,\"bad\"x,r\n　L6　,全角,s\r\n\"\"\n\r\nL7,\"a,b\",\"c\r\nd\"\r\nL8,last,t").utf8)

    @Test func csvRowsAreTheFullReadersRows() throws {
        let records = CSVReader.records(Self.csv)
        var start = 3
        var line = 1
        let header = try #require(CSVReader.nextRecord(Self.csv, index: &start, line: &line))
        #expect(header.fields.count == 3 && records.first == header)
        let scan = Self.scan(Self.csv, from: start, to: Self.csv.count, line: line, layout: .csv(delimiter: 44), keys: [0..<1])
        let body = Array(records.dropFirst())
        #expect(scan.count == body.count)
        for (i, record) in body.enumerated() {
            #expect(scan.starts[i] == record.offset && scan.ends[i] == record.raw.endIndex && scan.lines[i] == record.line)
            #expect(scan.wellFormed[i] == (record.error == nil), "line \(record.line)")
            let key = String(decoding: record.fields[0], as: UTF8.self).mappingTrimmed
            #expect(scan.hasKey[i] == !key.isEmpty, "line \(record.line)")
            if !key.isEmpty { #expect(Array(scan.key(i)) == Array(key.utf8), "line \(record.line)") }
            var expected = [UInt8](repeating: 0, count: 32)
            Array(record.raw).withUnsafeBytes { raw in expected.withUnsafeMutableBytes { Self.digest(raw, $0.baseAddress!) } }
            #expect(Array(scan.digests[(i * 32)..<(i * 32 + 32)]) == expected, "line \(record.line)")
        }
        #expect(body.map { $0.line } == [2, 4, 6, 7, 8, 9, 10, 13, 15])
        #expect(scan.end == Self.csv.count)
    }

    @Test func halvesSplitAtAnyLineJoinToTheWholeScan() {
        var start = 3
        var line = 1
        _ = CSVReader.nextRecord(Self.csv, index: &start, line: &line)
        let whole = Self.scan(Self.csv, from: start, to: Self.csv.count, line: line, layout: .csv(delimiter: 44), keys: [0..<1])
        // Every line feed as the split, those inside quoted fields included.
        for split in Self.csv.indices where Self.csv[split] == 0x0A && split + 1 > start {
            var rows = Self.scan(Self.csv, from: start, to: split + 1, line: line, layout: .csv(delimiter: 44), keys: [0..<1])
            if rows.end == split + 1 {
                let second = Self.scan(Self.csv, from: split + 1, to: Self.csv.count, line: 1, layout: .csv(delimiter: 44), keys: [0..<1])
                rows.append(contentsOf: second, lineOffset: rows.nextLine - 1)
            } else {
                let rest = Self.scan(Self.csv, from: rows.end, to: Self.csv.count, line: rows.nextLine, layout: .csv(delimiter: 44), keys: [0..<1])
                rows.append(contentsOf: rest, lineOffset: 0)
            }
            #expect(rows.starts == whole.starts && rows.lines == whole.lines && rows.ends == whole.ends, "split at \(split)")
            #expect(rows.keyBytes == whole.keyBytes && rows.keyEnds == whole.keyEnds && rows.digests == whole.digests, "split at \(split)")
        }
    }

    @Test func fixedRecordsAreTheFixedReadersRecords() {
        // Two fields: a 4-byte key (padded) and 3 bytes; one record cut short, one blank line.
        let bytes = Array("L1  abc\r\n  L2def\nL3xy\n\n    ghi\nL4  jkl".utf8)
        let records = FixedRecordReader.records(bytes, widths: [4, 3])
        let scan = Self.scan(bytes, from: 0, to: bytes.count, line: 1, layout: .fixed(width: 7), keys: [0..<4])
        #expect(scan.count == records.count)
        #expect(scan.lines == records.map(\.line) && scan.starts == records.map(\.offset))
        #expect(scan.wellFormed == records.map { $0.error == nil })
        #expect(scan.hasKey == [true, true, false, false, true])
        #expect([0, 1, 4].map { String(decoding: scan.key($0), as: UTF8.self) } == ["L1", "L2", "L4"])
    }

    @Test func theDigestSetFindsDigestsAndIsUpdatedInOrder() throws {
        func hex(_ n: Int) -> String { String(repeating: String(format: "%02x", n % 256), count: 30) + String(format: "%04x", n) }
        let blob = SnapshotDigestSet.updated([], removing: [], adding: (0..<5000).reversed().map(hex) + ["", "r1"])
        #expect(blob.count == 5000 * 32)
        var set = SnapshotDigestSet(sorted: blob)
        #expect(set.count == 5000)
        let e42 = try #require(set.find(hex: hex(42)))
        #expect(set.find(hex: hex(5000)) == nil && set.find(hex: "") == nil)
        #expect(try #require(SnapshotDigestSet.bytes(hex: hex(7))).withUnsafeBytes { set.find($0) } != nil)
        set.mark(e42, line: 3)
        #expect(set.mark(of: e42) == 3 && set.unmatchedHex().count == 4999 && !set.unmatchedHex().contains(hex(42)))
        // Sorted, and an update keeps it sorted: 10 out, 2 in.
        let updated = SnapshotDigestSet.updated(blob, removing: (100..<110).map(hex), adding: [hex(6000), hex(6001)])
        #expect(updated.count == (5000 - 10 + 2) * 32)
        let digests = stride(from: 0, to: updated.count, by: 32).map { Array(updated[$0..<($0 + 32)]) }
        #expect(zip(digests, digests.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) })
        let after = SnapshotDigestSet(sorted: updated)
        #expect(after.find(hex: hex(105)) == nil && after.find(hex: hex(6001)) != nil && after.find(hex: hex(99)) != nil)
    }
}
