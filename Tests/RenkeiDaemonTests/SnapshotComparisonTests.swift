import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Synchronization
import Testing

/// The byte-level snapshot comparison (issue 16) on a file large enough to be scanned in two halves,
/// with quoted line breaks around the split: the differences are exactly the ones made to the file.
@Suite("Snapshot comparison at the byte level")
struct SnapshotComparisonTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func schemas() throws -> SchemaSet {
        let directory = repository.appendingPathComponent("Schemas").path
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".json") else { continue }
            files[path] = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + path)))
        }
        return try SchemaSet(files: files)
    }

    /// One patron row; `phone` (a column the mapping ignores) may hold a line break, then it is quoted.
    static func row(_ n: Int, address: String = "千代田区九段南１－２－１", phone: String = "03-1234-5678") -> String {
        let quoted = phone.contains("\n") ? "\"\(phone)\"" : phone
        return "L\(String(format: "%06d", n)),山田　太郎,ﾔﾏﾀﾞ ﾀﾛｳ,S60.06.12,1,102-0074,\(address),\(quoted),H28.04.01"
    }

    static let header = "利用者番号,氏名,カナ氏名,生年月日,性別,郵便番号,住所,電話番号,登録日"

    func compare(_ text: [UInt8], previous: [SnapshotRow], mapping: FileMapping, validator: EventValidator) async throws -> SnapshotComparison.Outcome {
        var entries: [String: SnapshotEntry] = [:]
        var keyOf: [String: String] = [:]
        for row in previous {
            entries[row.key] = SnapshotEntry(subject: row.subject, fields: row.fields, rowDigest: row.rowDigest)
            keyOf[row.rowDigest] = row.key
        }
        let set = SnapshotDigestSet(sorted: SnapshotDigestSet.updated([], removing: [], adding: previous.map(\.rowDigest)))
        let all = entries
        let keys = keyOf
        let result = try await SnapshotComparison.compare(
            text, source: "library", mapping: mapping, encoding: "utf-8", keys: ["利用者番号"], validator: validator,
            loadSet: { set }, loadKeys: { digests in Snapshots.DigestKeys(byDigest: keys.filter { digests.contains($0.key) }, withoutDigest: []) },
            loadEntries: { wanted in all.filter { wanted.contains($0.key) } })
        return try result.get()
    }

    @Test(.timeLimit(.minutes(3)))
    func aLargeFileGivesExactlyItsDifferences() async throws {
        let schemas = try Self.schemas()
        let path = Self.repository.appendingPathComponent("Deploy/mappings/library-example.json").path
        let mapping = try FileMapping(text: Array(try Data(contentsOf: URL(fileURLWithPath: path))), file: path, source: "library",
                                      format: .csv, schemas: schemas)
        let validator = EventValidator(schemas: schemas)
        let count = 14_000  // over 1 MiB: two halves
        // Quoted line breaks on every row around the middle, so that some split falls inside one.
        func phone(_ n: Int) -> String { abs(n - count / 2) < 40 ? "03-1234\n5678" : "03-1234-5678" }
        let night1 = ([Self.header] + (1...count).map { Self.row($0, phone: phone($0)) }).joined(separator: "\r\n") + "\r\n"
        #expect(night1.utf8.count > 1 << 20)
        let first = try await compare(Array(night1.utf8), previous: [], mapping: mapping, validator: validator)
        #expect(first.diff.added.count == count && first.diff.rows == count && first.rejections.isEmpty)
        #expect(first.diff.added.first { $0.key == "L007000" }?.line == 7001 + 39)  // 39 quoted breaks before it

        // Night 2: 30 moved (one in the quoted middle), 5 gone, 3 new, one with a byte that is not
        // UTF-8 (refused, its key kept), one key repeated (refused).
        let moved = Set(stride(from: 7, to: count, by: 467))
        let gone = Set([2, 5_000, 6_999, 7_001, count])
        var lines = [Self.header]
        for n in 1...count where !gone.contains(n) {
            lines.append(moved.contains(n) ? Self.row(n, address: "千代田区富士見２－１０－２", phone: phone(n)) : Self.row(n, phone: phone(n)))
        }
        lines.append(contentsOf: (count + 1...count + 3).map { Self.row($0) })
        lines.append(Self.row(3))
        var bytes = Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
        let bad = Array(Self.row(11).utf8)
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: bad) })
        bytes[at + 9] = 0xFF  // in 氏名
        let second = try await compare(bytes, previous: first.diff.added, mapping: mapping, validator: validator)
        #expect(second.diff.changed.count == moved.count)
        #expect(Set(second.diff.changed.map(\.row.key)) == Set(moved.map { "L" + String(format: "%06d", $0) }))
        #expect(second.diff.changed.allSatisfy { $0.fields == ["address"] })
        #expect(second.diff.added.map(\.key) == (count + 1...count + 3).map { "L" + String(format: "%06d", $0) })
        #expect(second.diff.removed.map(\.key) == gone.sorted().map { "L" + String(format: "%06d", $0) })
        let breaksBefore = lines.dropLast().filter { $0.contains("\n") }.count
        #expect(breaksBefore == 77)
        #expect(second.rejections.map(\.line).sorted() == [11, lines.count + breaksBefore])
        #expect(second.rejections.contains { $0.error.contains("repeats line 3") })
        #expect(second.mapped == moved.count + 3 + 2)
        #expect(second.diff.rows == count - gone.count - 1 + 3)  // the refused row is not counted
    }
}

extension SnapshotComparisonTests {
    @Test func theFieldDigestIsSHA256() {
        for text in ["", "abc", String(repeating: "千代田区", count: 40)] {
            #expect(SnapshotComparison.fieldDigest(Array(text.utf8)) == SpoolIngest.sha256Hex(Array(text.utf8)))
        }
        #expect(SnapshotComparison.fieldDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

extension SnapshotComparisonTests {
    /// The byte-level path plans what decoding every row planned (the path a format it does not read
    /// still takes): the vendor's two nights, each applied before the next.
    @Test(.timeLimit(.minutes(3)))
    func theByteLevelPathPlansWhatDecodingEveryRowPlans() async throws {
        let daemon = try await IngestFixture(sources: IngestSnapshotTests.settings, push: false, start: false)
        defer { Task { await daemon.stop() } }
        let spool = daemon.service.spool
        let files = try #require(spool.files["library"] ?? nil)
        let mapping = try #require(spool.mappings.withLock { $0["library"] })
        let keys = try #require(files.snapshotKey)
        for name in ["library-patrons-20261130.csv", "library-patrons-20261201.csv", "library-patrons-20261202-truncated.csv"] {
            let bytes = [UInt8](try Data(contentsOf: IngestSnapshotTests.vendor.appendingPathComponent(name)))
            let at = "2026-12-02T01:00:00+09:00"
            let fast = try await spool.planSnapshot(bytes, source: "library", mapping: mapping, files: files, keys: keys, at: at).get()
            let full = try await spool.planSnapshotDecoded(bytes, source: "library", mapping: mapping, files: files, keys: keys, at: at).get()
            #expect(fast.digest == full.digest, "\(name)")
            #expect(fast.events.map { Array($0.bytes) } == full.events.map { Array($0.bytes) }, "\(name)")
            #expect(fast.events.map(\.number) == full.events.map(\.number), "\(name)")
            #expect(fast.rejections.map(\.line) == full.rejections.map(\.line), "\(name)")
            #expect(fast.diff.rows == full.diff.rows && fast.diff.previousCount == full.diff.previousCount, "\(name)")
            #expect(fast.diff.removed.map(\.key) == full.diff.removed.map(\.key), "\(name)")
            _ = try await spool.applySnapshot(fast, name: name, source: "library", state: .applied, heldRun: nil)
        }
        #expect(try await daemon.loggedEvents().count == 5 + 4 + 3)
    }
}
