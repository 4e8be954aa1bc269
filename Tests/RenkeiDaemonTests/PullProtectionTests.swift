import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Synchronization
import Testing

/// Issue 13, pull: refused events of a pulled page land in `rejected/` with their reason and are
/// counted; the feed is asked with headers read from files; a URL with credentials is refused.
@Suite("Ingest: HTTP pull protection")
struct PullProtectionTests {
    static func tax(_ index: Int, valid: Bool = true) -> JSONValue {
        var data: JSONObject = [
            "fiscal_year": 2026, "taxable": true, "income_levy": 1000, "per_capita_levy": 5000,
            "atena_no": .string(String(100 + index)),
        ]
        if !valid { data["fiscal_year"] = "this year" }
        return [
            "source": "tax", "event_id": .string("TX-\(index)"), "type": "tax.assessed",
            "occurred_at": "2026-06-01T09:00:00+09:00", "subject": .string("N\(index)"), "data": .object(data),
        ]
    }

    @Test(.timeLimit(.minutes(2)))
    func aBadEventIsRejectedWithItsReasonAndTheHeaderComesFromItsFile() async throws {
        let authorizations = Mutex<[String?]>([])
        let feed = HTTPServer(
            address: .tcp(host: "127.0.0.1", port: 0), logger: Logger(label: "feed", minimumLevel: .error, sink: LogSink { _ in }),
            handlerExecutor: DispatchTaskExecutor(label: "pull-feed"),
            handler: { request in
                authorizations.withLock { $0.append(request.headers["Authorization"]) }
                guard (request.query["after"] ?? "").isEmpty else { return .json(200, ["events": [], "next_cursor": "3"]) }
                return .json(200, ["events": [Self.tax(1), Self.tax(2, valid: false), Self.tax(3)], "next_cursor": "3"])
            })
        try feed.start()
        defer { Task { await feed.stop(deadline: .seconds(1)) } }
        let secrets = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-pullsecret-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: secrets) }
        try Data("Bearer pull-token-4711\n".utf8).write(to: secrets)
        let pull: JSONObject = [
            "url": .string("http://127.0.0.1:\(feed.boundPort ?? 0)/changes"), "interval_s": .double(0.1),
            "headers": ["Authorization": ["file": .string(secrets.path)]],
        ]
        // No spool for tax: its refused events go to <state_dir>/rejected/tax/.
        let fixture = try await IngestFixture(sources: ["tax": ["pull": .object(pull), "spool": .null]], push: false)
        defer { Task { await fixture.stop() } }
        let folder = fixture.root.appendingPathComponent("state/rejected/tax")

        let settled = await fixture.wait(.seconds(60)) {
            try await fixture.loggedEvents().count == 2 && fixture.status()["sources"]?["tax"]?["pull"]?["cursor"] == "3"
        }
        #expect(settled)
        let ids = try await fixture.loggedEvents().compactMap { $0.event.envelope["event_id"]?.stringValue }
        #expect(ids == ["TX-1", "TX-3"])
        #expect(try fixture.status()["sources"]?["tax"]?["rejected"]?.integerValue == 1)
        let sent = authorizations.withLock { $0 }
        #expect(!sent.isEmpty && sent.allSatisfy { $0 == "Bearer pull-token-4711" }, "\(sent)")
        #expect(!fixture.logLines.contains { $0.contains("pull-token-4711") })

        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".errors.jsonl") }
        #expect(files.count == 1 && files.first?.hasPrefix("pull-") == true, "\(files)")
        let data = try #require(FileManager.default.contents(atPath: folder.appendingPathComponent(files.first ?? "").path))
        let entries = data.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
        #expect(entries.count == 1)
        #expect(entries.first?["line"]?.integerValue == 2)
        #expect(entries.first?["error"]?.stringValue?.contains("fiscal_year") == true, "\(entries)")
        #expect(entries.first?["raw"]?.stringValue?.contains("\"TX-2\"") == true)
        #expect(entries.first?["url"]?.stringValue?.hasSuffix("/changes") == true)

    }

    static func configuration(pullURL: String) throws(RenkeiError) -> Configuration {
        try Configuration(
            json: ["municipality": "131016", "sources": ["tax": ["pull": ["url": .string(pullURL)]]]], file: "renkei.json")
    }

    @Test(arguments: [
        "https://feed-user:s3cret-pw@tax.example.jp/changes", "http://token-only@tax.example.jp/changes",
        "https://u:p@tax.example.jp", "https://u:p@tax.example.jp?after=0",
    ])
    func aURLWithCredentialsIsRefusedWithoutQuotingIt(url: String) throws {
        do {
            _ = try Self.configuration(pullURL: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.hasPrefix("renkei.json: sources.tax.pull.url: holds credentials"), "\(error.message)")
            #expect(error.message.contains("headers"))
            #expect(!error.message.contains("@tax.example.jp") && !error.message.contains("s3cret"), "\(error.message)")
        }
    }

    @Test func aURLWithoutCredentialsIsAccepted() throws {
        let pull = try #require(try Self.configuration(pullURL: "https://tax.example.jp/changes?from=a@b").sources["tax"]?.pull)
        #expect(pull.url == "https://tax.example.jp/changes?from=a@b")
        #expect(pull.intervalSeconds == 30)
        #expect(pull.headers.isEmpty)
    }

    @Test func aReloadWithCredentialsInThePullURLIsRefused() throws {
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-pullreload-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        func config(_ url: String) -> JSONValue {
            [
                "municipality": "131016", "state_dir": .string(root.appendingPathComponent("state").path),
                "sources": ["tax": ["pull": ["url": .string(url)]]],
            ]
        }
        let file = root.appendingPathComponent("renkei.json")
        try Data(config("https://tax.example.jp/changes").serializedBytes).write(to: file)
        let current = try Configuration.load(path: file.path)
        try Data(config("https://user:pw@tax.example.jp/changes").serializedBytes).write(to: file)
        #expect {
            _ = try RenkeiService.loadForReload(path: file.path, current: current)
        } throws: { error in
            let message = (error as? RenkeiError)?.message ?? ""
            return message.contains("sources.tax.pull.url: holds credentials") && !message.contains("pw@")
        }
    }
}
