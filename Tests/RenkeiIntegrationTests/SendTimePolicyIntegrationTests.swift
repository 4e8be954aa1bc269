import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 13, repros 1 and 2, through the contract's interfaces only (config file, SIGHUP, the
/// status socket, a webhook receiver): the policy in force and the live person decide what leaves,
/// whenever the delta was planned.
@Suite("Send-time policy")
struct SendTimePolicyIntegrationTests {
    static let firstNumber = "123456789018"
    static let secondNumber = "234567890121"

    /// A resident registration carrying a 個人番号.
    static func registeredWithNumber(_ eventID: String, subject: String, myNumber: String) -> String {
        envelopeLine(
            source: "resident", eventID: eventID, type: "resident.registered", subject: subject,
            data: [
                "reason": "move_in", "name": "番号 太郎", "name_kana": "バンゴウ タロウ", "birth_date": "1975-05-05",
                "sex": "male", "address": "東京都千代田区九段南1丁目2番1号", "postal_code": "102-0074",
                "household_no": "H130001", "relationship": "世帯主", "my_number": .string(myNumber),
            ])
    }

    static func benefits(_ url: String, secret: String, fields: [String], legalBasis: String?) -> JSONObject {
        var subscription: JSONObject = [
            "url": .string(url), "fields": .array(fields.map { .string($0) }), "secret_file": .string(secret),
            "retry_base_s": .double(0.05), "max_attempts": 1000, "timeout_s": 5,
        ]
        if let legalBasis { subscription["legal_basis"] = .string(legalBasis) }
        return ["benefits": .object(subscription)]
    }

    static func counts(_ daemon: DaemonHarness, _ subscription: String) async throws -> JSONValue {
        try await daemon.status()["subscriptions"]?[subscription] ?? .null
    }

    /// Repro 1: `benefits` lists `my_number` with a legal basis; its receiver is down, so deltas
    /// queue; the legal basis ends (both removed from the config, SIGHUP). When the receiver comes
    /// back, nothing it gets carries the 個人番号, the ledger records none, and a delta that changed
    /// only the number is skipped with its reason.
    @Test(.timeLimit(.minutes(3)))
    func aNarrowedPolicyAppliesToDeltasAlreadyQueued() async throws {
        let receiver = try WebhookRecorder()
        defer { Task { await receiver.stop() } }
        receiver.failNext(1_000_000)  // down: every attempt answers 503 until it comes back
        try await withDaemon(sources: ["resident"]) { daemon in
            let secret = try daemon.writeSecret(name: "benefits").path
            try await daemon.setSubscriptions(
                Self.benefits(receiver.url, secret: secret, fields: ["uid", "status", "my_number"], legalBasis: "番号法 第9条 別表"))
            try await daemon.start()
            let reply = try await daemon.replay([
                Self.registeredWithNumber("R-MN-1", subject: "000130001", myNumber: Self.firstNumber),
                envelopeLine(
                    source: "resident", eventID: "R-MN-2", type: "resident.corrected", subject: "000130001",
                    occurredAt: "2026-05-01T09:00:00+09:00", data: ["my_number": .string(Self.secondNumber)]),
            ])
            #expect(reply.json["accepted"] == 2, "\(reply.text)")
            // The first delta was tried (and refused) with the number while the policy allowed it;
            // the second waits behind it (per-uid order).
            let tried = try await daemon.waitUntil(timeout: .seconds(20)) {
                let backlog = try await Self.counts(daemon, "benefits")["backlog"]
                return backlog == 2 && receiver.deliveries.contains {
                    $0.id == "benefits:U0000000001:1" && String(decoding: $0.body, as: UTF8.self).contains(Self.firstNumber)
                }
            }
            #expect(tried, "\(receiver.deliveries.map(\.id))")

            // The legal basis ends: my_number and legal_basis leave the configuration.
            try await daemon.setSubscriptions(
                Self.benefits(receiver.url, secret: secret, fields: ["uid", "status"], legalBasis: nil))
            await daemon.signal(SIGHUP)
            #expect(try await daemon.waitForNotification("READY=1", count: 2, timeout: .seconds(30)), "no reload")
            let attemptsBefore = receiver.deliveries.count
            receiver.failNext(0)  // the receiver is back

            let settled = try await daemon.waitUntil(timeout: .seconds(30)) {
                let counts = try await Self.counts(daemon, "benefits")
                return counts["backlog"] == 0 && counts["delivered"] == 1 && counts["skipped"] == 1
            }
            let finalCounts = try await Self.counts(daemon, "benefits")
            #expect(settled, "\(finalCounts)")
            let afterReload = receiver.deliveries.dropFirst(attemptsBefore)
            #expect(afterReload.contains { $0.delivered && $0.id == "benefits:U0000000001:1" })
            for delivery in afterReload {
                let text = String(decoding: delivery.body, as: UTF8.self)
                #expect(!text.contains(Self.firstNumber) && !text.contains(Self.secondNumber), "個人番号 sent: \(text)")
                #expect(!text.contains("my_number"), "\(text)")
            }
            // The ledger: what was delivered, without my_number, and no legal basis (none is in force).
            let ledger = try await daemon.get("/v1/disclosures?uid=U0000000001").json["disclosures"]?.arrayValue ?? []
            #expect(ledger.count == 1, "\(ledger)")
            for row in ledger {
                #expect(row["fields"] == ["uid", "status"], "\(row)")
                #expect(row["legal_basis"] == .null, "\(row)")
            }
            // The number-only correction is skipped, with a reason that names the setting, not the value.
            let skipped = try await daemon.get("/v1/dead-letters?subscription=benefits&state=skipped").json
            let rows = skipped["dead_letters"]?.arrayValue ?? []
            #expect(rows.map { $0["delta_id"] } == ["benefits:U0000000001:2"], "\(skipped)")
            let reason = rows.first?["reason"]?.stringValue ?? ""
            #expect(reason.contains("subscriptions.benefits.fields") && !reason.contains(Self.secondNumber), "\(reason)")
            #expect(!daemon.stderrText().contains(Self.firstNumber) && !daemon.stderrText().contains(Self.secondNumber))
        }
    }

    /// Repro 2: a patron (U1), then a resident who does not match (U2); an official links them,
    /// which keeps U1 and retires U2; the resident becomes protected. A subscription replay from
    /// lsn 1 sends U2's old `person.created` again — without her address, because the person it
    /// stands for now (U1) is protected.
    @Test(.timeLimit(.minutes(3)))
    func aReplayedBodyOfAMergedUIDFollowsTheLivePersonsProtection() async throws {
        let receiver = try WebhookRecorder()
        defer { Task { await receiver.stop() } }
        let residentAddress = "東京都千代田区九段南1丁目2番1号"
        let patronAddress = "東京都新宿区西新宿2-8-1"
        try await withDaemon(sources: ["resident", "library"]) { daemon in
            let secret = try daemon.writeSecret(name: "mirror").path
            try await daemon.setSubscriptions([
                "mirror": [
                    "url": .string(receiver.url), "fields": ["uid", "name", "address", "postal_code", "status"],
                    "secret_file": .string(secret), "retry_base_s": .double(0.05),
                ]
            ])
            try await daemon.start()
            #expect(try await daemon.replay([
                libraryPatronRegistered(eventID: "L-1", subject: "LIB-1", name: "図書 花子"),
                residentRegistered(eventID: "R-1", subject: "000140001", name: "住民 花子", birthDate: "1970-07-07"),
            ]).json["accepted"] == 2)
            #expect(try await daemon.waitUntil(timeout: .seconds(20)) {
                Set(receiver.deliveries.filter(\.delivered).map(\.id)).isSuperset(of: ["mirror:U0000000001:1", "mirror:U0000000002:1"])
            })
            let created = receiver.deliveries.first { $0.id == "mirror:U0000000002:1" }
            #expect(created.map { String(decoding: $0.body, as: UTF8.self).contains(residentAddress) } == true)

            let link = try await daemon.request(
                "POST", "/v1/links", body: Array(#"{"uid":"U0000000001","source":"resident","subject":"000140001"}"#.utf8),
                contentType: "application/json")
            #expect(link.status == 200, "\(link.text)")
            #expect(try await daemon.get("/v1/persons/U0000000002").json["merged_into"] == "U0000000001")
            #expect(try await daemon.replay([
                envelopeLine(
                    source: "resident", eventID: "R-2", type: "resident.protection_changed", subject: "000140001",
                    occurredAt: "2026-06-01T09:00:00+09:00", data: ["protected": true])
            ]).json["accepted"] == 1)
            #expect(try await daemon.waitUntil(timeout: .seconds(20)) {
                let isProtected = try await daemon.get("/v1/persons/U0000000001").json["protected"] == true
                let backlog = try await Self.counts(daemon, "mirror")["backlog"]
                return isProtected && backlog == 0
            })

            let before = receiver.deliveries.count
            let skippedBefore = try await Self.counts(daemon, "mirror")["skipped"]?.integerValue ?? 0
            let replay = try await daemon.request("POST", "/v1/subscriptions/mirror/replay?from_lsn=1")
            let queued = Int(replay.json["queued"]?.integerValue ?? 0)
            #expect(replay.status == 200 && queued >= 2, "\(replay.text)")
            #expect(try await daemon.waitUntil(timeout: .seconds(20)) {
                let counts = try await Self.counts(daemon, "mirror")
                let skipped = Int((counts["skipped"]?.integerValue ?? 0) - skippedBefore)
                return counts["backlog"] == 0 && receiver.deliveries.count - before + skipped >= queued
            })
            let replayed = receiver.deliveries.dropFirst(before)
            #expect(replayed.contains { $0.id == "mirror:U0000000002:1" }, "\(replayed.map(\.id))")
            for delivery in replayed {
                let text = String(decoding: delivery.body, as: UTF8.self)
                #expect(!text.contains(residentAddress) && !text.contains(patronAddress) && !text.contains("102-0074"),
                        "a protected address left in \(delivery.id): \(text)")
                #expect(delivery.json["cause"] == nil && delivery.json["lsn"] == nil, "\(text)")
            }
            let retiredCreation = replayed.first { $0.id == "mirror:U0000000002:1" }?.json
            #expect(retiredCreation?["withheld"]?.arrayValue?.contains("address") == true, "\(String(describing: retiredCreation))")
        }
    }
}
