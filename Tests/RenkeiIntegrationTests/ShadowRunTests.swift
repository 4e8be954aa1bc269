import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 17, shadow runs, through the contract's interfaces only (config file, SIGHUP, the status
/// socket, `renkeictl`, a real webhook receiver): a shadow subscription plans, filters and records
/// its deltas but sends nothing and discloses nothing; `renkeictl shadow diff` compares what it
/// would hold with a legacy export (CP932 CSV, `Tests/Fixtures/shadow/`) and reports exactly the
/// prepared differences; a switch to live sends nothing retroactively, and
/// `renkeictl subscription replay NAME --from-lsn N` sends the shadowed deltas from there.
@Suite("Shadow runs")
struct ShadowRunTests {
    static let fixtures = TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/shadow")

    static func subscription(_ url: String, secret: String, mode: String) -> JSONObject {
        [
            "juki": [
                "url": .string(url), "mode": .string(mode), "linked_to": "resident",
                "kinds": ["person.created", "person.changed"],
                "fields": ["uid", "name", "name_kana", "birth_date", "address", "status"],
                "secret_file": .string(secret), "retry_base_s": .double(0.05),
            ]
        ]
    }

    static func counts(_ daemon: DaemonHarness) async throws -> JSONValue {
        try await daemon.status()["subscriptions"]?["juki"] ?? .null
    }

    /// Runs the built `renkeictl` against the daemon's socket.
    static func control(_ daemon: DaemonHarness, _ arguments: [String]) async throws -> SystemAccounts.Outcome {
        let ctl = TestPaths.binDir.appendingPathComponent("renkeictl").path
        let all = ["--socket", daemon.statusSocket] + arguments
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try SystemAccounts.run(ctl, all)) } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func moved(_ eventID: String, subject: String, address: String) -> String {
        envelopeLine(
            source: "resident", eventID: eventID, type: "resident.moved", subject: subject,
            occurredAt: "2026-12-02T09:00:00+09:00", data: ["address": .string(address)])
    }

    @Test(.timeLimit(.minutes(5)))
    func aShadowRunReportsTheCutOverAndSwitchingToLiveSendsNothingRetroactively() async throws {
        let receiver = try WebhookRecorder()
        defer { Task { await receiver.stop() } }
        try await withDaemon(sources: ["resident"]) { daemon in
            let secret = try daemon.writeSecret(name: "juki").path
            try await daemon.setSubscriptions(Self.subscription(receiver.url, secret: secret, mode: "shadow"))
            try await daemon.start()
            let registered = try await daemon.replay([
                residentRegistered(eventID: "R-S-1", subject: "000170001", name: "髙橋 一郎", nameKana: "タカハシ イチロウ",
                                   birthDate: "1980-01-01", address: "東京都千代田区九段南1丁目2番1号", household: "H170001"),
                residentRegistered(eventID: "R-S-2", subject: "000170002", name: "山﨑 花子", nameKana: "ヤマザキ ハナコ",
                                   birthDate: "1985-03-03", address: "東京都千代田区九段南1丁目2番2号", household: "H170002"),
                residentRegistered(eventID: "R-S-3", subject: "000170003", name: "佐藤 次郎", nameKana: "サトウ ジロウ",
                                   birthDate: "1990-04-04", address: "東京都千代田区九段南1丁目2番3号", household: "H170003"),
                residentRegistered(eventID: "R-S-4", subject: "000170004", name: "鈴木 四郎", nameKana: "スズキ シロウ",
                                   birthDate: "1995-05-05", address: "東京都千代田区九段南1丁目2番4号", household: "H170004"),
            ])
            #expect(registered.json["accepted"] == 4, "\(registered.text)")
            let shadowed = try await daemon.waitUntil(timeout: .seconds(90)) {
                let counts = try await Self.counts(daemon)
                return counts["shadowed"] == 4 && counts["backlog"] == 0
            }
            let shadowCounts = try await Self.counts(daemon)
            #expect(shadowed, "\(shadowCounts)")
            #expect(shadowCounts["mode"] == "shadow" && shadowCounts["delivered"] == 0, "\(shadowCounts)")

            // The cut-over report, against the prepared legacy export.
            let csv = Self.fixtures.appendingPathComponent("legacy-juki-cp932.csv").path
            let mapping = Self.fixtures.appendingPathComponent("legacy-juki-mapping.json").path
            let diff = try await Self.control(
                daemon, ["--json", "shadow", "diff", "juki", csv, "--mapping", mapping, "--encoding", "cp932"])
            #expect(diff.status == 1, "differences exit 1: \(diff.stderr)")
            let report = JSONValue.parse(bytes: Array(diff.stdout.utf8)) ?? .null
            #expect(report["counts"] == ["matched": 2, "differing": 1, "only_in_renkei": 1, "only_in_legacy": 1], "\(diff.stdout)")
            let differing = report["differing"]?.arrayValue ?? []
            #expect(differing.count == 1 && differing.first?["subject"] == "000170003", "\(differing)")
            #expect(differing.first?["fields"]?.objectValue?.keys == ["address"], "\(differing)")
            #expect(differing.first?.at("fields", "address", "legacy") == "東京都千代田区九段南1丁目2番30号")
            #expect(differing.first?.at("fields", "address", "renkei") == "東京都千代田区九段南1丁目2番3号")
            #expect(report["only_in_renkei"]?.arrayValue?.map { $0["subject"] } == ["000170004"], "\(diff.stdout)")
            #expect(report["only_in_legacy"] == [["subject": "000179999", "line": 5]], "\(diff.stdout)")
            #expect(report["refused"] == [], "\(diff.stdout)")
            #expect(report["compared_fields"] == ["address", "birth_date", "name", "name_kana"], "\(diff.stdout)")
            // The same report as text, for the operator.
            let text = try await Self.control(daemon, ["shadow", "diff", "juki", csv, "--mapping", mapping, "--encoding", "cp932"])
            #expect(text.stdout.contains("matched         2") && text.stdout.contains("only in legacy  1"), "\(text.stdout)")
            #expect(text.stdout.contains("000179999 (line 5)") && text.stdout.contains("address: Renkei"), "\(text.stdout)")

            // The diff is on the access log (it shows many persons' data at once).
            let entry = try await daemon.get("/v1/access-log?limit=1").json["entries"]?.arrayValue?.first
            #expect(entry?["target"] == "/v1/subscriptions/juki/shadow/diff" && entry?["status"] == 200, "\(String(describing: entry))")
            // Refusals name what to fix: an unknown subscription, a mapping that does not fit the file.
            let unknown = try await Self.control(daemon, ["shadow", "diff", "nosuch", csv, "--mapping", mapping])
            #expect(unknown.status == 1 && unknown.stderr.contains("no subscription nosuch"), "\(unknown.stderr)")
            let badMapping = daemon.root.appendingPathComponent("bad-mapping.json")
            try Data(#"{"layout": {"header": true}, "events": [{"type": "resident.registered", "subject": "宛名番号", "occurred_at": {"value": "2026-12-01"}, "data": {"name": "氏名"}}]}"#.utf8)
                .write(to: badMapping)
            let misfit = try await Self.control(
                daemon, ["shadow", "diff", "juki", csv, "--mapping", badMapping.path, "--encoding", "cp932"])
            #expect(misfit.status == 1 && misfit.stderr.contains("カナ氏名") && misfit.stderr.contains("HTTP 422"), "\(misfit.stderr)")

            // Nothing left the machine, and nothing is in the disclosure ledger.
            #expect(receiver.deliveries.isEmpty, "\(receiver.deliveries.map(\.id))")
            for number in 1...4 {
                let ledger = try await daemon.get("/v1/disclosures?uid=U000000000\(number)").json
                #expect(ledger["disclosures"] == [], "\(ledger)")
            }

            // A delta planned in shadow but not yet recorded when the switch comes (the lane is paused).
            #expect(try await daemon.request("POST", "/v1/subscriptions/juki/pause").status == 200)
            #expect(try await daemon.replay([
                Self.moved("R-S-5", subject: "000170003", address: "東京都千代田区九段南1丁目2番30号")
            ]).json["accepted"] == 1)
            let pendingAtSwitch = try await daemon.waitUntil(timeout: .seconds(90)) {
                try await Self.counts(daemon)["backlog"] == 1
            }
            let atSwitch = try await Self.counts(daemon)
            #expect(pendingAtSwitch, "\(atSwitch)")
            let movedLSN = try await daemon.status()["head_lsn"]?.integerValue ?? 0

            // Shadow → live (SIGHUP): what was planned in shadow stays unsent.
            try await daemon.setSubscriptions(Self.subscription(receiver.url, secret: secret, mode: "live"))
            await daemon.signal(SIGHUP)
            #expect(try await daemon.waitForNotification("READY=1", count: 2, timeout: .seconds(60)), "no reload")
            #expect(try await daemon.request("POST", "/v1/subscriptions/juki/resume").status == 200)
            let liveCounts = try await Self.counts(daemon)
            #expect(liveCounts["mode"] == "live" && liveCounts["shadowed"] == 5 && liveCounts["backlog"] == 0, "\(liveCounts)")

            // A change after the switch is sent, and only it.
            #expect(try await daemon.replay([
                Self.moved("R-S-6", subject: "000170002", address: "東京都千代田区九段南1丁目2番20号")
            ]).json["accepted"] == 1)
            let sent = try await daemon.waitUntil(timeout: .seconds(90)) { try await Self.counts(daemon)["delivered"] == 1 }
            let sentCounts = try await Self.counts(daemon)
            #expect(sent, "\(sentCounts)")
            #expect(try await daemon.settledStatus(timeout: .seconds(90)) != nil)
            let afterSwitch = receiver.deliveries.filter(\.delivered)
            #expect(afterSwitch.count == 1 && afterSwitch.first?.json["lsn"]?.integerValue == movedLSN + 1,
                    "\(afterSwitch.map(\.id))")
            #expect(afterSwitch.first?.json.at("view", "address") == "東京都千代田区九段南1丁目2番20号")
            let ledger = try await daemon.get("/v1/disclosures?uid=U0000000002").json["disclosures"]?.arrayValue ?? []
            #expect(ledger.count == 1 && ledger.first?["lsn"]?.integerValue == movedLSN + 1, "\(ledger)")

            // --from-lsn: the shadowed deltas from that lsn on are sent now (and the delivered one again).
            let replay = try await Self.control(daemon, ["--json", "subscription", "replay", "juki", "--from-lsn", String(movedLSN)])
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(JSONValue.parse(bytes: Array(replay.stdout.utf8))?["queued"] == 2, "\(replay.stdout)")
            let replayed = try await daemon.waitUntil(timeout: .seconds(90)) {
                receiver.deliveries.contains { $0.delivered && $0.json["lsn"]?.integerValue == movedLSN }
            }
            #expect(replayed, "\(receiver.deliveries.map(\.id))")
            #expect(try await daemon.settledStatus(timeout: .seconds(90)) != nil)
            let lsns = receiver.deliveries.filter(\.delivered).compactMap { $0.json["lsn"]?.integerValue }
            #expect(lsns.allSatisfy { $0 >= movedLSN }, "nothing before --from-lsn is sent: \(lsns)")
            let moved = receiver.deliveries.first { $0.delivered && $0.json["lsn"]?.integerValue == movedLSN }
            #expect(moved?.json.at("view", "address") == "東京都千代田区九段南1丁目2番30号")
            let finalCounts = try await Self.counts(daemon)
            #expect(finalCounts["shadowed"] == 4 && finalCounts["delivered"] == 2, "\(finalCounts)")
            let movedLedger = try await daemon.get("/v1/disclosures?uid=U0000000003").json["disclosures"]?.arrayValue ?? []
            #expect(movedLedger.map { $0["lsn"] } == [.integer(movedLSN)], "\(movedLedger)")
        }
    }
}
