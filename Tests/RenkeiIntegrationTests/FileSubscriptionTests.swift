import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 17: a CSV CP932 file subscription receiving a town's life events, through the contract's
/// interfaces only (configuration, replay, the status socket, the folder): golden files compared
/// byte for byte, done markers, a dead letter naming the person and field for a name CP932 cannot
/// hold, and a real `renkeid` killed with SIGKILL while a file is half written, then restarted —
/// nothing lost, nothing doubled, sequence numbers continuing.
@Suite("File subscriptions")
struct FileSubscriptionTests {
    static let fixtures = TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/file-subscription")
    static let fields: [JSONValue] = ["uid", "status", "name", "name_kana", "birth_date", "sex", "address", "postal_code", "household_no"]

    static func subscription(dir: String, encoding: String, cutEveryRows: Int) -> JSONValue {
        [
            "kinds": ["person.created", "person.changed"], "fields": .array(fields),
            "file": [
                "dir": .string(dir), "format": "csv", "encoding": .string(encoding),
                "mapping": .string(fixtures.appendingPathComponent("out-town-life.json").path),
                "cut_every_rows": .integer(Int64(cutEveryRows)), "cut_every_s": 3600, "done_marker": true,
            ],
        ]
    }

    static func registered(_ id: String, _ subject: String, name: String, kana: String, birth: String, sex: String,
                           address: String, household: String, relationship: String, reason: String = "move_in") -> String {
        envelopeLine(
            source: "resident", eventID: id, type: "resident.registered", subject: subject,
            data: [
                "reason": .string(reason), "name": .string(name), "name_kana": .string(kana), "birth_date": .string(birth),
                "sex": .string(sex), "address": .string(address), "postal_code": "102-0074", "household_no": .string(household),
                "relationship": .string(relationship),
            ])
    }

    static func moved(_ id: String, _ subject: String, address: String) -> String {
        envelopeLine(source: "resident", eventID: id, type: "resident.moved", subject: subject,
                     occurredAt: "2026-05-01T09:00:00+09:00", data: ["address": .string(address)])
    }

    /// The town's first day: six registrations (one named with 𠮷, which CP932 has no code for), three
    /// moves (one of the 𠮷 person's), a death and a move out. Ten deltas can be written.
    static let firstDay: [String] = [
        registered("T-01", "000000101", name: "髙橋 一郎", kana: "タカハシ イチロウ", birth: "1980-04-01", sex: "male",
                   address: "東京都千代田区九段南1丁目2番1号", household: "H0001", relationship: "世帯主"),
        registered("T-02", "000000102", name: "髙橋 花子", kana: "タカハシ ハナコ", birth: "1982-12-24", sex: "female",
                   address: "東京都千代田区九段南1丁目2番1号", household: "H0001", relationship: "妻"),
        registered("T-03", "000000103", name: "𠮷田 太郎", kana: "ヨシダ タロウ", birth: "1975-07-07", sex: "male",
                   address: "東京都千代田区富士見2丁目10番", household: "H0002", relationship: "世帯主"),
        registered("T-04", "000000104", name: "山﨑 次郎", kana: "ヤマサキ ジロウ", birth: "1940-01-15", sex: "male",
                   address: "東京都千代田区三番町6番地", household: "H0003", relationship: "世帯主"),
        registered("T-05", "000000105", name: "渡邊 さくら", kana: "ワタナベ サクラ", birth: "1999-03-03", sex: "female",
                   address: "東京都千代田区麹町3丁目1～3番地 \"メゾン,麹町\" 101号", household: "H0004", relationship: "世帯主"),
        registered("T-06", "000000106", name: "鈴木 三郎", kana: "スズキ サブロウ", birth: "1990-10-10", sex: "unknown",
                   address: "東京都千代田区飯田橋1丁目", household: "H0005", relationship: "世帯主"),
        moved("T-07", "000000101", address: "東京都千代田区九段北4丁目1番"),
        moved("T-08", "000000103", address: "東京都千代田区富士見1丁目"),
        envelopeLine(source: "resident", eventID: "T-09", type: "resident.died", subject: "000000104",
                     occurredAt: "2026-05-02T09:00:00+09:00", data: [:]),
        moved("T-10", "000000102", address: "東京都千代田区九段北4丁目1番"),
        envelopeLine(source: "resident", eventID: "T-11", type: "resident.moved_out", subject: "000000106",
                     occurredAt: "2026-05-03T09:00:00+09:00", data: ["destination": "大阪府大阪市"]),
        registered("T-12", "000000107", name: "髙橋 翔", kana: "タカハシ ショウ", birth: "2026-05-05", sex: "male",
                   address: "東京都千代田区九段北4丁目1番", household: "H0001", relationship: "子", reason: "birth"),
    ]

    /// The second day: one move and one registration — two more deltas.
    static let secondDay: [String] = [
        moved("T-13", "000000105", address: "東京都千代田区平河町1丁目"),
        registered("T-14", "000000108", name: "中村 ゆり", kana: "ナカムラ ユリ", birth: "1988-08-08", sex: "female",
                   address: "東京都千代田区一番町", household: "H0006", relationship: "世帯主"),
    ]

    static func names(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    /// The lines of the file in progress (CRLF-terminated records, the header included).
    static func temporaryLines(_ dir: URL, _ subscription: String) -> Int {
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(".\(subscription).deltas.tmp").path) else { return -1 }
        return data.count(where: { $0 == 0x0A })
    }

    static func counts(_ daemon: DaemonHarness, _ name: String) async throws -> JSONValue {
        try await daemon.status()["subscriptions"]?[name] ?? .null
    }

    @Test(.timeLimit(.minutes(6)))
    func aTownsLifeEventsAsCP932FilesSurviveAKillMidFile() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            let out = daemon.root.appendingPathComponent("out/town-life")
            let exportOut = daemon.root.appendingPathComponent("out/town-export")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: exportOut, withIntermediateDirectories: true)
            try await daemon.setSubscriptions([
                "town-life": Self.subscription(dir: out.path, encoding: "cp932", cutEveryRows: 4),
                "town-export": Self.subscription(dir: exportOut.path, encoding: "utf-8", cutEveryRows: 1000),
            ])
            try await daemon.start()
            // Paused while the day is replayed, so the lane reads the whole day at once (the files'
            // contents then do not depend on how the projector's commits fell).
            let pause = try await daemon.request("POST", "/v1/subscriptions/town-life/pause")
            #expect(pause.status == 200, "\(pause.text)")
            let reply = try await daemon.replay(Self.firstDay)
            #expect(reply.json["accepted"]?.integerValue == Int64(Self.firstDay.count), "\(reply.text)")
            let planned = try await daemon.waitUntil(timeout: .seconds(60)) {
                try await Self.counts(daemon, "town-life")["backlog"] == 12
            }
            let plannedCounts = try await Self.counts(daemon, "town-life")
            #expect(planned, "\(plannedCounts)")
            let resume = try await daemon.request("POST", "/v1/subscriptions/town-life/resume")
            #expect(resume.status == 200, "\(resume.text)")

            // Two files of four rows are published; the last two writable rows wait in the file in
            // progress (cut_every_s is an hour); 𠮷田's registration is a dead letter and his move waits.
            let halfway = try await daemon.waitUntil(timeout: .seconds(60)) {
                let names = Self.names(out)
                let counts = try await Self.counts(daemon, "town-life")
                return names.contains("town-life-000002.csv.done") && Self.temporaryLines(out, "town-life") == 3
                    && counts["dead_letters"] == 1 && counts["delivered"] == 8
            }
            #expect(halfway, "folder: \(Self.names(out)), in progress: \(Self.temporaryLines(out, "town-life")) lines; \(daemon.stderrTail())")
            let halfwayCounts = try await Self.counts(daemon, "town-life")
            #expect(halfwayCounts["delivered"] == 8, "\(halfwayCounts)")

            // SIGKILL between rows of the third file, then a restart: the half-written file is dropped
            // and rebuilt from the outbox.
            try await daemon.kill9()
            #expect(Self.names(out).contains(".town-life.deltas.tmp"))
            try await daemon.start()
            let rebuilt = try await daemon.waitUntil(timeout: .seconds(60)) { Self.temporaryLines(out, "town-life") == 3 }
            #expect(rebuilt, "folder after restart: \(Self.names(out)); \(daemon.stderrTail())")
            let second = try await daemon.replay(Self.secondDay)
            #expect(second.json["accepted"]?.integerValue == Int64(Self.secondDay.count), "\(second.text)")
            let finished = try await daemon.waitUntil(timeout: .seconds(60)) {
                let delivered = try await Self.counts(daemon, "town-life")["delivered"]
                return Self.names(out).contains("town-life-000003.csv.done") && delivered == 12
            }
            let finishedCounts = try await Self.counts(daemon, "town-life")
            #expect(finished, "folder: \(Self.names(out)); \(finishedCounts)")

            // Byte for byte: three files of four records each, CP932, CRLF, with done markers.
            #expect(Self.names(out) == [
                "town-life-000001.csv", "town-life-000001.csv.done", "town-life-000002.csv", "town-life-000002.csv.done",
                "town-life-000003.csv", "town-life-000003.csv.done",
            ])
            var written: [String] = []
            for n in 1...3 {
                let name = "town-life-00000\(n).csv"
                let actual = try Data(contentsOf: out.appendingPathComponent(name))
                let golden = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
                #expect(actual == golden, "\(name) differs from Tests/Fixtures/file-subscription/\(name)")
                #expect(try Data(contentsOf: out.appendingPathComponent(name + ".done")).isEmpty)
                // 0640 whatever the daemon's umask: the transfer product's group reads it.
                let mode = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(name).path)[.posixPermissions] as? Int
                #expect(mode == 0o640, "\(name): mode \(String(mode ?? 0, radix: 8))")
                // Every delta exactly once across the files (none lost, none doubled by the kill).
                let text = String(decoding: actual, as: UTF8.self)
                written += text.split(separator: "\r\n").dropFirst().map(String.init)
            }
            #expect(written.count == 12 && Set(written).count == 12, "\(written)")

            // 𠮷田: a dead letter naming the person and the field, never the name; his move waits behind it.
            let letters = try await daemon.get("/v1/dead-letters?subscription=town-life").json["dead_letters"]?.arrayValue ?? []
            #expect(letters.count == 1, "\(letters)")
            let error = letters.first?["error"]?.stringValue ?? ""
            #expect(error.contains("uid U0000000003") && error.contains("氏名") && error.contains("view.name") && error.contains("U+20BB7"), "\(error)")
            #expect(!error.contains("𠮷田") && !error.contains("?田"), "\(error)")
            let counts = try await Self.counts(daemon, "town-life")
            #expect(counts["backlog"] == 2 && counts["dead_letters"] == 1, "\(counts)")
            #expect(counts["file"]?["last_file"] == "town-life-000003.csv" && counts["file"]?["dir"] == .string(out.path), "\(counts)")

            // The ledger names the file each delta went out in.
            let ledger = try await daemon.get("/v1/disclosures?uid=U0000000001").json["disclosures"]?.arrayValue ?? []
            let files = ledger.filter { $0["subscription"] == "town-life" }.compactMap { $0["file"]?.stringValue }
            #expect(files.count == 2 && files.allSatisfy { $0.hasPrefix("town-life-00000") && $0.hasSuffix(".csv") }, "\(ledger)")

            // A full export (全件) of a subscription whose encoding holds every name: one file, golden;
            // of the CP932 one: refused, naming the person and field, and nothing left in the folder.
            let export = try await daemon.request("POST", "/v1/subscriptions/town-export/export")
            #expect(export.status == 200, "\(export.text)")
            #expect(export.json["file"] == "town-export-000001-full.csv" && export.json["rows"] == 8, "\(export.text)")
            let exported = try Data(contentsOf: exportOut.appendingPathComponent("town-export-000001-full.csv"))
            let exportGolden = try Data(contentsOf: Self.fixtures.appendingPathComponent("town-export-000001-full.csv"))
            #expect(exported == exportGolden, "the export differs from Tests/Fixtures/file-subscription/town-export-000001-full.csv")
            #expect(Self.names(exportOut).contains("town-export-000001-full.csv.done"))
            let refused = try await daemon.request("POST", "/v1/subscriptions/town-life/export")
            #expect(refused.status == 422 && refused.text.contains("U0000000003") && refused.text.contains("view.name"), "\(refused.text)")
            #expect(!Self.names(out).contains { $0.contains("full") || $0.contains("export") }, "\(Self.names(out))")
            let nobody = try await daemon.request("POST", "/v1/subscriptions/nobody/export")
            #expect(nobody.status == 404)
            let exit = try await daemon.stop()
            #expect(exit == 0)
        }
    }
}
