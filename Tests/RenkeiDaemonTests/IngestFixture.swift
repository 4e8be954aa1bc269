import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Synchronization

/// A `RenkeiService` in a temp folder with spool folders, push tokens and optional pull feeds, for
/// the ingest tests (issue 5). Log lines are kept so tests can check what never appears in one.
final class IngestFixture: Sendable {
    let root: URL
    let service: RenkeiService
    private let sink: LineSink

    /// Tokens written to each source's token file.
    static func token(_ source: String) -> String { "tok-\(source)-0123456789abcdef" }

    /// - Parameters:
    ///   - root: reuse a folder (restart); a fresh one by default.
    ///   - sources: extra per-source settings merged over `{spool, token_file}`.
    ///   - push: whether to listen on 127.0.0.1 (port chosen by the system).
    ///   - start: whether to start serving (false: the test calls `service.start()` itself).
    init(root: URL? = nil, sources: [String: JSONObject] = [:], push: Bool = true, start: Bool = true) async throws {
        let root = root ?? URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-in-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tokens"), withIntermediateDirectories: true)
        var sourceConfig = JSONObject()
        for name in ["resident", "library", "tax", "childcare"] {
            let tokenFile = root.appendingPathComponent("tokens/\(name)")
            try Data((Self.token(name) + "\n").utf8).write(to: tokenFile)
            var object: JSONObject = [
                "spool": .string(root.appendingPathComponent("spool/\(name)").path), "token_file": .string(tokenFile.path),
            ]
            for member in sources[name] ?? [:] { object[member.key] = member.value }
            sourceConfig[name] = .object(object)
        }
        var config: JSONObject = [
            "municipality": "131016", "state_dir": .string(root.appendingPathComponent("state").path),
            "status_socket": .string(root.appendingPathComponent("s.sock").path),
            "sources": .object(sourceConfig), "spool_poll_interval_s": .double(0.05),
            "secrets": ["at_rest_key_file": .string(try TestKeyFile.ensure(in: root))],
        ]
        if push { config["ingest_listen"] = "127.0.0.1:0" }
        let configuration = try Configuration(json: .object(config), file: "test.json")
        let box = LineSink()
        self.sink = box
        let logger = Logger(label: "test", minimumLevel: .debug, sink: LogSink { line in box.append(line) })
        self.root = root
        self.service = try await RenkeiService(configuration: configuration, logger: logger)
        if start { try service.start() }
    }

    final class LineSink: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    /// Every log line so far.
    var logLines: [String] { sink.lines.withLock { $0 } }

    /// The push URL of a source.
    func pushURL(_ source: String) -> String { "http://127.0.0.1:\(service.push?.boundPort ?? 0)/v1/sources/\(source)/events" }

    /// A source's spool folder.
    func spool(_ source: String) -> URL { root.appendingPathComponent("spool/\(source)") }

    /// Moves `bytes` into a spool atomically (written under a dot name, then renamed).
    func drop(_ bytes: [UInt8], as name: String, into source: String) throws {
        let hidden = spool(source).appendingPathComponent(".\(name).part")
        try Data(bytes).write(to: hidden)
        try FileManager.default.moveItem(at: hidden, to: spool(source).appendingPathComponent(name))
    }

    /// Waits until `name` has left the spool (to done/ or rejected/).
    func waitTaken(_ name: String, source: String, timeout: Duration = .seconds(60)) async -> Bool {
        await wait(timeout) { !FileManager.default.fileExists(atPath: self.spool(source).appendingPathComponent(name).path) }
    }

    /// The lines of `rejected/<name>.errors.jsonl`, parsed.
    func rejections(_ name: String, source: String) -> [JSONValue] {
        let path = spool(source).appendingPathComponent("rejected/\(name).errors.jsonl").path
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
    }

    /// Every logged event.
    func loggedEvents() async throws -> [LoggedEvent] {
        try await service.writer.perform { db in try EventLog.read(in: db, after: 0, limit: 1_000_000) }
    }

    /// `/v1/status` as JSON.
    func status() throws -> JSONValue { try service.statusJSON() }

    /// Polls until `condition` holds or `timeout` passes.
    func wait(_ timeout: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool) async -> Bool {
        await pollUntil(timeout, condition)
    }

    func stop(removing: Bool = true) async {
        await service.stop(deadline: .seconds(2))
        if removing { try? FileManager.default.removeItem(at: root) }
    }
}

/// Envelope lines for the ingest tests.
enum IngestEvents {
    static func patron(_ id: String, subject: String, name: String = "山田 太郎", source: String = "library") -> String {
        #"{"source":"\#(source)","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(subject)","data":{"name":"\#(name)","birth_date":"1980-01-01","address":"東京都千代田区1-1"}}"#
    }

    static func registered(_ id: String, subject: String, myNumber: String? = nil) -> String {
        let extra = myNumber.map { #","my_number":"\#($0)""# } ?? ""
        return #"{"source":"resident","event_id":"\#(id)","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(subject)","data":{"reason":"birth","name":"山田 花子","birth_date":"2026-03-01","sex":"female","address":"東京都千代田区1-1","household_no":"H1","relationship":"子"\#(extra)}}"#
    }
}

/// Runs a process (curl, python3) without blocking a cooperative thread (the daemon under test
/// needs them to answer); returns its exit status and standard output. Outputs must stay small.
func runProcess(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    // No readabilityHandler: its dispatch source, cancelled around the pipe's close, once crashed
    // libdispatch's event loop in another test's thread under load (ops/test-under-load). The
    // output (small: at most a pipe's buffer) is read once the process has ended.
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
        do {
            try process.run()
        } catch {
            continuation.resume(throwing: error)
            return
        }
        if let stdin {
            let writer = input.fileHandleForWriting
            Thread.detachNewThread {
                writer.write(Data(stdin))
                try? writer.close()
            }
        }
    }
    let bytes = output.fileHandleForReading.readDataToEndOfFile()
    return (status, String(decoding: bytes, as: UTF8.self))
}
