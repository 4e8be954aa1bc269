import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// Issue 17: what a crash between the steps of publishing a file leaves is finished at the next
/// start — a file journalled and renamed into place is recorded delivered (not written again); one
/// journalled but never renamed is dropped and its deltas written again under the same sequence
/// number. The crash is staged on a stopped daemon's state, as the journal would hold it.
@Suite("File subscription recovery", .serialized)
struct FileSubscriptionRecoveryTests {
    static func subscriptions(dir: String) -> JSONObject {
        [
            "drop": [
                "fields": ["uid", "name", "status"],
                "file": ["dir": .string(dir), "format": "jsonl", "cut_every_rows": 2, "cut_every_s": 3600, "done_marker": true],
            ]
        ]
    }

    /// Starts a daemon with `drop` paused, plans two deltas, stops it, and journals them as file 1
    /// (`writing`) under `.drop.deltas.tmp`, as a crash after ``FileCuts/begin`` would leave them.
    static func stage(_ dir: URL) async throws -> (root: URL, seqs: [Int64]) {
        let first = try await DeliveryFixture(subscriptions: subscriptions(dir: dir.path), sources: ["resident"])
        #expect(await first.request("POST", "/v1/subscriptions/drop/pause").status == 200)
        #expect(await first.ingest([
            Events.registered("R-1", subject: "S1", name: "名1", address: "住所1", household: "H1"),
            Events.registered("R-2", subject: "S2", name: "名2", address: "住所2", household: "H2"),
        ]) == 2)
        #expect(await first.wait { await first.counts("drop")["backlog"] == 2 })
        await first.stop(keepingState: true)
        let db = try Database(path: first.root.appendingPathComponent("state/renkei.db").path)
        let rows = try Outbox.queueRows(subscription: "drop", after: 0, limit: 10, in: db)
        #expect(rows.count == 2)
        _ = try FileCuts.begin(
            subscription: "drop", temporary: ".drop.deltas.tmp", kind: .deltas,
            rows: rows.map { FileCuts.Row(outboxSeq: $0.seq, uid: $0.uid, deltaID: "drop:\($0.uid):1", fields: "uid,name,status", lsn: 1) },
            at: "2026-12-01T00:00:00Z", name: { "drop-\(String(format: "%06d", $0)).jsonl" }, in: db)
        try Outbox.setPaused(false, subscription: "drop", in: db)
        return (first.root, rows.map(\.seq))
    }

    static func names(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    @Test(.timeLimit(.minutes(2)))
    func aFileRenamedBeforeTheCrashIsRecordedDeliveredNotWrittenAgain() async throws {
        let dir = URL(fileURLWithPath: "/tmp/renkei-fs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (root, _) = try await Self.stage(dir)
        // The rename happened; the consumer may even have read the file already. No marker yet.
        try Data("renamed before the crash\n".utf8).write(to: dir.appendingPathComponent("drop-000001.jsonl"))
        let second = try await DeliveryFixture(subscriptions: Self.subscriptions(dir: dir.path), sources: ["resident"], root: root)
        let settled = await second.wait { await second.counts("drop")["delivered"] == 2 }
        let counts = await second.counts("drop")
        #expect(settled, "\(counts)")
        #expect(await second.counts("drop")["backlog"] == 0)
        #expect(Self.names(dir) == ["drop-000001.jsonl", "drop-000001.jsonl.done"], "written again? \(Self.names(dir))")
        #expect(try String(contentsOf: dir.appendingPathComponent("drop-000001.jsonl"), encoding: .utf8) == "renamed before the crash\n")
        let ledger = await second.request("GET", "/v1/disclosures?uid=U0000000001").json["disclosures"]?.arrayValue ?? []
        #expect(ledger.map { $0["file"] } == ["drop-000001.jsonl"], "\(ledger)")
        await second.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func aFileNeverRenamedIsDroppedAndWrittenAgainUnderTheSameNumber() async throws {
        let dir = URL(fileURLWithPath: "/tmp/renkei-fs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (root, _) = try await Self.stage(dir)
        try Data("half a file\n".utf8).write(to: dir.appendingPathComponent(".drop.deltas.tmp"))
        let second = try await DeliveryFixture(subscriptions: Self.subscriptions(dir: dir.path), sources: ["resident"], root: root)
        let settled = await second.wait { await second.counts("drop")["delivered"] == 2 }
        let counts = await second.counts("drop")
        #expect(settled, "\(counts)")
        #expect(Self.names(dir) == ["drop-000001.jsonl", "drop-000001.jsonl.done"], "\(Self.names(dir))")
        let lines = try String(contentsOf: dir.appendingPathComponent("drop-000001.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("{") && $0.contains("\"subscription\":\"drop\"") }, "\(lines)")
        #expect(second.logLines.contains { $0.contains("was never renamed into place") })
        await second.stop()
    }
}

/// Issue 17: the send-time policy applies when a record is written, as when an HTTP body leaves: a
/// person who became protected after the delta was planned goes into the file without an address,
/// in deltas and in a full export alike.
@Suite("File subscription purpose limitation", .serialized)
struct FileSubscriptionPolicyTests {
    @Test(.timeLimit(.minutes(2)))
    func aPersonProtectedSincePlanningIsWrittenWithoutAnAddress() async throws {
        let dir = URL(fileURLWithPath: "/tmp/renkei-fs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let address = "東京都千代田区九段南1丁目2番1号"
        let fixture = try await DeliveryFixture(
            subscriptions: [
                "drop": [
                    "fields": ["uid", "name", "address", "status"],
                    "file": ["dir": .string(dir.path), "format": "jsonl", "cut_every_rows": 1, "cut_every_s": 3600],
                ]
            ], sources: ["resident"])
        #expect(await fixture.request("POST", "/v1/subscriptions/drop/pause").status == 200)
        #expect(await fixture.ingest([
            Events.registered("R-1", subject: "S1", name: "保護 花子", address: address, household: "H1"),
            Events.protection("R-2", subject: "S1", true),
        ]) == 2)
        #expect(await fixture.wait { await fixture.counts("drop")["backlog"]?.integerValue ?? 0 >= 1 })
        #expect(await fixture.request("POST", "/v1/subscriptions/drop/resume").status == 200)
        let settled = await fixture.wait { await fixture.counts("drop")["backlog"] == 0 }
        let counts = await fixture.counts("drop")
        #expect(settled, "\(counts)")
        let export = await fixture.request("POST", "/v1/subscriptions/drop/export")
        #expect(export.status == 200 && export.json["rows"] == 1, "\(export.json)")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names.contains("drop-000001.jsonl") && names.contains { $0.hasSuffix("-full.jsonl") }, "\(names)")
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains(address) && !text.contains("\"address\":"), "\(name): \(text)")
            #expect(text.contains("保護 花子") && text.contains("\"withheld\":[\"address\"]"), "\(name): \(text)")
        }
        await fixture.stop()
    }
}

/// Issue 17: a file subscription in shadow mode goes as far as a live one and writes nothing.
@Suite("File subscription in shadow mode", .serialized)
struct FileSubscriptionShadowTests {
    @Test(.timeLimit(.minutes(2)))
    func aShadowFileSubscriptionWritesNoFileAndRecordsItsDeltasShadowed() async throws {
        let dir = URL(fileURLWithPath: "/tmp/renkei-fs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = try await DeliveryFixture(
            subscriptions: [
                "drop": [
                    "mode": "shadow", "fields": ["uid", "name", "status"],
                    "file": ["dir": .string(dir.path), "format": "jsonl", "cut_every_rows": 1, "cut_every_s": 1],
                ]
            ], sources: ["resident"])
        #expect(await fixture.ingest([
            Events.registered("R-1", subject: "S1", name: "影 一郎", address: "住所1", household: "H1"),
            Events.registered("R-2", subject: "S2", name: "影 二郎", address: "住所2", household: "H2"),
        ]) == 2)
        let shadowed = await fixture.wait { await fixture.counts("drop")["shadowed"] == 2 }
        let counts = await fixture.counts("drop")
        #expect(shadowed && counts["delivered"] == 0 && counts["backlog"] == 0, "\(counts)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).isEmpty)
        let export = await fixture.request("POST", "/v1/subscriptions/drop/export")
        #expect(export.status == 409, "\(export.json)")
        let ledger = await fixture.request("GET", "/v1/disclosures?uid=U0000000001").json["disclosures"]?.arrayValue ?? []
        #expect(ledger.isEmpty, "\(ledger)")
        await fixture.stop()
    }
}
