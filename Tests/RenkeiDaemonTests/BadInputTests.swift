import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// The bad-input corpus of issue 5 (`Tests/Fixtures/bad-input/`, plus a 10 MB line made here): every
/// file is taken without a crash, every refusal has a line and a reason, good lines are accepted,
/// the original is kept, and a `my_number` never appears in an error message or a log line.
@Suite("Ingest: bad-input corpus")
struct BadInputTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bad-input")

    @Test(.timeLimit(.minutes(3)))
    func theCorpusPassesThroughWithAReasonForEveryRefusal() async throws {
        let daemon = try await IngestFixture(sources: IngestCSVTests.librarySettings, push: false)
        defer { Task { await daemon.stop() } }
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { $0 != "README.md" }.sorted()
        for name in names {
            try daemon.drop([UInt8](try Data(contentsOf: Self.corpus.appendingPathComponent(name))), as: name, into: "library")
        }
        // A 10 MB line between two good ones, and a my_number inside a refused resident line.
        let big = "{\"source\":\"library\",\"event_id\":\"BIG\",\"pad\":\"" + String(repeating: "x", count: 10 << 20) + "\"}"
        let bigFile = IngestEvents.patron("B-30", subject: "L30") + "\n" + big + "\n" + IngestEvents.patron("B-31", subject: "L31") + "\n"
        try daemon.drop(Array(bigFile.utf8), as: "ten-megabyte-line.jsonl", into: "library")
        let secret = "123456789018"
        let leaking = IngestEvents.registered("R-1", subject: "A1", myNumber: secret).replacing("2026-03-01", with: "2026-13-01")
        try daemon.drop(Array((leaking + "\n").utf8), as: "my-number.jsonl", into: "library")

        for name in names + ["ten-megabyte-line.jsonl", "my-number.jsonl"] {
            #expect(await daemon.waitTaken(name, source: "library", timeout: .seconds(90)), "\(name) was not taken")
        }
        let spool = daemon.spool("library")
        func rejected(_ name: String) -> [Int64: String] {
            Dictionary(daemon.rejections(name, source: "library").map {
                ($0["line"]?.integerValue ?? 0, $0["error"]?.stringValue ?? "")
            }, uniquingKeysWith: { a, _ in a })
        }
        #expect(rejected("truncated.jsonl").keys.sorted() == [2])
        #expect(rejected("invalid-utf8.jsonl").keys.sorted() == [2])
        #expect(rejected("bom.jsonl").isEmpty)
        #expect(rejected("empty.jsonl").isEmpty)
        #expect(rejected("binary.jsonl").count >= 1)
        #expect(rejected("binary.bin").values.first?.contains("unsupported file type") == true)
        #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("rejected/binary.bin").path))
        #expect(rejected("duplicate-conflict.jsonl").keys.sorted() == [3])
        #expect(rejected("duplicate-conflict.jsonl")[3]?.contains("event_id") == true)
        #expect(rejected("other-source.jsonl").keys.sorted() == [1])
        #expect(rejected("other-source.jsonl")[1]?.contains("source") == true)
        #expect(rejected("half-written.jsonl")[2]?.contains("no line end") == true)
        #expect(rejected("bad-date.jsonl")[1]?.contains("data.birth_date") == true)
        #expect(rejected("undecodable-cp932.csv")[2]?.contains("byte offset") == true)
        #expect(daemon.rejections("undecodable-cp932.csv", source: "library").first?["column"]?.integerValue == 5)
        #expect(rejected("unclosed-quote.csv").keys.sorted() == [3])
        #expect(rejected("ten-megabyte-line.jsonl")[2]?.contains("longer than") == true)
        #expect(rejected("my-number.jsonl")[1] != nil)

        // Every refusal has a reason; every original is kept.
        for name in names + ["ten-megabyte-line.jsonl", "my-number.jsonl"] where name != "binary.bin" {
            #expect(FileManager.default.fileExists(atPath: spool.appendingPathComponent("done/\(name)").path), "\(name) not in done/")
            for entry in daemon.rejections(name, source: "library") {
                #expect((entry["error"]?.stringValue ?? "").count > 10, "\(name): \(entry)")
                #expect(entry["line"] != nil)
                #expect(entry["error"]?.stringValue?.contains(secret) != true)
            }
        }
        #expect(!daemon.logLines.contains { $0.contains(secret) }, "a log line holds the my_number")
        #expect(!(try daemon.status().serializedString.contains(secret)))

        let accepted = Set(try await daemon.loggedEvents().compactMap { $0.event.envelope["event_id"]?.stringValue })
        #expect(accepted == ["B-1", "B-3", "B-4", "B-6", "B-7", "B-9", "B-10", "B-21", "B-22", "B-30", "B-31"])
        #expect(try daemon.status()["sources"]?["library"]?["events"]?.integerValue == Int64(accepted.count))
    }
}
