import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiSystem

/// `renkei-bench snapshot` (issue 16): a full CP932 patron file compared with the previous day's,
/// beside a plain read-and-hash of the same file in the same run.
///
/// Measured in-process, as `SpoolIngest.planSnapshot` does it: read the file, split the CSV, decode
/// every field from CP932, digest each row; a row the same as the stored one is only keyed, the
/// others are mapped (`Deploy/mappings/library-example.json`), validated against the schemas and
/// digested per `data` field; then the diff against the previous snapshot held in memory. Not measured: reading the previous snapshot from the database and
/// committing the differences (a few thousand rows at 0.5 %).
enum SnapshotBench {
    static let options: [BenchOptions.Option] = [
        .number("--rows", default: 1_000_000, "rows in each day's file"),
        .number("--changed-per-mille", default: 5, "rows changed on the second day, per mille"),
    ]

    // CP932 bytes of the header and of the constant parts of a row.
    static let header: [UInt8] = [
        151, 152, 151, 112, 142, 210, 148, 212, 141, 134, 44, 142, 129, 150, 188, 44, 131, 74, 131, 105, 142, 129, 150, 188, 44,
        144, 182, 148, 78, 140, 142, 147, 250, 44, 144, 171, 149, 202, 44, 151, 88, 149, 214, 148, 212, 141, 134, 44, 143, 90, 143,
        138, 44, 147, 100, 152, 98, 148, 212, 141, 134, 44, 147, 111, 152, 94, 147, 250,
    ]
    static let name: [UInt8] = [142, 82, 147, 99, 129, 64, 145, 190, 152, 89]  // 山田　太郎
    static let kana: [UInt8] = [212, 207, 192, 222, 32, 192, 219, 179]  // ﾔﾏﾀﾞ ﾀﾛｳ
    static let town: [UInt8] = [144, 231, 145, 227, 147, 99, 139, 230, 139, 227, 146, 105, 147, 236]  // 千代田区九段南
    static let movedTown: [UInt8] = [144, 231, 145, 227, 147, 99, 149, 120, 142, 109, 140, 169]  // 千代田区富士見

    /// One day's file: `rows` patrons; on day 2 every `1000 / perMille`-th has moved.
    static func file(rows: Int, moved: (Int) -> Bool) -> [UInt8] {
        var bytes = header + [13, 10]
        bytes.reserveCapacity(rows * 110)
        for index in 0..<rows {
            let id = String(index + 1)
            bytes += Array(("L" + String(repeating: "0", count: max(0, 9 - id.count)) + id + ",").utf8)
            bytes += name + [44] + kana
            bytes += Array(",S60.06.12,1,102-0074,".utf8)
            bytes += moved(index) ? movedTown : town
            bytes += Array("\(index % 9 + 1)-\(index % 17 + 1)-\(index % 31 + 1),03-1234-5678,H28.04.01\r\n".utf8)
        }
        return bytes
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(bytes) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The file compared as `SpoolIngest.planSnapshot` does (before the database): rows the same byte
    /// for byte as the stored ones are only keyed; the others are mapped, validated and digested.
    static func compare(
        _ bytes: [UInt8], mapping: FileMapping, validator: EventValidator, previous: [String: SnapshotEntry]
    ) throws -> SnapshotDiff {
        let records = CSVReader.records(bytes)
        guard let first = records.first else { return SnapshotDiff(rows: [], previous: previous) }
        let header = try first.fields.map { try TextDecoder.decode($0, as: .cp932) }
        let file = try MappedFile(mapping: mapping, header: header, digest: sha256Hex)
        let mappingDigest = Array(sha256Hex(mapping.text).utf8)
        var rows: [SnapshotRow] = []
        var kept: Set<String> = []
        for record in records.dropFirst() {
            let cells = try record.fields.map { try TextDecoder.decode($0, as: .cp932) }
            let key = file.snapshotKey(cells: cells, keys: ["利用者番号"])
            let rowDigest = sha256Hex(mappingDigest + Array(record.raw))
            if let key, previous[key]?.rowDigest == rowDigest {
                kept.insert(key)
                continue
            }
            guard var row = try file.snapshotRow(cells: cells, line: record.line, keys: ["利用者番号"]).get() else { continue }
            if case .failure(let rejection) = validator.validate(value: row.registration, expectedSource: "library") {
                throw RenkeiError(.invalidEvent, "line \(record.line): \(rejection)")
            }
            row.rowDigest = rowDigest
            rows.append(row)
        }
        return SnapshotDiff(rows: rows, previous: previous, keeping: kept, rowCount: rows.count + kept.count)
    }

    static func run(_ arguments: [String]) {
        let options = BenchOptions.parseOrExit(arguments, command: "snapshot", options: Self.options)
        let rows = options.number("--rows")
        let perMille = max(1, options.number("--changed-per-mille"))
        let every = max(1, 1000 / perMille)
        do {
            let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let schemasDirectory = repository.appendingPathComponent("Schemas").path
            var files: [String: [UInt8]] = [:]
            let enumerator = FileManager.default.enumerator(atPath: schemasDirectory)
            while let path = enumerator?.nextObject() as? String {
                guard path.hasSuffix(".json") else { continue }
                files[path] = Array(try Data(contentsOf: URL(fileURLWithPath: schemasDirectory + "/" + path)))
            }
            let schemas = try SchemaSet(files: files)
            let mappingPath = repository.appendingPathComponent("Deploy/mappings/library-example.json").path
            let mapping = try FileMapping(
                text: Array(try Data(contentsOf: URL(fileURLWithPath: mappingPath))), file: mappingPath, source: "library",
                format: .csv, schemas: schemas)
            let validator = EventValidator(schemas: schemas)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-snapshot-bench-\(getpid())")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let day1 = scratch.appendingPathComponent("day1.csv")
            let day2 = scratch.appendingPathComponent("day2.csv")
            try Data(file(rows: rows) { _ in false }).write(to: day1)
            try Data(file(rows: rows) { $0 % every == 0 }).write(to: day2)

            // The previous day's snapshot, as the database would hold it (not timed).
            let first = try compare(Array(try Data(contentsOf: day1)), mapping: mapping, validator: validator, previous: [:])
            let previous = Dictionary(uniqueKeysWithValues: first.added.map {
                ($0.key, SnapshotEntry(subject: $0.subject, fields: $0.fields, rowDigest: $0.rowDigest))
            })

            let clock = ContinuousClock()
            var digest = ""
            let plain = clock.measure {
                let bytes = Array((try? Data(contentsOf: day2)) ?? Data())
                digest = sha256Hex(bytes)
            }
            var diff: SnapshotDiff?
            var thrown: (any Error)?
            let compared = clock.measure {
                do {
                    let bytes = Array(try Data(contentsOf: day2))
                    _ = sha256Hex(bytes)
                    diff = try compare(bytes, mapping: mapping, validator: validator, previous: previous)
                } catch {
                    thrown = error
                }
            }
            if let thrown { throw thrown }
            guard let diff else { return }
            let seconds = { (duration: Duration) in Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
            let size = (try? FileManager.default.attributesOfItem(atPath: day2.path)[.size] as? Int) ?? 0
            print("")
            print("rows \(rows), file \(size / 1_000_000) MB CP932, changed \(diff.changed.count), added \(diff.added.count), "
                + "removed \(diff.removed.count) (digest \(digest.prefix(12))…)")
            print("")
            print("| measure | Renkei | baseline (same run) | ratio | target |")
            print("|---|---:|---:|---:|---|")
            let ratio = seconds(plain) / max(seconds(compared), 1e-9)
            print(String(format: "| full file compared with the previous day (s) | %.2f | %.2f (read + SHA-256) | %.3f× | ≤ 10 s, ≥ 0.5× |",
                         seconds(compared), seconds(plain), ratio))
        } catch {
            FileHandle.standardError.write(Data("renkei-bench snapshot: \(error)\n".utf8))
            exit(1)
        }
    }
}
