import Foundation
import RenkeiCore
import RenkeiSystem
import Testing

/// Issue 17, reconciliation (突合), end to end: a real renkeid fed through its spool folders, one file
/// at a time. Each of the five checks opens a finding when the registry and a system disagree and
/// resolves it when a later event settles it; findings are explained through the socket and through
/// `renkeictl`; the cp932 CSV export, `/metrics`, and a rebuild that reproduces every finding and its
/// history; a protected person's finding never shows the address.
@Suite struct ReconciliationScenarioTests {
    static let address = "東京都千代田区九段南1丁目2番1号"
    static let protectedAddress = "東京都港区芝公園4丁目2番8号"

    static func person(_ atena: String, _ id: String, _ name: String, _ kana: String, _ birth: String,
                       household: String, relationship: String = "世帯主", address: String = address) -> String {
        envelopeLine(
            source: "resident", eventID: id, type: "resident.registered", subject: atena,
            data: [
                "reason": "move_in", "name": .string(name), "name_kana": .string(kana), "birth_date": .string(birth),
                "sex": "unknown", "address": .string(address), "household_no": .string(household),
                "relationship": .string(relationship),
            ])
    }

    static func resident(_ atena: String, _ id: String, _ verb: String, _ data: JSONObject = [:]) -> String {
        envelopeLine(source: "resident", eventID: id, type: "resident.\(verb)", subject: atena, data: data)
    }

    static func patron(_ subject: String, _ id: String, _ name: String, _ kana: String, _ birth: String,
                       address: String = address) -> String {
        envelopeLine(
            source: "library", eventID: id, type: "library.patron_registered", subject: subject,
            data: ["name": .string(name), "name_kana": .string(kana), "birth_date": .string(birth), "address": .string(address)])
    }

    /// Drops `lines` as one spool file of `source` and waits until the daemon has taken it and
    /// applied it (the file in `done/`, the views at the log's head).
    static func feed(_ daemon: DaemonHarness, _ source: String, _ name: String, _ lines: [String]) async throws {
        try daemon.writeSpoolFile(source: source, name: name, text: lines.joined(separator: "\n") + "\n")
        let done = daemon.spool(source).appendingPathComponent("done/\(name)").path
        #expect(try await daemon.waitUntil(timeout: .seconds(90)) { FileManager.default.fileExists(atPath: done) },
                "\(source)/\(name) never reached done/: \(daemon.stderrTail())")
        let rejected = daemon.spool(source).appendingPathComponent("rejected").path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: rejected))?.isEmpty ?? true, "\(name): lines rejected")
        #expect(try await daemon.settledStatus(timeout: .seconds(90)) != nil, "the views never caught up after \(name)")
    }

    /// The findings of `check` in `state` (open and explained without one).
    static func findings(_ daemon: DaemonHarness, _ check: String, state: String? = nil) async throws -> [JSONValue] {
        let reply = try await daemon.get("/v1/reconciliation/\(check)?limit=1000" + (state.map { "&state=\($0)" } ?? ""))
        #expect(reply.status == 200, "GET findings of \(check): \(reply.status) \(reply.text)")
        return reply.json["findings"]?.arrayValue ?? []
    }

    static func uid(_ daemon: DaemonHarness, _ source: String, _ subject: String) async throws -> String {
        let reply = try await daemon.get("/v1/persons?source=\(source)&subject=\(subject)")
        return try #require(reply.json["uid"]?.stringValue, "\(source) \(subject) is not linked: \(reply.text)")
    }

    /// Every finding of every check in every state, each with its history: what a rebuild must reproduce.
    static func everything(_ daemon: DaemonHarness) async throws -> [String] {
        var all: [String] = []
        for check in ReconciliationChecks.standard.map(\.name) {
            for state in ["open", "explained", "resolved"] {
                for finding in try await findings(daemon, check, state: state) {
                    let id = finding["id"]?.stringValue ?? ""
                    all.append(try await daemon.get("/v1/reconciliation/\(check)/\(id)").text)
                }
            }
        }
        return all.sorted()
    }

    static func renkeictl(_ daemon: DaemonHarness, _ arguments: [String]) throws -> SystemAccounts.Outcome {
        try SystemAccounts.run(TestPaths.binDir.appendingPathComponent("renkeictl").path, ["--socket", daemon.statusSocket] + arguments)
    }

    @Test func eachCheckIsFoundThenResolvedExplainedAndRebuilt() async throws {
        try await withDaemon { daemon in
            try await daemon.start()
            // Before anything: every check listed, nothing open.
            let empty = try await daemon.get("/v1/reconciliation").json["checks"]?.objectValue ?? [:]
            #expect(empty.keys == ReconciliationChecks.standard.map(\.name))
            #expect(empty.allSatisfy { $0.value["open"] == 0 && $0.value["explained"] == 0 })

            // The registry: a guardian (H1), her child registered in another household (H3), two adults
            // with library cards (one protected later), a third holding two cards.
            try await Self.feed(daemon, "resident", "r-0001.jsonl", [
                Self.person("000500001", "R1", "佐藤 良子", "サトウ リョウコ", "1988-04-04", household: "H1"),
                Self.person("000500002", "R2", "佐藤 陽太", "サトウ ヨウタ", "2021-05-05", household: "H3"),
                Self.person("000500003", "R3", "田中 一郎", "タナカ イチロウ", "1940-01-10", household: "H2"),
                Self.person("000500004", "R4", "伊藤 保子", "イトウ ヤスコ", "1950-02-20", household: "H4",
                            address: Self.protectedAddress),
                Self.person("000500005", "R5", "渡辺 二郎", "ワタナベ ジロウ", "1977-07-07", household: "H5"),
            ])
            try await Self.feed(daemon, "childcare", "c-0001.jsonl", [
                envelopeLine(source: "childcare", eventID: "C1", type: "childcare.applied", subject: "CH-0001", data: [
                    "child": ["atena_no": "000500002", "name": "佐藤 陽太", "birth_date": "2021-05-05"],
                    "guardians": [["atena_no": "000500001", "name": "佐藤 良子"]], "preferred_facilities": ["F-01"],
                ]),
                envelopeLine(source: "childcare", eventID: "C2", type: "childcare.enrolled", subject: "CH-0001", data: [
                    "facility_code": "F-01", "start_date": "2026-04-01", "certification": "2",
                ]),
            ])
            try await Self.feed(daemon, "library", "l-0001.jsonl", [
                Self.patron("L-0003", "P1", "田中 一郎", "タナカ イチロウ", "1940-01-10"),
                Self.patron("L-0004", "P2", "伊藤 保子", "イトウ ヤスコ", "1950-02-20", address: Self.protectedAddress),
                Self.patron("L-0051", "P3", "渡辺 二郎", "ワタナベ ジロウ", "1977-07-07"),
                Self.patron("L-0052", "P4", "渡辺 二郎", "ワタナベ ジロウ", "1977-07-07"),
            ])
            try await Self.feed(daemon, "tax", "t-0001.jsonl", [
                // A 宛名番号 the registry never sent, and a 住登外 taxpayer (no 宛名番号: not a finding).
                envelopeLine(source: "tax", eventID: "T1", type: "tax.assessed", subject: "TX-0009", data: [
                    "fiscal_year": 2026, "taxable": true, "income_levy": 120000, "per_capita_levy": 5000, "atena_no": "000500009",
                ]),
                envelopeLine(source: "tax", eventID: "T2", type: "tax.assessed", subject: "TX-0010", data: [
                    "fiscal_year": 2026, "taxable": true, "income_levy": 80000, "per_capita_levy": 5000,
                    "name": "住登外 三郎", "birth_date": "1966-06-06", "address": "大阪府大阪市北区梅田1-1-1",
                ]),
            ])
            let guardian = try await Self.uid(daemon, "resident", "000500001")
            let child = try await Self.uid(daemon, "resident", "000500002")
            let tanaka = try await Self.uid(daemon, "resident", "000500003")
            let ito = try await Self.uid(daemon, "resident", "000500004")
            let watanabe = try await Self.uid(daemon, "resident", "000500005")
            #expect(try await Self.uid(daemon, "library", "L-0003") == tanaka)
            #expect(try await Self.uid(daemon, "library", "L-0004") == ito)
            #expect(try await Self.uid(daemon, "library", "L-0052") == watanabe)

            let apart = try await Self.findings(daemon, "guardian_child_apart")
            #expect(apart.count == 1 && apart.first?["uid"]?.stringValue == guardian, "\(apart)")
            #expect(apart.first?["facts"]?["child"]?["uid"]?.stringValue == child)
            #expect(apart.first?["facts"]?["child"]?["household_no"] == "H3" && apart.first?["since"]?.stringValue != nil)
            let duplicate = try await Self.findings(daemon, "duplicate_registration")
            #expect(duplicate.count == 1 && duplicate.first?["uid"]?.stringValue == watanabe, "\(duplicate)")
            #expect(duplicate.first?["facts"]?["subjects"] == ["L-0051", "L-0052"])
            let tax = try await Self.findings(daemon, "tax_without_registry")
            #expect(tax.count == 1 && tax.first?["facts"]?["taxpayer_no"] == "TX-0009", "only the keyed taxpayer: \(tax)")
            #expect(try await Self.findings(daemon, "library_card_of_deceased").isEmpty)
            #expect(try await Self.findings(daemon, "childcare_after_departure").isEmpty)

            // Protection set, then deaths; the child joins the guardian's household; the registry
            // sends the missing 宛名番号.
            try await Self.feed(daemon, "resident", "r-0002.jsonl", [
                Self.resident("000500004", "R6", "protection_changed", ["protected": true]),
                Self.resident("000500003", "R7", "died"),
                Self.resident("000500004", "R8", "died"),
                Self.resident("000500002", "R9", "household_changed", ["household_no": "H1", "relationship": "子"]),
                Self.person("000500009", "R10", "高橋 四郎", "タカハシ シロウ", "1970-10-10", household: "H9"),
            ])
            #expect(try await Self.findings(daemon, "guardian_child_apart").isEmpty, "resolved by the household change")
            #expect(try await Self.findings(daemon, "tax_without_registry").isEmpty, "resolved by the registration")
            #expect(try await Self.findings(daemon, "guardian_child_apart", state: "resolved").count == 1)
            let cards = try await Self.findings(daemon, "library_card_of_deceased")
            #expect(Set(cards.compactMap { $0["uid"]?.stringValue }) == [tanaka, ito], "\(cards)")
            let tanakaCard = try #require(cards.first { $0["uid"]?.stringValue == tanaka })
            let itoCard = try #require(cards.first { $0["uid"]?.stringValue == ito })
            #expect(tanakaCard["facts"]?["address"]?.stringValue == Self.address)
            // The protected person is listed, without the address.
            #expect(itoCard["facts"]?["address"] == nil && itoCard["facts"]?["protected"] == true, "\(itoCard)")
            #expect(!itoCard.serializedString.contains("芝公園"))
            #expect(itoCard["facts"]?["name"] == "伊藤 保子" && itoCard["facts"]?["patron_no"] == "L-0004")

            // Explained through the socket (refused first for a bad body and an unknown id), and through renkeictl.
            let tanakaID = try #require(tanakaCard["id"]?.stringValue)
            let itoID = try #require(itoCard["id"]?.stringValue)
            let base = "/v1/reconciliation/library_card_of_deceased"
            #expect(try await daemon.request("POST", "\(base)/\(tanakaID)/explain", body: Array(#"{"memo":"x"}"#.utf8)).status == 400)
            #expect(try await daemon.request("POST", "\(base)/F0000000000000000/explain", body: Array(#"{"note":"x"}"#.utf8)).status == 404)
            #expect(try await daemon.request("POST", "/v1/reconciliation/no_such_check/\(tanakaID)/explain",
                                             body: Array(#"{"note":"x"}"#.utf8)).status == 404)
            let explained = try await daemon.request(
                "POST", "\(base)/\(tanakaID)/explain", body: Array(#"{"note":"遺族にカード返却を依頼済み (12/1 電話)"}"#.utf8),
                contentType: "application/json")
            #expect(explained.status == 200 && explained.json["state"] == "explained", "\(explained.text)")
            #expect(try await daemon.request("POST", "\(base)/\(tanakaID)/explain", body: Array(#"{"note":"again"}"#.utf8)).status == 409)
            let ctl = try Self.renkeictl(daemon, ["reconcile", "explain", "library_card_of_deceased", itoID, "--note", "支援措置対象: 担当課で確認中"])
            #expect(ctl.status == 0, "renkeictl reconcile explain: \(ctl.stderr)")
            let counts = try await daemon.get("/v1/reconciliation").json["checks"]?["library_card_of_deceased"]
            #expect(counts?["open"] == 0 && counts?["explained"] == 2, "\(String(describing: counts))")
            let listed = try Self.renkeictl(daemon, ["reconcile"])
            #expect(listed.status == 0 && listed.stdout.contains("library_card_of_deceased"), "\(listed.stdout) \(listed.stderr)")
            let explainedEvents = try await daemon.get("/v1/persons/\(ito)/history")
            #expect(explainedEvents.status == 200)

            // The child moves away while enrolled; a duplicate card is withdrawn; the deceased man's card too.
            try await Self.feed(daemon, "resident", "r-0003.jsonl", [
                Self.resident("000500002", "R11", "moved_out", ["destination": "横浜市"]),
            ])
            let departed = try await Self.findings(daemon, "childcare_after_departure")
            #expect(departed.count == 1 && departed.first?["uid"]?.stringValue == child, "\(departed)")
            #expect(departed.first?["facts"]?["childcare_status"] == "enrolled" && departed.first?["facts"]?["facility_code"] == "F-01")

            // The cp932 CSV for Excel, and the metrics.
            let csvFile = daemon.root.appendingPathComponent("findings.csv").path
            let exported = try SystemAccounts.run("/bin/sh", ["-c",
                "'\(TestPaths.binDir.appendingPathComponent("renkeictl").path)' --socket '\(daemon.statusSocket)' reconcile --csv > '\(csvFile)'"])
            #expect(exported.status == 0, "renkeictl reconcile --csv: \(exported.stderr)")
            let bytes = try #require(FileManager.default.contents(atPath: csvFile).map { Array($0) })
            let text = try TextDecoder.decode(bytes, as: .cp932)
            let rows = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.first?.hasPrefix("突合,所見ID,統合ID,状態") == true, "\(rows.first ?? "")")
            #expect(rows.count == 1 + 4, "header, two cards, the duplicate and the child: \(rows)")
            #expect(rows.contains { $0.contains("田中 一郎") && $0.contains(Self.address) && $0.contains("遺族にカード返却") })
            #expect(rows.contains { $0.contains("伊藤 保子") } && !text.contains("芝公園"))
            let metrics = try await daemon.get("/metrics").text
            #expect(metrics.contains(#"renkei_reconciliation_findings{check="library_card_of_deceased",state="explained"} 2"#))
            #expect(metrics.contains(#"renkei_reconciliation_findings{check="childcare_after_departure",state="open"} 1"#))

            try await Self.feed(daemon, "library", "l-0002.jsonl", [
                envelopeLine(source: "library", eventID: "P5", type: "library.patron_withdrawn", subject: "L-0052", data: [:]),
                envelopeLine(source: "library", eventID: "P6", type: "library.patron_withdrawn", subject: "L-0003", data: [:]),
            ])
            try await Self.feed(daemon, "childcare", "c-0002.jsonl", [
                envelopeLine(source: "childcare", eventID: "C3", type: "childcare.withdrawn", subject: "CH-0001",
                             data: ["end_date": "2026-06-30", "reason": "転出"]),
            ])
            #expect(try await Self.findings(daemon, "duplicate_registration").isEmpty)
            #expect(try await Self.findings(daemon, "childcare_after_departure").isEmpty)
            #expect(try await Self.findings(daemon, "library_card_of_deceased").map { $0["uid"]?.stringValue } == [ito])
            // Both stay on record: the explained card that resolved keeps its note and its history.
            let record = try await daemon.get("\(base)/\(tanakaID)").json
            #expect(record["state"] == "resolved" && record["explanation"]?["note"]?.stringValue?.contains("遺族") == true)
            #expect(record["history"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } == ["opened", "explained", "resolved"])

            // A rebuild from the log reproduces every finding, state, note and history line.
            let before = try await Self.everything(daemon)
            #expect(before.count == 6, "five checks' findings in every state: \(before)")
            #expect(try await daemon.request("POST", "/v1/rebuild").status == 202)
            #expect(try await daemon.settledStatus(timeout: .seconds(120)) != nil)
            #expect(try await Self.everything(daemon) == before)
            // And so does a restart (the stored findings are loaded).
            try await daemon.restart()
            #expect(try await Self.everything(daemon) == before)
            try await daemon.stop()
        }
    }
}
