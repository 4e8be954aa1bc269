import Foundation
import RenkeiCore
import RenkeiSystem
import Testing
@testable import RenkeiControl

@Suite struct ControlCommandLineTests {
    func run(_ arguments: String) -> ControlInvocation? {
        if case .run(let invocation) = ControlInvocation.parse(arguments.split(separator: " ").map(String.init)) {
            return invocation
        }
        return nil
    }

    func isUsageError(_ arguments: String) -> Bool {
        if case .usage = ControlInvocation.parse(arguments.split(separator: " ").map(String.init)) { return true }
        return false
    }

    @Test func globalOptionsAnywhere() {
        let invocation = run("--socket /tmp/s.sock status --json")
        #expect(invocation?.socketPath == "/tmp/s.sock")
        #expect(invocation?.json == true)
        #expect(invocation?.command == .status)
        #expect(run("status --config=/etc/x.json")?.configPath == "/etc/x.json")
    }

    @Test func commandsMapToEndpoints() {
        #expect(run("status")?.command.request.target == "/v1/status")
        #expect(run("person U0000000001")?.command.request.target == "/v1/persons/U0000000001")
        #expect(run("person U0000000001 --reveal-protected")?.command.request.target
            == "/v1/persons/U0000000001?reveal=protected")
        #expect(run("person --source library --subject L 0001")  == nil)  // stray word
        #expect(run("person --source library --subject L0001")?.command.request.target
            == "/v1/persons?source=library&subject=L0001")
        #expect(run("household 世帯1")?.command.request.target == "/v1/households/%E4%B8%96%E5%B8%AF1")
        #expect(run("history U0000000001")?.command.request.target == "/v1/persons/U0000000001/history")  // issue 13
        #expect(run("history") == nil)
        #expect(run("replay events.jsonl")?.command == .replay(file: "events.jsonl", chunkLines: 5000))
        #expect(run("rebuild")?.command.request.method == "POST")
        // Issue 14.
        #expect(run("linking estimate")?.command.request.method == "POST")
        #expect(run("linking estimate")?.command.request.target == "/v1/linking/estimate")
        #expect(run("linking report")?.command.request.method == "GET")
        #expect(run("linking report")?.command.request.target == "/v1/linking/report")
        #expect(run("linking") == nil && run("linking tune") == nil && run("linking report now") == nil)
        // Issue 16.
        #expect(run("snapshot list")?.command.request.target == "/v1/snapshots")
        #expect(run("snapshot list")?.command.request.method == "GET")
        #expect(run("snapshot accept 3")?.command.request.target == "/v1/snapshots/3/accept")
        #expect(run("snapshot discard 3")?.command.request.method == "POST")
        #expect(run("mapping check --source library night.csv")?.command == .mappingCheck(source: "library", file: "night.csv"))
        #expect(run("mapping check --source library night.csv")?.command.request.target == "/v1/mappings/library/check")
        #expect(run("mapping check night.csv") == nil)
        // Issue 17: the cut-over report.
        #expect(run("shadow diff juki legacy.csv --mapping m.json --encoding CP932 --limit 5")?.command == .shadowDiff(
            .init(name: "juki", file: "legacy.csv", mapping: "m.json", encoding: "cp932", limit: 5)))
        #expect(run("shadow diff juki legacy.csv --mapping m.json --source resident")?.command.request.target
            == "/v1/subscriptions/juki/shadow/diff")
        #expect(run("shadow diff juki legacy.csv") == nil)
        #expect(run("shadow diff juki legacy.csv --mapping m.json --encoding latin1") == nil)
        #expect(run("shadow diff juki legacy.csv --mapping m.json --uid U1") == nil)
        #expect(run("snapshot") == nil && run("snapshot accept") == nil && run("snapshot keep 3") == nil)
        // Issue 17.
        #expect(run("export juki-out")?.command.request.method == "POST")
        #expect(run("export juki-out")?.command.request.target == "/v1/subscriptions/juki-out/export")
        #expect(run("export") == nil && run("export a b") == nil)
        #expect(run("verify")?.command.request.target == "/v1/verify")
        #expect(run("dead-letters --subscription library-sync")?.command.request.target
            == "/v1/dead-letters?subscription=library-sync")
        #expect(run("dead-letters --subscription benefits --state skipped")?.command.request.target
            == "/v1/dead-letters?subscription=benefits&state=skipped")
        #expect(run("disclosures --uid U1")?.command.request.target == "/v1/disclosures?uid=U1")
        #expect(run("access-log")?.command.request.target == "/v1/access-log")
        #expect(run("subscription pause library-sync")?.command.request.target == "/v1/subscriptions/library-sync/pause")
        #expect(run("subscription replay benefits --from-lsn 42")?.command.request.target
            == "/v1/subscriptions/benefits/replay?from_lsn=42")
    }

    /// Issue 13: `keys rotate FILE` posts the new key file's path.
    @Test func reconcileMapsToTheReconciliationEndpoints() throws {
        #expect(run("reconcile")?.command == .reconcile(check: nil, csv: false, state: nil))
        #expect(run("reconcile")?.command.request.target == "/v1/reconciliation")
        #expect(run("reconcile duplicate_registration --state resolved")?.command.request.target
            == "/v1/reconciliation/duplicate_registration?state=resolved")
        #expect(run("reconcile --csv")?.command == .reconcile(check: nil, csv: true, state: nil))
        let explain = try #require(
            { () -> ControlInvocation? in
                if case .run(let invocation) = ControlInvocation.parse(
                    ["reconcile", "explain", "guardian_child_apart", "F0123456789abcdef", "--note", "別居監護 (確認済み)"])
                {
                    return invocation
                }
                return nil
            }())
        #expect(explain.command.request == ("POST", "/v1/reconciliation/guardian_child_apart/F0123456789abcdef/explain"))
        #expect(try JSONParser.parse(explain.command.body)["note"] == "別居監護 (確認済み)")
        #expect(isUsageError("reconcile explain guardian_child_apart F0123456789abcdef"))
        #expect(isUsageError("reconcile a b"))
        #expect(isUsageError("reconcile --state closed"))
        #expect(isUsageError("status --csv"))
    }

    @Test func findingsCSVIsCP932WithTheUnencodableListed() throws {
        let tanaka: JSONObject = [
            "id": "F0000000000000001", "uid": "U0000000001", "state": "explained", "since": "2026-12-01T00:00:00.000Z",
            "facts": [
                "name": "田中 一郎", "name_kana": "タナカ イチロウ", "birth_date": "1940-01-10", "status": "deceased",
                "address": "東京都千代田区九段南1-2-1", "patron_no": "L-3",
            ],
            "explanation": ["note": "遺族に返却依頼, 電話済み"],
        ]
        let yoshino: JSONObject = [
            "id": "F0000000000000002", "uid": "U0000000002", "state": "open", "since": "2026-12-01T00:00:00.000Z",
            "facts": ["name": "𠮷野 花子", "status": "deceased", "protected": true, "patron_no": "L-4"],
        ]
        let bytes = FindingsCSV.encode([("library_card_of_deceased", tanaka), ("library_card_of_deceased", yoshino)])
        #expect(!bytes.contains(UInt8(ascii: "?")))
        let text = try TextDecoder.decode(bytes, as: .cp932)
        let rows = text.components(separatedBy: "\r\n")
        #expect(rows.count == 4 && rows[3].isEmpty)
        #expect(rows[0] == FindingsCSV.header.joined(separator: ","))
        #expect(rows[1] == "library_card_of_deceased,F0000000000000001,U0000000001,explained,2026-12-01T00:00:00.000Z,"
            + "田中 一郎,タナカ イチロウ,1940-01-10,deceased,東京都千代田区九段南1-2-1,patron_no=L-3,\"遺族に返却依頼, 電話済み\",")
        #expect(rows[2] == "library_card_of_deceased,F0000000000000002,U0000000002,open,2026-12-01T00:00:00.000Z,"
            + "〓野 花子,,,deceased,,protected=true; patron_no=L-4,,氏名: 𠮷 (U+20BB7)".replacingOccurrences(of: "𠮷", with: "〓"))
    }

    @Test func keysRotateNamesTheNewKeyFile() throws {
        let command = try #require(run("keys rotate /etc/renkei/secrets/at-rest.key.new")?.command)
        #expect(command.request.method == "POST" && command.request.target == "/v1/keys/rotate")
        #expect(try JSONParser.parse(command.body)["key_file"]?.stringValue == "/etc/renkei/secrets/at-rest.key.new")
        #expect(isUsageError("keys"))
        #expect(isUsageError("keys rotate"))
        #expect(isUsageError("keys remove /tmp/k"))
        #expect(ControlHelp.text(for: "keys").contains("keys rotate FILE"))
    }

    @Test func usageErrors() {
        #expect(isUsageError(""))
        #expect(isUsageError("frobnicate"))
        #expect(isUsageError("status extra"))
        #expect(isUsageError("person"))
        #expect(isUsageError("person --source library"))
        #expect(isUsageError("status --reveal-protected"))
        #expect(isUsageError("disclosures"))
        #expect(isUsageError("subscription replay x"))
        #expect(isUsageError("subscription stop x"))
        #expect(isUsageError("--socket"))
        #expect(isUsageError("status --bogus"))
        #expect(isUsageError("verify --uid U1"))
    }

    @Test func help() {
        guard case .help(let overview) = ControlInvocation.parse(["--help"]) else {
            Issue.record("no help")
            return
        }
        #expect(overview.contains("replay"))
        guard case .help(let replay) = ControlInvocation.parse(["replay", "--help"]) else {
            Issue.record("no help")
            return
        }
        #expect(replay.contains("FILE:LINE"))
        #expect(ControlInvocation.parse(["help", "verify"]) != ControlInvocation.parse(["help"]))
    }

    @Test func socketResolution() throws {
        let config = Array(#"{"status_socket": "/srv/renkei.sock"}"#.utf8)
        let files: [String: [UInt8]] = ["/etc/renkei/renkei.json": config, "/bad.json": Array("{".utf8)]
        let read: (String) -> [UInt8]? = { files[$0] }
        #expect(try run("--socket /a status")!.resolveSocketPath(readFile: read).get() == "/a")
        #expect(try run("status")!.resolveSocketPath(readFile: read).get() == "/srv/renkei.sock")
        #expect(try run("status")!.resolveSocketPath(readFile: { _ in nil }).get() == "/run/renkei/status.sock")
        #expect((try? run("--config /missing.json status")!.resolveSocketPath(readFile: read).get()) == nil)
        #expect((try? run("--config /bad.json status")!.resolveSocketPath(readFile: read).get()) == nil)
    }
}

@Suite struct TextWidthTests {
    @Test func widths() {
        #expect(TextWidth.columns("abc") == 3)
        #expect(TextWidth.columns("山田太郎") == 8)
        #expect(TextWidth.columns("ヤマダ") == 6)
        #expect(TextWidth.columns("ﾔﾏﾀﾞ") == 4)  // halfwidth katakana, one column each
        #expect(TextWidth.columns("ＡＢ１") == 6)
        #expect(TextWidth.columns("髙﨑") == 4)
        #expect(TextWidth.columns("葛\u{E0100}") == 2)  // IVS selector takes no column
        #expect(TextWidth.columns("𠮷野") == 4)
        #expect(TextWidth.columns("ガ") == 2)
        #expect(TextWidth.columns("カ\u{3099}") == 2)
    }

    @Test func tablesAlignWithJapaneseText() {
        let reply: JSONValue = .object([
            "reviews": .array([
                .object(["id": "R1", "name": "山田太郎", "score": .double(0.8)]),
                .object(["id": "R22", "name": "Smith John", "score": .double(0.75)]),
            ])
        ])
        let lines = ReplyFormatter.render(reply).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let scoreColumns = lines.dropFirst().map { line -> Int in
            let prefix = line.components(separatedBy: "SCORE").count > 1 ? line.components(separatedBy: "SCORE")[0]
                : line.components(separatedBy: "0.")[0]
            return TextWidth.columns(prefix)
        }
        #expect(Set(scoreColumns).count == 1, "\(lines)")
    }

    @Test func keyValueLinesAndNestedTables() {
        let status: JSONValue = .object([
            "version": "0.1.0", "head_lsn": 12, "rebuild": nil,
            "sources": .object([
                "resident": .object(["events": 10, "last_error": nil]),
                "library": .object(["events": 2, "last_error": "bad line"]),
            ]),
        ])
        let text = ReplyFormatter.render(status)
        #expect(text.contains("version:  0.1.0"))
        #expect(text.contains("rebuild:  -"))
        #expect(text.contains("  NAME      EVENTS  LAST_ERROR"))
        #expect(text.contains("  library   2       bad line"))
    }
}
