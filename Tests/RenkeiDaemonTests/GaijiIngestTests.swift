import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// 外字 tables at ingest (issue 16): a CP932 spool file's user-defined characters are mapped per
/// source before logging, the raw text kept in the event's `gaiji` note; unmapped ones are kept and
/// counted in `/v1/status` and `/metrics`; a broken table stops start-up naming file and line.
@Suite("Ingest: 外字 tables")
struct GaijiIngestTests {
    /// F040 → 髙 (as U+E000), F041 → 𠮷 (as CP932 code); F042 (U+E002) is left unmapped.
    static let table = "# 図書館パッケージ外字\nU+E000\t髙\nF041\t𠮷\tunicode\t土よし\n"

    static func settings(_ root: URL) throws -> [String: JSONObject] {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("library-gaiji.tsv")
        try Data(table.utf8).write(to: file)
        return ["library": ["csv": ["encoding": "cp932", "columns": ["利用者番号": "subject"]], "gaiji": .string(file.path)]]
    }

    /// A CP932 CSV: header and two rows, names holding user-defined codes F040, F041 and F042.
    static func csv() -> [UInt8] {
        func cp932(_ text: String) -> [UInt8] { Array(text.data(using: .shiftJIS) ?? Data()) }
        var bytes = cp932("利用者番号,type,event_id,occurred_at,name,birth_date,address\r\n")
        bytes += cp932("L0001,library.patron_registered,L-1,2026-04-01T09:00:00+09:00,") + [0xF0, 0x40] + cp932("橋 一郎,1985-06-12,東京都千代田区1-2-3\r\n")
        bytes += cp932("L0002,library.patron_registered,L-2,2026-04-01T09:00:00+09:00,") + [0xF0, 0x41] + cp932("田 ") + [0xF0, 0x42] + cp932("子,1990-01-01,東京都千代田区4-5-6\r\n")
        return bytes
    }

    @Test(.timeLimit(.minutes(2)))
    func spoolFileIsMappedCountedAndNoted() async throws {
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-gaiji-\(UUID().uuidString.prefix(8))")
        let daemon = try await IngestFixture(root: root, sources: try Self.settings(root), push: false)
        defer { Task { await daemon.stop() } }
        #expect(try daemon.status()["sources"]?["library"]?["gaiji_unmapped"] == 0)
        #expect(try daemon.status()["sources"]?["tax"]?["gaiji_unmapped"] == nil)
        try daemon.drop(Self.csv(), as: "patrons.csv", into: "library")
        #expect(await daemon.waitTaken("patrons.csv", source: "library"))

        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(events.count == 2)
        #expect(events.first?["data"]?["name"] == "髙橋 一郎")
        #expect(events.first?["gaiji"] == ["data.name": "\u{E000}橋 一郎"])
        #expect(events.last?["data"]?["name"] == "𠮷田 \u{E002}子")
        #expect(events.last?["gaiji"] == ["data.name": "\u{E001}田 \u{E002}子"])
        let library = try daemon.status()["sources"]?["library"]
        #expect(library?["gaiji_unmapped"] == 1)
        #expect(library?["events"] == 2)

        // The same file again: the same mapping gives the same bytes, so both rows are duplicates.
        try daemon.drop(Self.csv(), as: "patrons-again.csv", into: "library")
        #expect(await daemon.waitTaken("patrons-again.csv", source: "library"))
        #expect(try daemon.status()["sources"]?["library"]?["duplicates"] == 2)
        #expect(try daemon.status()["sources"]?["library"]?["gaiji_unmapped"] == 1)

        let metrics = try await daemon.service.store.read { db in try daemon.service.metricsText(reader: db) }
        #expect(metrics.contains("renkei_source_gaiji_unmapped_total{source=\"library\"} 1\n"))
    }

    @Test(.timeLimit(.minutes(2)))
    func pushedEventsOfASourceWithoutATableAreCountedNotMapped() async throws {
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-gaiji-\(UUID().uuidString.prefix(8))")
        let daemon = try await IngestFixture(root: root, sources: try Self.settings(root), push: false)
        defer { Task { await daemon.stop() } }
        let tax = #"{"source":"tax","event_id":"T1","type":"tax.assessed","occurred_at":"2026-06-01T09:00:00+09:00","subject":"TX1","data":{"fiscal_year":2026,"taxable":true,"income_levy":1000,"per_capita_levy":5000,"name":"\uE000橋 一郎","birth_date":"1985-06-12","address":"千代田区1-2-3"}}"#
        let report = try await daemon.service.ingestor.ingest(
            Ingestor.splitLines(Array(tax.utf8)), expectedSource: "tax", provenance: Provenance(via: .push, peer: "127.0.0.1"))
        #expect(report.accepted == 1)
        let logged = try await daemon.loggedEvents().last?.event.envelope
        #expect(logged?["data"]?["name"] == "\u{E000}橋 一郎")
        #expect(logged?["gaiji"] == nil)
        #expect(try daemon.status()["sources"]?["tax"]?["gaiji_unmapped"] == 1)
        // A source may not send the daemon's own note.
        let forged = #"{"source":"library","event_id":"X1","type":"library.patron_withdrawn","occurred_at":"2026-06-01T09:00:00+09:00","subject":"L9","data":{},"gaiji":{}}"#
        let refused = try await daemon.service.ingestor.ingest(
            Ingestor.splitLines(Array(forged.utf8)), expectedSource: "library", provenance: Provenance(via: .push, peer: "127.0.0.1"))
        #expect(refused.accepted == 0 && refused.rejected.count == 1)
    }

    @Test func brokenTableStopsStartNamingFileAndLine() throws {
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-gaiji-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("bad.tsv")
        try Data("U+E000\t髙\nU+E000\t高\n".utf8).write(to: file)
        let config: JSONValue = [
            "municipality": "131016",
            "sources": ["library": ["spool": "/tmp/x", "gaiji": .string(file.path)]],
        ]
        #expect {
            _ = try Configuration(json: config, file: "renkei.json")
        } throws: { error in
            let message = (error as? RenkeiError)?.message ?? ""
            return message.contains("renkei.json: sources.library.gaiji: \(file.path) line 2: U+E000 is already mapped on line 1")
        }
        let missing: JSONValue = ["municipality": "131016", "sources": ["library": ["gaiji": "/nonexistent/gaiji.tsv"]]]
        #expect(throws: RenkeiError.self) { _ = try Configuration(json: missing, file: "renkei.json") }
    }
}
