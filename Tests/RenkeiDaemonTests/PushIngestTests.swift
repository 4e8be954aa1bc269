import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// HTTP push on `ingest_listen` (contract §6), driven by `curl`.
@Suite("Ingest: HTTP push", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
struct PushIngestTests {
    /// `curl` POST; returns the HTTP status and the parsed body.
    func push(_ url: String, token: String?, body: [UInt8], contentType: String = "application/x-ndjson",
              method: String = "POST") async throws -> (status: Int, json: JSONValue) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20", "-X", method,
                         "-H", "Content-Type: \(contentType)", "--data-binary", "@-", url]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let (_, output) = try await runProcess("/usr/bin/curl", arguments, stdin: body)
        let parts = output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(parts.last ?? "") ?? 0
        let json = (try? JSONParser.parse(parts.dropLast().joined(separator: "\n"))) ?? .null
        return (status, json)
    }

    @Test(.timeLimit(.minutes(2)))
    func statusCodesAndCounts() async throws {
        let daemon = try await IngestFixture()
        defer { Task { await daemon.stop() } }
        let url = daemon.pushURL("library")
        let good = IngestEvents.patron("P-1", subject: "L1") + "\n" + IngestEvents.patron("P-2", subject: "L2") + "\n"
            + IngestEvents.patron("P-1", subject: "L1") + "\n" + "{\"truncated\n"
            + IngestEvents.patron("R-1", subject: "X", source: "resident") + "\n"

        let ok = try await push(url, token: IngestFixture.token("library"), body: Array(good.utf8))
        #expect(ok.status == 200)
        #expect(ok.json["accepted"] == 2)
        #expect(ok.json["duplicates"] == 1)
        let rejected = ok.json["rejected"]?.arrayValue ?? []
        #expect(rejected.map { $0["line"]?.integerValue ?? 0 } == [4, 5])
        #expect(rejected.last?["error"]?.stringValue?.contains("source") == true)
        // The reply came after the durable commit: the events are in the log now.
        #expect(try await daemon.loggedEvents().count == 2)

        let array = "[" + IngestEvents.patron("P-3", subject: "L3") + "]"
        let arrayReply = try await push(url, token: IngestFixture.token("library"), body: Array(array.utf8), contentType: "text/plain")
        #expect(arrayReply.status == 200)
        #expect(arrayReply.json["accepted"] == 1)

        #expect(try await push(url, token: "wrong", body: Array(good.utf8)).status == 401)
        #expect(try await push(url, token: nil, body: Array(good.utf8)).status == 401)
        let foreign = try await push(url, token: IngestFixture.token("resident"), body: Array(good.utf8))
        #expect(foreign.status == 403)
        #expect(foreign.json["error"]?.stringValue != nil)
        #expect(try await push(daemon.pushURL("nosuch"), token: IngestFixture.token("library"), body: [0x7B]).status == 404)
        #expect(try await push(url, token: IngestFixture.token("library"), body: [], method: "PUT").status == 405)
        #expect(try await push(url, token: IngestFixture.token("library"), body: Array("hello, world\nnot json".utf8)).status == 400)
        #expect(try await push(url, token: IngestFixture.token("library"), body: Array("[1, 2".utf8)).status == 400)
        #expect(try await daemon.loggedEvents().count == 3)
        let status = try daemon.status()["sources"]?["library"]
        #expect(status?["events"]?.integerValue == 3)
    }

    @Test(.timeLimit(.minutes(2)))
    func oversizedBodyIs413() async throws {
        let ingest = try await StandalonePush(limits: HTTPServerLimits(maxBodyBytes: 64 * 1024))
        defer { Task { await ingest.stop() } }
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 200 * 1024)
        let reply = try await push(ingest.url("library"), token: IngestFixture.token("library"), body: body)
        #expect(reply.status == 413)
        #expect(reply.json["error"]?.stringValue != nil)
    }

    @Test(.timeLimit(.minutes(2)))
    func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        let daemon = try await IngestFixture()
        defer { Task { await daemon.stop() } }
        let url = daemon.pushURL("library")
        let first = Array(IngestEvents.patron("K-1", subject: "L1").utf8)
        let file = daemon.root.appendingPathComponent("k.jsonl")
        try Data(first).write(to: file)
        // Two URLs in one curl run reuse the connection ("Re-using existing connection" in -v, on stdout here).
        let (_, text) = try await runProcess("/bin/sh", ["-c", "/usr/bin/curl -sv --max-time 20 -o /dev/null -H 'Authorization: Bearer \(IngestFixture.token("library"))' --data-binary @\(file.path) \(url) \(url) 2>&1"])
        #expect(text.lowercased().contains("re-using existing connection") || text.lowercased().contains("reusing existing"))
        #expect(try await daemon.loggedEvents().count == 1)
    }

    /// A client that sends its headers one byte a second is cut off (408) once the header timeout
    /// passes — here the daemon's own listener with its default 10 s.
    @Test(.timeLimit(.minutes(2)))
    func slowHeadersAreCutOff() async throws {
        let daemon = try await IngestFixture()
        defer { Task { await daemon.stop() } }
        let port = try #require(daemon.service.push?.boundPort)
        let (_, output) = try await runProcess("/usr/bin/python3", ["-c", Self.dribbler, String(port)])
        let parts = output.split(separator: " ", maxSplits: 2)
        #expect(parts.first == "reply", "\(output)")
        let seconds = Double(parts.count > 1 ? parts[1] : "") ?? 99
        // Not before the 10 s limit; the upper bound only says "not never" on a loaded machine.
        #expect(seconds >= 9 && seconds < 60, "cut off after \(seconds) s")
        #expect(output.contains("408"))
    }

    /// Sends a request head one byte a second (at most 40 bytes) and reports when the server answered.
    static let dribbler = """
        import socket, sys, time
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        s.settimeout(1.0)
        t0 = time.time()
        data = b"POST /v1/sources/library/events HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: " + b"a" * 100
        for b in data[:40]:
            try:
                s.send(bytes([b]))
                r = s.recv(4096)
                print("reply", round(time.time() - t0, 1), r[:40]); sys.exit(0)
            except socket.timeout:
                pass
            except OSError as e:
                print("closed", round(time.time() - t0, 1), e); sys.exit(0)
        print("none", round(time.time() - t0, 1))
        """
}

/// A push listener over a bare log writer with chosen limits (no full daemon).
final class StandalonePush: Sendable {
    let push: PushIngest
    let root: URL
    let writer: LogWriter

    init(limits: HTTPServerLimits, tls: Configuration.IngestTLS? = nil) async throws {
        root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-push-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let tokenFile = root.appendingPathComponent("token").path
        try Data(IngestFixture.token("library").utf8).write(to: URL(fileURLWithPath: tokenFile))
        writer = try LogWriter(path: root.appendingPathComponent("log.db").path)
        let schemas = try RenkeiService.loadSchemas(from: Configuration.resolveSchemasDirectory(nil))
        let logger = Logger(label: "test", minimumLevel: .error, sink: LogSink { _ in })
        let ingestor = Ingestor(
            validator: EventValidator(schemas: schemas), writer: writer, statistics: SourceStatistics(sources: ["library"]),
            configuredSources: ["library"], vault: TestKeyFile.vault(), logger: logger)
        let source = Configuration.Source(name: "library", spool: nil, tokenFile: tokenFile, csv: nil, pull: nil)
        push = try PushIngest(listen: "127.0.0.1:0", sources: [source], ingestor: ingestor, limits: limits, tls: tls, logger: logger)
        try push.start()
    }

    func url(_ source: String, scheme: String = "http") -> String {
        "\(scheme)://127.0.0.1:\(push.boundPort ?? 0)/v1/sources/\(source)/events"
    }

    /// The events in the log.
    func loggedEvents() async throws -> [LoggedEvent] {
        try await writer.perform { db in try EventLog.read(in: db, after: 0, limit: 1_000_000) }
    }

    func stop() async {
        await push.stop(deadline: .seconds(1))
        await writer.close()
        try? FileManager.default.removeItem(at: root)
    }
}
