import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Synchronization

/// A `RenkeiService` run in-process in a temp folder, driven through its status routes (no socket),
/// for delivery tests. Every log line is kept, so tests can check what never appears in one.
final class DeliveryFixture: Sendable {
    let root: URL
    let service: RenkeiService
    let routes: StatusRoutes
    private let lines: LineBox

    final class LineBox: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// - Parameters:
    ///   - subscriptions: the config's `subscriptions` object.
    ///   - root: an existing fixture's folder, to start a new daemon on its state (a restart).
    ///   - queueWindow: how many undelivered deltas a lane holds in memory (see `DeliveryService.defaultQueueWindow`).
    init(
        subscriptions: JSONObject, sources: [String] = ["resident", "library", "tax"], root: URL? = nil,
        queueWindow: Int = DeliveryService.defaultQueueWindow
    ) async throws {
        let root = root ?? URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-dt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var sourceConfig = JSONObject()
        for source in sources { sourceConfig[source] = .object([:]) }
        let config: JSONValue = [
            "municipality": "131016", "state_dir": .string(root.appendingPathComponent("state").path),
            "status_socket": .string(root.appendingPathComponent("s.sock").path),
            "sources": .object(sourceConfig), "subscriptions": .object(subscriptions),
            "secrets": ["at_rest_key_file": .string(try TestKeyFile.ensure(in: root))],
        ]
        let configuration = try Configuration(json: config, file: "test.json")
        let lines = LineBox()
        let logger = Logger(label: "test", minimumLevel: .debug, sink: LogSink { line in lines.lines.withLock { $0.append(line) } })
        self.lines = lines
        self.root = root
        self.service = try await RenkeiService(configuration: configuration, logger: logger, deliveryQueueWindow: queueWindow)
        self.routes = StatusRoutes(service: service)
        try service.start()
    }

    /// Every log line so far.
    var logLines: [String] { lines.lines.withLock { $0 } }

    /// One status-socket request, answered in-process.
    func request(_ method: String, _ target: String, body: [UInt8] = []) async -> (status: Int, json: JSONValue) {
        let response = await routes.handle(HTTPRequest(method: method, target: target, body: body))
        return (response.status, (try? JSONParser.parse(response.body)) ?? .null)
    }

    /// `POST /v1/replay` of envelope lines; returns how many were accepted.
    @discardableResult
    func ingest(_ lines: [String]) async -> Int64 {
        let reply = await request("POST", "/v1/replay", body: Array((lines.joined(separator: "\n") + "\n").utf8))
        return reply.json["accepted"]?.integerValue ?? -1
    }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func wait(_ timeout: Duration = .seconds(20), _ condition: @Sendable () async -> Bool) async -> Bool {
        await pollUntil(timeout, condition)
    }

    /// The subscription's counts from `/v1/status`.
    func counts(_ subscription: String) async -> JSONValue {
        await request("GET", "/v1/status").json["subscriptions"]?[subscription] ?? .null
    }

    /// Whether the subscriptions have nothing pending or in flight.
    func idle(_ subscriptions: [String]) async -> Bool {
        let status = await request("GET", "/v1/status").json["subscriptions"]
        return subscriptions.allSatisfy { name in
            status?[name]?["in_flight"]?.integerValue == 0
                && status?[name]?["backlog"]?.integerValue == status?[name]?["dead_letters"]?.integerValue
        }
    }

    /// ``plannedDeltas(_:)`` of each subscription, from one `/v1/status`.
    func plannedDeltaCounts(_ subscriptions: [String]) async -> [Int64] {
        let status = await request("GET", "/v1/status").json["subscriptions"]
        return subscriptions.map { plannedDeltas(status?[$0]) }
    }

    /// Stops the daemon; `keepingState` leaves its folder for a restart.
    func stop(keepingState: Bool = false) async {
        await service.stop(deadline: .seconds(2))
        if !keepingState { try? FileManager.default.removeItem(at: root) }
    }
}

// MARK: - Events

enum Events {
    static func line(
        _ eventID: String, _ type: String, subject: String, source: String = "resident", data: JSONObject
    ) -> String {
        JSONValue.object([
            "source": .string(source), "event_id": .string(eventID), "type": .string(type),
            "occurred_at": "2026-04-01T09:00:00+09:00", "subject": .string(subject), "data": .object(data),
        ]).serializedString
    }

    static func registered(_ eventID: String, subject: String, name: String, address: String, household: String) -> String {
        line(
            eventID, "resident.registered", subject: subject,
            data: [
                "reason": "move_in", "name": .string(name), "name_kana": "テスト", "birth_date": "1980-01-01",
                "sex": "unknown", "address": .string(address), "postal_code": "102-0074",
                "household_no": .string(household), "relationship": "世帯主",
            ])
    }

    static func moved(_ eventID: String, subject: String, address: String) -> String {
        line(eventID, "resident.moved", subject: subject, data: ["address": .string(address), "postal_code": "100-0001"])
    }

    static func renamed(_ eventID: String, subject: String, name: String) -> String {
        line(eventID, "resident.name_changed", subject: subject, data: ["name": .string(name)])
    }

    static func protection(_ eventID: String, subject: String, _ protected: Bool) -> String {
        line(eventID, "resident.protection_changed", subject: subject, data: ["protected": .bool(protected)])
    }
}

/// Checks per uid that deliveries (first 2xx of each id) come in version order and that each
/// `prev_version` names the previous delivered version; returns the problems found.
func chainProblems(_ delivered: [DeliveryReceiver.Request], skipped: Set<String> = []) -> [String] {
    var problems: [String] = []
    var last: [String: Int64] = [:]
    var seen = Set<String>()
    for request in delivered where seen.insert(request.id).inserted {
        let delta = request.json
        let key = delta["uid"]?.stringValue ?? delta["household_no"]?.stringValue ?? "?"
        let version = delta["version"]?.integerValue ?? -1
        let prev = delta["prev_version"]?.integerValue
        if let before = last[key] {
            if version <= before { problems.append("\(key): version \(version) after \(before)") }
            if prev != before && !skipped.contains("\(delta["subscription"]?.stringValue ?? ""):\(key):\(prev ?? -1)") {
                problems.append("\(key): v\(version) prev_version \(prev.map(String.init) ?? "none"), last delivered \(before)")
            }
        } else if prev != nil && !skipped.contains("\(delta["subscription"]?.stringValue ?? ""):\(key):\(prev ?? -1)") {
            problems.append("\(key): first delivered v\(version) has prev_version \(prev!)")
        }
        last[key] = version
    }
    return problems
}
