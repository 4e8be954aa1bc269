import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Testing

/// JSON lines in a vendor's own shape read through a mapping (`sources.<name>.files.format`
/// `jsonl`, contract §7, issue 16): an e-library service's patron export, one object a line with
/// nested members, becomes library events like a CSV file would; bad lines are refused naming the
/// line and the member; a snapshot source of JSON lines gives only the differences.
@Suite("Ingest: mapped JSON lines")
struct IngestMappedJSONLinesTests {
    /// The e-library's mapping: nested members by dotted names, a number as the subject, an e-mail ignored.
    static func mapping(snapshot: Bool) -> String {
        let events = """
        {"comment": "電子図書館サービスの利用者ファイル (JSON Lines) / an e-library service's patron export",
         "ignore": ["メール"],
         "events": [{"type": "library.patron_registered",
                     "subject": "会員番号",
                     "event_id": {"columns": ["会員番号"]},
                     "occurred_at": "登録日",
                     "data": {"name": "氏名.漢字", "name_kana": "氏名.カナ", "birth_date": "生年月日",
                              "postal_code": "住所.郵便番号", "address": "住所.表示"}}]
        """
        let changes = #", "snapshot": {"changed": "library.patron_updated", "removed": "library.patron_withdrawn"}"#
        return events + (snapshot ? changes : "") + "}"
    }

    static let night1 = """
        {"会員番号": 100001, "氏名": {"漢字": "髙橋　一郎", "カナ": "ﾀｶﾊｼ ｲﾁﾛｳ"}, "生年月日": "S60.06.12", "住所": {"郵便番号": "102-0074", "表示": "千代田区九段南１－２－１"}, "登録日": "R06.04.01", "メール": "ichiro@example.jp"}
        {"会員番号": 100002, "氏名": {"漢字": "佐藤　花子", "カナ": null}, "生年月日": "1990/11/03", "住所": {"郵便番号": "102-0083", "表示": "千代田区麹町４－１－１"}, "登録日": "R06.04.02"}

        """

    func mappingFile(snapshot: Bool) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-jsonl-\(UUID().uuidString.prefix(8)).json")
        try Data(Self.mapping(snapshot: snapshot).utf8).write(to: url)
        return url
    }

    func summary(_ daemon: IngestFixture) async throws -> [String] {
        try await daemon.loggedEvents().map { logged in
            let event = logged.event.envelope
            let keys = (event["data"]?.objectValue?.keys ?? []).sorted().joined(separator: ",")
            return "\(event["subject"]?.stringValue ?? "") \(event["type"]?.stringValue ?? "") [\(keys)]"
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aChangeFileOfJSONLinesBecomesEventsAndBadLinesAreNamed() async throws {
        // The mapping without the snapshot section: a change file.
        let mapping = try mappingFile(snapshot: false)
        defer { try? FileManager.default.removeItem(at: mapping) }
        let settings: [String: JSONObject] = [
            "library": ["files": ["format": "jsonl", "encoding": "utf-8", "mapping": .string(mapping.path)]]
        ]
        let daemon = try await IngestFixture(sources: settings, push: false)
        defer { Task { await daemon.stop() } }
        let bad = """
            {"会員番号": 100003, "氏名": {"漢字": "田中　健一"}, "生年月日": "S52.01.30", "住所": {"表示": "千代田区"}, "登録日": "R06.04.03", "電話": "03-2222-3333"}
            {"会員番号": 100004, "氏名": {"漢字": "鈴木　翔"}, "生年月日": {"和暦": "H25.03.15"}, "住所": {"表示": "千代田区"}, "登録日": "R06.04.03"}
            {"会員番号": 100005, "氏名": {"漢字": "山田　太郎"},
            ["not", "an", "object"]

            """
        let bytes = Array((Self.night1 + bad).utf8)
        try daemon.drop(bytes, as: "elib-20240403.jsonl", into: "library")
        #expect(await daemon.waitTaken("elib-20240403.jsonl", source: "library"))
        #expect(try await summary(daemon) == [
            "100001 library.patron_registered [address,birth_date,name,name_kana,postal_code]",
            "100002 library.patron_registered [address,birth_date,name,postal_code]",
        ])
        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(events[0]["event_id"] == "100001")
        #expect(events[0]["occurred_at"] == "2024-04-01T00:00:00+09:00")
        #expect(events[0]["data"]?["birth_date"] == "1985-06-12" && events[1]["data"]?["birth_date"] == "1990-11-03")
        #expect(events[0]["data"]?["address"] == "千代田区九段南１－２－１" && events[0]["data"]?["name_kana"] == "ﾀｶﾊｼ ｲﾁﾛｳ")

        let rejected = daemon.rejections("elib-20240403.jsonl", source: "library")
        #expect(rejected.map { $0["line"]?.integerValue } == [3, 4, 5, 6])
        #expect(rejected[0]["error"]?.stringValue?.contains("\"電話\", which the mapping neither reads nor lists under \"ignore\"") == true)
        #expect(rejected[1]["error"]?.stringValue?.contains("\"生年月日\" holds an object") == true)
        #expect(rejected[2]["error"]?.stringValue?.contains("is not JSON") == true)
        #expect(rejected[3]["error"]?.stringValue?.contains("is not a JSON object") == true)
        #expect(rejected[0]["raw"]?.stringValue?.contains("田中　健一") == true)

        // Read again: the ids (会員番号) make it nothing more, and the same lines are refused.
        try daemon.drop(bytes, as: "elib-20240403-again.jsonl", into: "library")
        #expect(await daemon.waitTaken("elib-20240403-again.jsonl", source: "library"))
        #expect(try await daemon.loggedEvents().count == 2)
        #expect(daemon.rejections("elib-20240403-again.jsonl", source: "library").count == 4)

        // The dry run (renkeictl mapping check) shows the same.
        let check = await StatusRoutes(service: daemon.service).handle(HTTPRequest(
            method: "POST", target: "/v1/mappings/library/check", body: bytes))
        #expect(check.status == 200)
        let dryRun = try JSONParser.parse(check.body)
        #expect(dryRun["events"]?.arrayValue?.count == 2 && dryRun["refused"]?.arrayValue?.count == 4)
        #expect(dryRun["rows"] == 6)
    }

    @Test(.timeLimit(.minutes(3)))
    func aSnapshotSourceOfJSONLinesGivesOnlyTheDifferences() async throws {
        let mapping = try mappingFile(snapshot: true)
        defer { try? FileManager.default.removeItem(at: mapping) }
        let settings: [String: JSONObject] = [
            "library": ["files": [
                "format": "jsonl", "mapping": .string(mapping.path),
                "snapshot": ["key": ["会員番号"], "max_removed_share": .double(0.5)],
            ]]
        ]
        let daemon = try await IngestFixture(sources: settings, push: false)
        defer { Task { await daemon.stop() } }
        try daemon.drop(Array(Self.night1.utf8), as: "a.jsonl", into: "library")
        #expect(await daemon.waitTaken("a.jsonl", source: "library"))
        #expect(try await daemon.loggedEvents().count == 2)
        // The next night: 100002 moved (members in another order, and the ignored e-mail changed), 100001 left.
        let night2 = """
            {"住所": {"表示": "千代田区富士見２－１０－２", "郵便番号": "102-0071"}, "会員番号": 100002, "氏名": {"漢字": "佐藤　花子"}, "生年月日": "1990/11/03", "登録日": "R06.04.02", "メール": "hanako@example.jp"}

            """
        try daemon.drop(Array(night2.utf8), as: "b.jsonl", into: "library")
        #expect(await daemon.waitTaken("b.jsonl", source: "library"))
        #expect(try await summary(daemon).dropFirst(2) == [
            "100002 library.patron_updated [address,postal_code]",
            "100001 library.patron_withdrawn []",
        ])
        try daemon.drop(Array(night2.utf8), as: "c.jsonl", into: "library")
        #expect(await daemon.waitTaken("c.jsonl", source: "library"))
        #expect(try await daemon.loggedEvents().count == 4)
    }

    @Test(.timeLimit(.minutes(3)))
    func theDryRunShowsNamesThroughTheSourcesGaijiTable() async throws {
        let mapping = try mappingFile(snapshot: true)
        let table = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-gaiji-\(UUID().uuidString.prefix(8)).tsv")
        try Data("F040\t𠮷\tunicode\t土よし\n".utf8).write(to: table)
        defer {
            try? FileManager.default.removeItem(at: mapping)
            try? FileManager.default.removeItem(at: table)
        }
        let settings: [String: JSONObject] = [
            "library": [
                "files": ["format": "jsonl", "mapping": .string(mapping.path), "snapshot": ["key": ["会員番号"]]],
                "gaiji": .string(table.path),
            ]
        ]
        let daemon = try await IngestFixture(sources: settings, push: false)
        defer { Task { await daemon.stop() } }
        // A vendor's user-defined character (CP932 F040) as it arrives in UTF-8: U+E000.
        let line = #"{"会員番号": 100007, "氏名": {"漢字": "\#u{E000}田　和子"}, "生年月日": "S23.05.05", "住所": {"表示": "千代田区一番町１０－２"}, "登録日": "H10.06.01"}"# + "\n"
        let check = await StatusRoutes(service: daemon.service).handle(HTTPRequest(
            method: "POST", target: "/v1/mappings/library/check", body: Array(line.utf8)))
        #expect(check.status == 200)
        let event = try JSONParser.parse(check.body)["events"]?.arrayValue?.first
        #expect(event?["data"]?["name"] == "𠮷田　和子")
        #expect(event?["gaiji"] == ["data.name": "\u{E000}田　和子"])
        // Ingested, the log holds the same.
        try daemon.drop(Array(line.utf8), as: "a.jsonl", into: "library")
        #expect(await daemon.waitTaken("a.jsonl", source: "library"))
        #expect(try await daemon.loggedEvents().first?.event.envelope["data"]?["name"] == "𠮷田　和子")
    }

    @Test func aJSONLinesSourceIsUTF8() async throws {
        let mapping = try mappingFile(snapshot: false)
        defer { try? FileManager.default.removeItem(at: mapping) }
        let settings: [String: JSONObject] = [
            "library": ["files": ["format": "jsonl", "encoding": "cp932", "mapping": .string(mapping.path)]]
        ]
        do {
            let daemon = try await IngestFixture(sources: settings, push: false)
            await daemon.stop()
            Issue.record("a daemon started with a CP932 JSON-lines source")
        } catch let error as RenkeiError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("sources.library.files.encoding"), "\(error.message)")
            #expect(error.message.contains("UTF-8"), "\(error.message)")
        }
    }

    @Test func theReaderNamesMembersAndTakesNumbersAsText() {
        let bytes = Array("""
            {"a": 7, "b": {"c": true}, "x": [1]}
            \r
            {"a": "8", "b": {"c": null}, "y": 1}
            {"a": 2.5, "b": [1]}
            """.utf8)
        let records = JSONLinesRecordReader.records(bytes, columns: ["a", "b.c", "x"], ignored: ["x"])
        #expect(records.map(\.line) == [1, 3, 4])
        #expect(records[0].error == nil && records[0].fields == [Array("7".utf8), Array("true".utf8), []])
        #expect(records[1].error?.reason.contains("\"y\"") == true)
        #expect(records[2].error?.column == 2)
        #expect(records[2].error?.reason.contains("\"b.c\": \"b\" holds an array") == true)
    }
}
