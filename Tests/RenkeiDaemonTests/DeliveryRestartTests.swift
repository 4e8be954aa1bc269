import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Synchronization
import Testing

/// A restart rebuilds each lane's in-memory queue from the outbox: a delta still retrying goes
/// again with the same id and body, a dead letter still blocks its uid, nothing that got a 2xx is
/// sent again, and the chains continue.
@Suite("Delivery across a restart", .serialized)
struct DeliveryRestartTests {
    static func uid(_ n: Int) -> String { "U000000000\(n)" }

    @Test(.timeLimit(.minutes(2)))
    func queueComesBackFromTheOutbox() async throws {
        let failing = Atomic<Bool>(true)
        let receiver = try DeliveryReceiver { _, _, body in
            let uid = body["uid"]?.stringValue ?? ""
            let name = body["view"]?["name"]?.stringValue ?? ""
            if uid == Self.uid(2), failing.load(ordering: .relaxed) { return .status(503) }
            if uid == Self.uid(3), name.hasSuffix("-r1"), failing.load(ordering: .relaxed) { return .status(400) }
            return .status(204)
        }
        defer { receiver.stop() }
        let subscriptions: JSONObject = [
            "restart": [
                "url": .string(receiver.url), "fields": ["uid", "name", "status"], "max_in_flight": 4,
                "max_attempts": 50, "retry_base_s": .double(0.02),
            ]
        ]
        let first = try await DeliveryFixture(subscriptions: subscriptions)
        var lines: [String] = []
        for n in 1...3 {
            lines.append(Events.registered("R-\(n)", subject: "S\(n)", name: "名\(n)", address: "住所\(n)", household: "H\(n)"))
        }
        for n in 1...3 { lines.append(Events.renamed("R-\(n)-r1", subject: "S\(n)", name: "名\(n)-r1")) }
        for n in 1...3 { lines.append(Events.renamed("R-\(n)-r2", subject: "S\(n)", name: "名\(n)-r2")) }
        #expect(await first.ingest(lines) == 9)

        // U1: all three delivered; U2: its first delta retried at least twice; U3: created, then dead.
        let before = await first.wait {
            let requests = receiver.requests
            let letters = await first.request("GET", "/v1/dead-letters").json["dead_letters"]?.arrayValue ?? []
            return requests.filter { $0.json["uid"]?.stringValue == Self.uid(1) && $0.delivered }.count == 3
                && requests.filter { $0.json["uid"]?.stringValue == Self.uid(2) }.count >= 2
                && letters.count == 1
        }
        #expect(before, "\(receiver.requests.map { "\($0.id) \($0.action)" })")
        await first.stop(keepingState: true)
        let deliveredBefore = Set(receiver.delivered.map(\.id))
        let countBefore = receiver.requests.count
        failing.store(false, ordering: .relaxed)

        let second = try await DeliveryFixture(subscriptions: subscriptions, root: first.root)
        let u2Done = await second.wait { receiver.delivered.filter { $0.json["uid"]?.stringValue == Self.uid(2) }.count == 3 }
        #expect(u2Done, "\(receiver.requests.dropFirst(countBefore).map { "\($0.id) \($0.action)" })")
        // The lane at rest: nothing in flight, and the backlog is U3's last two deltas (the dead letter
        // and the one behind it), every other delta's outcome recorded. The lane has gone round with U3's
        // rows in its queue since it read them at the start, so a send of them would show here.
        let atRest = await second.wait {
            let counts = await second.counts("restart")
            return counts["in_flight"] == 0 && counts["backlog"] == 2 && counts["dead_letters"] == 1
        }
        let restCounts = await second.counts("restart")
        #expect(atRest, "\(restCounts)")
        let after = Array(receiver.requests.dropFirst(countBefore))
        #expect(!after.contains { deliveredBefore.contains($0.id) }, "sent again after a 2xx: \(after.map(\.id))")
        #expect(!after.contains { $0.json["uid"]?.stringValue == Self.uid(3) }, "U3 jumped its dead letter after the restart")

        // The retried delta kept its id and its body, byte for byte.
        let retried = "restart:\(Self.uid(2)):1"
        let bodies = Set(receiver.requests.filter { $0.id == retried }.map(\.body))
        #expect(bodies.count == 1 && receiver.requests.filter { $0.id == retried }.count >= 3)

        // The dead letter survived the restart; retrying it lets U3 flow in order.
        let letters = await second.request("GET", "/v1/dead-letters").json["dead_letters"]?.arrayValue ?? []
        let id = try #require(letters.first?["id"]?.stringValue)
        #expect(await second.request("POST", "/v1/dead-letters/\(id)/retry").status == 200)
        #expect(await second.wait { receiver.delivered.filter { $0.json["uid"]?.stringValue == Self.uid(3) }.count == 3 })
        #expect(chainProblems(receiver.delivered).isEmpty, "\(chainProblems(receiver.delivered))")
        let counts = Dictionary(grouping: receiver.delivered, by: \.id).mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts.filter { $0.value > 1 })")
        await second.stop()
    }
}
