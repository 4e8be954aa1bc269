import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem

/// A `RenkeiService` in a temp folder, driven through its real status socket (HTTP/1.1 over the
/// UNIX socket, as `curl --unix-socket` and `renkeictl` reach it), with a webhook receiver
/// subscribed to every kind, for the review and link route tests (issue 3).
final class ReviewFixture: Sendable {
    let root: URL
    let service: RenkeiService
    let receiver: DeliveryReceiver
    let client: UnixHTTPClient

    /// - Parameters:
    ///   - linking: the config's `linking` object, if any.
    ///   - root: the folder of an earlier fixture stopped with `removing: false` (a restart).
    init(linking: JSONValue? = nil, root existing: URL? = nil) async throws {
        let root = existing ?? URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-rv-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let receiver = try DeliveryReceiver()
        let socket = root.appendingPathComponent("s.sock").path
        var config: JSONObject = [
            "municipality": "131016", "state_dir": .string(root.appendingPathComponent("state").path),
            "status_socket": .string(socket),
            "sources": ["resident": [:], "library": [:], "tax": [:]],
            "secrets": ["at_rest_key_file": .string(try TestKeyFile.ensure(in: root))],
            "subscriptions": [
                "mirror": [
                    "url": .string(receiver.url), "fields": ["uid", "name", "status", "links"], "retry_base_s": .double(0.05),
                ],
            ],
        ]
        if let linking { config["linking"] = linking }
        let configuration = try Configuration(json: .object(config), file: "test.json")
        self.root = root
        self.receiver = receiver
        self.client = UnixHTTPClient(socketPath: socket, timeout: .seconds(30))
        self.service = try await RenkeiService(
            configuration: configuration, logger: Logger(label: "test", minimumLevel: .warning, sink: LogSink { _ in }))
        try service.start()
    }

    /// One request over the status socket; the reply body parsed as JSON (`.null` when it is not).
    func request(_ method: String, _ target: String, json body: String? = nil) async throws -> (status: Int, json: JSONValue) {
        let reply = try await client.send(method: method, path: target, body: Array((body ?? "").utf8))
        return (reply.status, (try? JSONParser.parse(reply.body)) ?? .null)
    }

    /// `POST /v1/replay` of envelope lines; returns how many were accepted.
    func ingest(_ lines: [String]) async throws -> Int64 {
        try await request("POST", "/v1/replay", json: lines.joined(separator: "\n") + "\n").json["accepted"]?.integerValue ?? -1
    }

    /// The open review items.
    func reviews() async throws -> [JSONValue] {
        try await request("GET", "/v1/reviews").json["reviews"]?.arrayValue ?? []
    }

    /// The uid a source record is linked to, from `GET /v1/persons?source=&subject=`.
    func uid(_ source: String, _ subject: String) async throws -> String? {
        try await request("GET", "/v1/persons?source=\(source)&subject=\(subject)").json["uid"]?.stringValue
    }

    /// The logged event at `lsn` (a decision reply's `lsn`), read from the store.
    func logged(_ lsn: Int64?) throws -> LoggedEvent? {
        guard let lsn, lsn > 0 else { return nil }
        return try EventLog.read(in: service.reader(), after: lsn - 1, limit: 1).first { $0.lsn == lsn }
    }

    /// `POST /v1/rebuild`, then waits until `/v1/status` shows it finished.
    func rebuild() async throws -> Bool {
        guard try await request("POST", "/v1/rebuild").status == 202 else { return false }
        return await wait { try await self.request("GET", "/v1/status").json["rebuild"]?.isNull == true }
    }

    /// Polls until `condition` holds or `timeout` passes.
    func wait(_ timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async -> Bool {
        await pollUntil(timeout, condition)
    }

    /// - Parameter removing: remove the folder (keep it to start another fixture on it).
    func stop(removing: Bool = true) async {
        await service.stop(deadline: .seconds(2))
        receiver.stop()
        if removing { try? FileManager.default.removeItem(at: root) }
    }
}

/// Envelope lines for the review tests: one person, 髙橋 一郎, seen by several systems.
enum ReviewEvents {
    static func line(_ source: String, _ id: String, _ type: String, subject: String, data: String) -> String {
        #"{"source":"\#(source)","event_id":"\#(id)","type":"\#(type)","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(subject)","data":\#(data)}"#
    }

    static func resident(_ atena: String, id: String, name: String = "髙橋 一郎", birth: String = "1985-06-12") -> String {
        line(
            "resident", id, "resident.registered", subject: atena,
            data: #"{"reason":"move_in","name":"\#(name)","name_kana":"タカハシ イチロウ","birth_date":"\#(birth)","sex":"male","address":"東京都千代田区九段南1丁目2番1号","household_no":"H-\#(atena)","relationship":"世帯主"}"#)
    }

    static func movedOut(_ atena: String, id: String) -> String {
        line("resident", id, "resident.moved_out", subject: atena, data: "{}")
    }

    /// Name and birth date agree, no kana, another town: a review against 髙橋 一郎, never a link.
    static func weakPatron(_ subject: String, id: String, address: String = "大阪府大阪市北区1-1") -> String {
        line(
            "library", id, "library.patron_registered", subject: subject,
            data: #"{"name":"高橋 一郎","birth_date":"1985-06-12","address":"\#(address)"}"#)
    }

    /// Everything the registry gives: links to 髙橋 一郎 automatically.
    static func fullPatron(_ subject: String, id: String) -> String {
        line(
            "library", id, "library.patron_registered", subject: subject,
            data: #"{"name":"高橋 一郎","name_kana":"ﾀｶﾊｼ ｲﾁﾛｳ","birth_date":"1985-06-12","address":"千代田区九段南１－２－１"}"#)
    }

    /// An update that makes a patron's record agree with the registry on everything.
    static func patronCompleted(_ subject: String, id: String) -> String {
        line(
            "library", id, "library.patron_updated", subject: subject,
            data: #"{"name_kana":"タカハシ イチロウ","address":"東京都千代田区九段南1丁目2番1号"}"#)
    }

    /// A tax assessment naming 宛名番号 `atena` before the registry does (it reserves a uid).
    static func tax(_ subject: String, id: String, atena: String) -> String {
        line(
            "tax", id, "tax.assessed", subject: subject,
            data: #"{"fiscal_year":2026,"taxable":true,"income_levy":100,"per_capita_levy":5000,"atena_no":"\#(atena)"}"#)
    }
}
