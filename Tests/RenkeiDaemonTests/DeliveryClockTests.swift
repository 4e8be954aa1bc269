import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Synchronization
import Testing

/// A delivery's retry backoff runs on the service's clock: with a manual clock the retry of a
/// delta the receiver refused with 503 is sent only when the clock is moved past its backoff.
@Suite struct DeliveryClockTests {
    @Test(.timeLimit(.minutes(2)))
    func aRetryWaitsForTheServiceClock() async throws {
        let receiver = try DeliveryReceiver { _, attempt, _ in attempt == 1 ? .status(503, headers: ["Retry-After": "30"]) : .status(204) }
        defer { receiver.stop() }
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-dc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let config: JSONValue = [
            "municipality": "131016", "state_dir": .string(root.appendingPathComponent("state").path),
            "status_socket": .string(root.appendingPathComponent("s.sock").path),
            "sources": ["resident": [:]],
            "subscriptions": [
                "crm": [
                    "url": .string(receiver.url), "fields": ["uid", "name", "address", "status"],
                    "max_attempts": 5, "timeout_s": 5, "retry_base_s": 60,
                ]
            ],
            "secrets": ["at_rest_key_file": .string(try TestKeyFile.ensure(in: root))],
        ]
        let clock = ManualClock()
        let service = try await RenkeiService(
            configuration: try Configuration(json: config, file: "test.json"),
            logger: Logger(label: "t", minimumLevel: .error, sink: LogSink { _ in }),
            deliveryQueueWindow: DeliveryService.defaultQueueWindow, clock: clock, wallClock: clock.wallClock)
        try service.start()
        let routes = StatusRoutes(service: service)
        let line = Events.registered("C-1", subject: "S1", name: "名1", address: "住所1", household: "H1") + "\n"
        let replay = await routes.handle(HTTPRequest(method: "POST", target: "/v1/replay", body: Array(line.utf8)))
        #expect(replay.status == 200)

        // The first attempt goes out at once (no clock needed) and is refused.
        #expect(await pollUntil(.seconds(30)) { receiver.requests.count == 1 })
        #expect(await pollUntil(.seconds(30)) {
            service.delivery.lanes["crm"]?.queue.withLock { $0.sending } == 0
                && service.delivery.lanes["crm"]?.lastError.withLock { $0 }?.contains("503") == true
        })
        #expect(receiver.requests.count == 1, "the clock has not moved: no retry is due")

        // Full jitter with retry_base_s 60, and Retry-After 30 as a floor: due 30-60 s after the failure.
        clock.advance(by: .seconds(61))
        #expect(await pollUntil(.seconds(30)) { receiver.delivered.count == 1 })
        #expect(receiver.requests.count == 2)
        #expect(receiver.requests.first?.id == receiver.requests.last?.id, "the same delta, sent again")
        await service.stop(deadline: .seconds(2))
    }
}
