import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// Shadow subscriptions in process (issue 17): the send-time policy applies exactly as live, nothing
/// is sent or disclosed, and the cut-over report compares what would be sent (a protected person's
/// address is withheld, so it differs from a legacy export that has it).
@Suite("Shadow delivery", .serialized)
struct ShadowDeliveryTests {
    static let legacyCSV = "宛名番号,氏名,住所\nS1,影 一,東京都千代田区1-1\nS2,影 二,東京都千代田区2-2\n"
    static let mapping = """
        {"layout": {"header": true}, "events": [{"type": "resident.registered", "subject": "宛名番号",
         "event_id": {"columns": ["宛名番号"]}, "occurred_at": {"value": "2026-12-01"},
         "data": {"name": "氏名", "address": "住所"}}]}
        """

    static func diffBody(source: String? = nil) -> [UInt8] {
        var body: JSONObject = [
            "mapping": .string(mapping), "mapping_file": "legacy.json",
            "file": .string(Data(legacyCSV.utf8).base64EncodedString()), "file_name": "legacy.csv",
        ]
        if let source { body["source"] = .string(source) }
        return JSONValue.object(body).serializedBytes
    }

    @Test(.timeLimit(.minutes(2)))
    func thePolicyAppliesAsLiveAndTheReportComparesWhatWouldBeSent() async throws {
        let receiver = try DeliveryReceiver()
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(subscriptions: [
            "shadow": ["url": .string(receiver.url), "mode": "shadow", "fields": ["uid", "name", "address"]],
        ])
        defer { Task { await fixture.stop() } }
        #expect(await fixture.ingest([
            Events.registered("SH-1", subject: "S1", name: "影 一", address: "東京都千代田区1-1", household: "H1"),
            Events.registered("SH-2", subject: "S2", name: "影 二", address: "東京都千代田区2-2", household: "H2"),
            Events.protection("SH-3", subject: "S2", true),
        ]) == 3)
        let settled = await fixture.wait(.seconds(60)) {
            let counts = await fixture.counts("shadow")
            return await fixture.idle(["shadow"]) && (counts["shadowed"]?.integerValue ?? 0) >= 2
        }
        let counts = await fixture.counts("shadow")
        #expect(settled, "\(counts)")
        #expect(counts["mode"] == "shadow" && counts["delivered"] == 0, "\(counts)")
        #expect(receiver.requests.isEmpty)
        for uid in ["U0000000001", "U0000000002"] {
            #expect(await fixture.request("GET", "/v1/disclosures?uid=\(uid)").json["disclosures"] == [])
        }
        #expect(!fixture.logLines.contains { $0.contains("subscription shadow: delivered") })

        // No linked_to and no source: the key's source must be named.
        let unnamed = await fixture.request("POST", "/v1/subscriptions/shadow/shadow/diff", body: Self.diffBody())
        #expect(unnamed.status == 400 && (unnamed.json["error"]?.stringValue ?? "").contains("--source"), "\(unnamed.json)")
        let report = await fixture.request("POST", "/v1/subscriptions/shadow/shadow/diff", body: Self.diffBody(source: "resident"))
        #expect(report.status == 200, "\(report.json)")
        #expect(report.json["counts"] == ["matched": 1, "differing": 1, "only_in_renkei": 0, "only_in_legacy": 0], "\(report.json)")
        // S2 is protected now: the policy withholds the address, as a send would.
        #expect(report.json["differing"] == [[
            "subject": "S2", "uid": "U0000000002", "line": 3,
            "fields": ["address": ["renkei": .null, "legacy": "東京都千代田区2-2"]],
        ]], "\(report.json)")
        #expect(report.json["mode"] == "shadow" && report.json["backlog"] == 0)
        let badBody = await fixture.request("POST", "/v1/subscriptions/shadow/shadow/diff", body: Array("{}".utf8))
        #expect(badBody.status == 400 && (badBody.json["error"]?.stringValue ?? "").hasPrefix("mapping:"), "\(badBody.json)")
    }

    @Test func aModeOtherThanLiveOrShadowIsRefusedNamingTheKey() throws {
        let config: JSONValue = [
            "municipality": "131016", "state_dir": "/tmp/x", "status_socket": "/tmp/x.sock", "sources": ["resident": [:]],
            "subscriptions": ["juki": ["url": "http://127.0.0.1:9/", "fields": ["uid"], "mode": "dry-run"]],
        ]
        #expect {
            _ = try Configuration(json: config, file: "renkei.json")
        } throws: { error in
            "\(error)".contains("subscriptions.juki.mode") && "\(error)".contains("shadow")
        }
        var live = config
        if case .object(var root) = config, case .object(var subs)? = root["subscriptions"], case .object(var juki)? = subs["juki"] {
            juki["mode"] = nil
            subs["juki"] = .object(juki)
            root["subscriptions"] = .object(subs)
            live = .object(root)
        }
        #expect(try Configuration(json: live, file: "renkei.json").subscriptions["juki"]?.mode == .live)
    }
}
