import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiSystem
import Testing

/// Deltas to a loopback receiver owned by the test (contract §4): signed, filtered to the
/// subscription's fields, retried after a 503 with the same id and body, chained by
/// `prev_version`, and never delivered twice across a SIGTERM + restart.
@Suite("Delivery")
struct DeliveryTests {
    static let fields: Set<String> = ["uid", "name", "address", "status"]

    static func events(prefix: String) -> [String] {
        [
            residentRegistered(eventID: "\(prefix)1", subject: "000500001", name: "配信 一郎", household: "H500001"),
            residentRegistered(
                eventID: "\(prefix)2", subject: "000500002", name: "配信 花子", household: "H500001", relationship: "妻"),
            residentRegistered(eventID: "\(prefix)3", subject: "000500003", name: "配信 三郎", household: "H500003"),
            envelopeLine(
                source: "resident", eventID: "\(prefix)4", type: "resident.moved", subject: "000500001",
                occurredAt: "2026-05-01T09:00:00+09:00",
                data: ["address": "東京都千代田区一番町10番地2", "postal_code": "102-0082"]),
            envelopeLine(
                source: "resident", eventID: "\(prefix)5", type: "resident.name_changed", subject: "000500002",
                occurredAt: "2026-05-02T09:00:00+09:00", data: ["name": "山田 花子", "name_kana": "ヤマダ ハナコ"]),
            // Neither of these touches a field of the subscription: no delta at all.
            envelopeLine(
                source: "resident", eventID: "\(prefix)6", type: "resident.household_changed", subject: "000500003",
                occurredAt: "2026-05-03T09:00:00+09:00", data: ["household_no": "H500001", "relationship": "子"]),
            envelopeLine(
                source: "resident", eventID: "\(prefix)7", type: "resident.corrected", subject: "000500001",
                occurredAt: "2026-05-04T09:00:00+09:00", data: ["sex": "male"]),
        ]
    }

    /// The distinct delta ids answered 2xx, in first-delivery order.
    static func deliveredIDs(_ deliveries: [WebhookRecorder.Delivery]) -> [String] {
        var seen = Set<String>()
        return deliveries.filter(\.delivered).map(\.id).filter { seen.insert($0).inserted }
    }

    @Test(.timeLimit(.minutes(3)))
    func deliverySignedFilteredRetried() async throws {
        let receiver = try WebhookRecorder()
        defer { Task { await receiver.stop() } }
        try await withDaemon(sources: ["resident"]) { daemon in
            let secret = try daemon.writeSecret(name: "mirror")
            try await daemon.setSubscriptions([
                "mirror": [
                    "url": .string(receiver.url),
                    "kinds": ["person.created", "person.changed"],
                    "fields": .array(["uid", "name", "address", "status"]),
                    "secret_file": .string(secret.path),
                    "max_attempts": 12, "timeout_s": 5,
                ]
            ])
            let signer = try WebhookSigner(secretFileText: secret.text, fileName: secret.path)
            receiver.failNext(1, status: 503)
            try await daemon.start()

            let reply = try await daemon.replay(Self.events(prefix: "RD-"))
            #expect(reply.json["accepted"]?.integerValue == 7, "replay: \(reply.text)")

            // U1: created + moved; U2: created + renamed; U3: created. Nothing for lines 6 and 7.
            let expected = 5
            let arrived = try await daemon.waitUntil(timeout: .seconds(60), interval: .milliseconds(200)) {
                Self.deliveredIDs(receiver.deliveries).count >= expected
            }
            // Every event projected and every delta planned from them answered: nothing more will come.
            let settled = try await daemon.settledStatus()
            var deliveries = receiver.deliveries
            let statusText = try await daemon.status().serializedString
            #expect(arrived, "delivered ids after 60 s: \(Self.deliveredIDs(deliveries)); status: \(statusText)")
            #expect(settled?["subscriptions"]?["mirror"]?["delivered"]?.integerValue == Int64(expected), "status: \(statusText)")
            #expect(Self.deliveredIDs(deliveries).count == expected, "delivered: \(Self.deliveredIDs(deliveries))")

            for delivery in deliveries {
                let body = String(decoding: delivery.body, as: UTF8.self)
                #expect(delivery.method == "POST")
                #expect(delivery.headers["content-type"]?.hasPrefix("application/json") == true, "\(delivery.headers)")
                let timestamp = Int64(delivery.headers["webhook-timestamp"] ?? "")
                #expect(timestamp != nil, "webhook-timestamp: \(delivery.headers["webhook-timestamp"] ?? "missing")")
                #expect(
                    signer.verify(
                        id: delivery.id, timestamp: timestamp ?? 0, body: delivery.body,
                        header: delivery.headers["webhook-signature"] ?? ""),
                    "signature does not verify for \(delivery.id): \(delivery.headers["webhook-signature"] ?? "missing")"
                )
                let delta = delivery.json
                #expect(delta["delta_id"]?.stringValue == delivery.id, "webhook-id \(delivery.id) vs body \(body)")
                #expect(delta["subscription"]?.stringValue == "mirror", "\(body)")
                if let uid = delta["uid"]?.stringValue, let version = delta["version"]?.integerValue {
                    #expect(delivery.id == "mirror:\(uid):\(version)", "delta_id format: \(delivery.id)")
                }
                let viewKeys = Set(delta["view"]?.objectValue?.keys ?? [])
                let changeKeys = Set(delta["changes"]?.objectValue?.keys ?? [])
                #expect(
                    viewKeys.isSubset(of: Self.fields),
                    "view has keys outside the fields: \(viewKeys.subtracting(Self.fields))")
                #expect(
                    changeKeys.isSubset(of: Self.fields),
                    "changes has keys outside the fields: \(changeKeys.subtracting(Self.fields))")
                #expect(!body.contains("my_number"), "\(body)")
            }

            // The 503'd delta came again with the same id and body, and then got through.
            let failed = try #require(deliveries.first { $0.answered == 503 }, "the receiver failed no request")
            let retries = deliveries.filter { $0.id == failed.id && $0.delivered }
            #expect(retries.count == 1, "after the 503, \(failed.id) was delivered \(retries.count) times")
            #expect(retries.first?.body == failed.body, "the retry of \(failed.id) changed its body")

            // Per uid: versions in delivery order, prev_version chaining them.
            func checkChains(_ deliveries: [WebhookRecorder.Delivery]) {
                var byUID: [String: [JSONValue]] = [:]
                var seen = Set<String>()
                for delivery in deliveries where delivery.delivered && seen.insert(delivery.id).inserted {
                    byUID[delivery.json["uid"]?.stringValue ?? "?", default: []].append(delivery.json)
                }
                for (uid, deltas) in byUID {
                    var previous: Int64? = nil
                    for delta in deltas {
                        let version = delta["version"]?.integerValue
                        #expect(
                            delta["prev_version"]?.integerValue == previous,
                            "\(uid): \(delta.serializedString) after version \(previous.map(String.init) ?? "none")")
                        if let version, let previous { #expect(version > previous, "\(uid): versions out of order") }
                        previous = version
                    }
                }
            }
            checkChains(deliveries)
            let perUID = Dictionary(grouping: Self.deliveredIDs(deliveries)) { $0.split(separator: ":")[1] }
            #expect(perUID.values.map(\.count).sorted() == [1, 2, 2], "deltas per uid: \(perUID)")
            let kinds = Dictionary(grouping: deliveries.filter(\.delivered).map { $0.json["kind"]?.stringValue ?? "?" })
            { $0 }
            #expect(kinds["person.created"]?.count == 3, "kinds: \(kinds.mapValues(\.count))")

            // SIGTERM + restart: nothing that got a 2xx is sent again; a new change continues the chain.
            let exit = try await daemon.stop()
            #expect(exit == 0, "renkeid exit status after SIGTERM")
            try await daemon.start()
            let more = try await daemon.replay([
                envelopeLine(
                    source: "resident", eventID: "RD-8", type: "resident.moved", subject: "000500002",
                    occurredAt: "2026-06-01T09:00:00+09:00", data: ["address": "東京都千代田区麹町1丁目1番"])
            ])
            #expect(more.json["accepted"]?.integerValue == 1, "\(more.text)")
            _ = try await daemon.waitUntil(timeout: .seconds(30), interval: .milliseconds(200)) {
                Self.deliveredIDs(receiver.deliveries).count >= expected + 1
            }
            // The restarted lane read its outbox at start; settled, every row in it has its outcome, so
            // a delta sent again after the restart would be among the deliveries now.
            let settledAgain = try await daemon.settledStatus()
            #expect(
                settledAgain?["subscriptions"]?["mirror"]?["delivered"]?.integerValue == Int64(expected + 1),
                "status: \(settledAgain?.serializedString ?? "not settled")")
            deliveries = receiver.deliveries
            let counts = Dictionary(grouping: deliveries.filter(\.delivered), by: \.id).mapValues(\.count)
            for (id, count) in counts {
                #expect(count == 1, "\(id) was delivered (2xx) \(count) times")
            }
            #expect(
                Self.deliveredIDs(deliveries).count == expected + 1,
                "delivered after restart: \(Self.deliveredIDs(deliveries))")
            checkChains(deliveries)
            try await daemon.stop()
        }
        await receiver.stop()
    }
}
