import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Synchronization
import Testing

/// Contract §4 outcomes against a loopback receiver that misbehaves on purpose: bursts of 503,
/// 429 with `Retry-After`, timeouts, connection resets, 400, 410, and `max_attempts`. Every delta
/// ends delivered or dead-lettered; per-uid order and the `prev_version` chain hold; a dead letter
/// blocks its uid until retried (then the rest flows) or skipped (recorded, never delivered).
@Suite("Delivery faults", .serialized)
struct DeliveryFaultTests {
    /// Subjects 1…7 get uids U0000000001…7 (allocated in log order).
    static func uid(_ n: Int) -> String { "U000000000\(n)" }

    @Test(.timeLimit(.minutes(2)))
    func everyDeltaEndsDeliveredOrDeadLettered() async throws {
        let healed = Atomic<Bool>(false)
        let receiver = try DeliveryReceiver { _, attempt, body in
            let uid = body["uid"]?.stringValue ?? ""
            let name = body["view"]?["name"]?.stringValue ?? ""
            switch uid {
            case Self.uid(1): return attempt <= 3 ? .status(503, body: "busy") : .status(204)
            case Self.uid(2): return attempt == 1 ? .status(429, headers: ["Retry-After": "1"]) : .status(200)
            case Self.uid(3): return attempt == 1 ? .hang(.seconds(3)) : .status(204)
            case Self.uid(4): return attempt == 1 ? .reset : .status(204)
            case Self.uid(5) where name.hasSuffix("-r1"):
                return healed.load(ordering: .relaxed) ? .status(204) : .status(400, body: "missing field x")
            case Self.uid(6) where name.hasSuffix("-r1"): return .status(410, body: "gone")
            case Self.uid(7): return .status(503)
            default: return .status(204)
            }
        }
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(subscriptions: [
            "faults": [
                "url": .string(receiver.url), "fields": ["uid", "name", "address", "status"],
                "max_in_flight": 8, "max_attempts": 4, "timeout_s": 1, "connect_timeout_s": 1, "retry_base_s": .double(0.05),
            ]
        ])
        var lines: [String] = []
        for n in 1...7 {
            lines.append(Events.registered("F-\(n)", subject: "S\(n)", name: "名\(n)", address: "住所\(n)", household: "H\(n)"))
        }
        for n in 1...7 { lines.append(Events.renamed("F-\(n)-r1", subject: "S\(n)", name: "名\(n)-r1")) }
        for n in 1...7 { lines.append(Events.renamed("F-\(n)-r2", subject: "S\(n)", name: "名\(n)-r2")) }
        #expect(await fixture.ingest(lines) == 21)

        // uids 1–4: 3 each; 5 and 6: created only (r1 dead, r2 waits); 7: nothing (created dead after 4).
        let settled = await fixture.wait(.seconds(40)) {
            let letters = await fixture.request("GET", "/v1/dead-letters?subscription=faults").json
            return Set(receiver.delivered.map(\.id)).count == 14 && (letters["dead_letters"]?.arrayValue?.count ?? 0) == 3
        }
        let letters = await fixture.request("GET", "/v1/dead-letters?subscription=faults").json["dead_letters"]?.arrayValue ?? []
        #expect(settled, "delivered \(Set(receiver.delivered.map(\.id)).sorted()); dead letters \(letters)")
        var byUID: [String: JSONValue] = [:]
        for letter in letters { byUID[letter["uid"]?.stringValue ?? ""] = letter }
        #expect(byUID[Self.uid(5)]?["status"]?.integerValue == 400)
        #expect(byUID[Self.uid(5)]?["attempts"]?.integerValue == 1, "400 is not retried")
        #expect(byUID[Self.uid(6)]?["status"]?.integerValue == 410)
        #expect(byUID[Self.uid(6)]?["attempts"]?.integerValue == 1, "410 is not retried")
        #expect(byUID[Self.uid(7)]?["status"]?.integerValue == 503)
        #expect(byUID[Self.uid(7)]?["attempts"]?.integerValue == 4, "503 is retried up to max_attempts")
        #expect(byUID[Self.uid(5)]?["response_excerpt"]?.stringValue == "missing field x")

        // Nothing behind a dead letter was sent.
        let requests = receiver.requests
        for request in requests {
            let uid = request.json["uid"]?.stringValue ?? ""
            let name = request.json["view"]?["name"]?.stringValue ?? ""
            if [Self.uid(5), Self.uid(6)].contains(uid) { #expect(!name.hasSuffix("-r2"), "\(request.id) jumped a dead letter") }
            if uid == Self.uid(7) { #expect(request.json["kind"]?.stringValue == "person.created", "\(request.id) jumped a dead letter") }
        }
        // 429 + Retry-After: 1 → the next attempt of that delta waited at least about a second.
        for id in Set(requests.filter { $0.action == "429" }.map(\.id)) {
            let times = requests.filter { $0.id == id }.map(\.at)
            #expect(times.count >= 2 && times[1] - times[0] >= .milliseconds(900), "\(id): retried \(times) after Retry-After: 1")
        }
        #expect(requests.contains { $0.action == "hang" } && requests.contains { $0.action == "reset" })

        // Operator: retry uid 5's dead letter (the receiver is fixed now), skip uid 6's.
        healed.store(true, ordering: .relaxed)
        let id5 = try #require(byUID[Self.uid(5)]?["id"]?.stringValue)
        let id6 = try #require(byUID[Self.uid(6)]?["id"]?.stringValue)
        let skippedID = try #require(byUID[Self.uid(6)]?["delta_id"]?.stringValue)
        #expect(await fixture.request("POST", "/v1/dead-letters/\(id5)/retry").status == 200)
        #expect(await fixture.request("POST", "/v1/dead-letters/\(id6)/skip").status == 200)
        #expect(await fixture.request("POST", "/v1/dead-letters/\(id6)/skip").status == 404, "skip twice")
        let flowed = await fixture.wait(.seconds(20)) { Set(receiver.delivered.map(\.id)).count == 17 }
        #expect(flowed, "after retry and skip: \(Set(receiver.delivered.map(\.id)).sorted())")
        #expect(!receiver.delivered.contains { $0.id == skippedID }, "the skipped delta was delivered")
        let skipped = await fixture.request("GET", "/v1/dead-letters?subscription=faults&state=skipped").json
        #expect((skipped["dead_letters"]?.arrayValue ?? []).compactMap { $0["delta_id"]?.stringValue } == [skippedID])
        let state = try Outbox.state(deltaID: skippedID, in: fixture.service.reader())
        #expect(state == .skipped)
        #expect(await fixture.counts("faults")["skipped"]?.integerValue == 1)
        // The trigger-kept counts behind /v1/status equal a count over the outbox itself.
        let reader = try fixture.service.reader()
        let kept = try Outbox.counts(subscription: "faults", in: reader)
        let counted = Dictionary(uniqueKeysWithValues: try reader.prepare(
            "SELECT state, COUNT(*) FROM outbox WHERE subscription = 'faults' GROUP BY state"
        ).rows([]) { ($0.string(0) ?? "", $0.int64(1)) })
        #expect(kept.delivered == counted["delivered", default: 0] && kept.skipped == counted["skipped", default: 0])
        #expect(kept.dead == counted["dead", default: 0])
        #expect(kept.backlog == counted["pending", default: 0] + counted["dead", default: 0])

        // Order and chain, per uid, over everything delivered.
        let problems = chainProblems(receiver.delivered, skipped: [skippedID])
        #expect(problems.isEmpty, "\(problems)")
        // At-least-once without duplicates here: each id answered 2xx exactly once.
        let counts = Dictionary(grouping: receiver.delivered, by: \.id).mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 == 1 }, "\(counts.filter { $0.value > 1 })")
        await fixture.stop()
    }

    @Test func classification() {
        for status in [408, 429, 500, 502, 503, 504] { #expect(DeliveryService.isRetryable(status: status)) }
        for status in [400, 401, 403, 404, 409, 410, 413, 422] { #expect(!DeliveryService.isRetryable(status: status)) }
        for attempts in 1...40 {
            let delay = DeliveryService.backoff(attempts: attempts, base: 0.5, retryAfter: nil)
            #expect(delay >= 0 && delay <= min(300, 0.5 * pow(2, Double(min(attempts, 30) - 1))))
        }
        #expect(DeliveryService.backoff(attempts: 1, base: 0.5, retryAfter: .seconds(7)) >= 7)
        #expect(DeliveryService.backoff(attempts: 1, base: 0.5, retryAfter: .seconds(100_000)) <= 3600)
    }
}
