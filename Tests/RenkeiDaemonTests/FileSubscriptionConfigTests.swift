import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// Issue 17: `subscriptions.<name>.file` is checked at start-up; every refusal names the key and
/// says what to write instead.
@Suite struct FileSubscriptionConfigTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/file-subscription")

    static func configuration(_ subscription: JSONObject) throws(RenkeiError) -> Configuration {
        try Configuration(
            json: ["municipality": "131016", "sources": ["resident": [:]], "subscriptions": ["out": .object(subscription)]],
            file: "renkei.json")
    }

    static func file(_ extra: JSONObject = [:]) -> JSONObject {
        var file: JSONObject = [
            "dir": "/tmp", "format": "csv", "encoding": "cp932",
            "mapping": .string(fixtures.appendingPathComponent("out-town-life.json").path),
        ]
        for member in extra { file[member.key] = member.value }
        return file
    }

    static let fields: JSONValue = ["uid", "status", "name", "name_kana", "birth_date", "sex", "address", "postal_code"]

    @Test func aFileSubscriptionIsRead() throws {
        let configuration = try Self.configuration(["fields": Self.fields, "file": .object(Self.file(["cut_every_rows": 500, "done_marker": true]))])
        let target = try #require(configuration.subscriptions["out"]?.file)
        #expect(target.directory == "/tmp" && target.isCP932 && target.cutEveryRows == 500 && target.cutEverySeconds == 60)
        #expect(target.doneMarker && target.mapping?.columns.count == 10 && target.fileExtension == "csv")
        #expect(configuration.subscriptions["out"]?.url == "file:///tmp")
    }

    @Test(arguments: [
        (["url": "https://x.example.jp/d"], "subscriptions.out: give either url or file"),
        (["secret_file": "/etc/renkei/secrets/x"], "subscriptions.out.secret_file: applies to a url subscription only"),
        (["fields": ["uid", "name"]], "writes view field"),
        (["file": ["dir": "/nonexistent-renkei-out", "format": "jsonl"]], "subscriptions.out.file.dir: /nonexistent-renkei-out is not a folder"),
        (["file": ["dir": "/tmp", "format": "jsonl", "encoding": "cp932"]], "subscriptions.out.file.encoding: jsonl files are UTF-8"),
        (["file": ["dir": "/tmp", "format": "fixed"]], "subscriptions.out.file.mapping: a fixed file subscription names its output mapping"),
        (["file": ["dir": "relative/out", "format": "jsonl"]], "subscriptions.out.file.dir: must be an absolute path"),
    ] as [(JSONObject, String)])
    func mistakesAreRefusedNamingTheKey(change: JSONObject, expected: String) {
        var subscription: JSONObject = ["fields": Self.fields, "file": .object(Self.file())]
        for member in change { subscription[member.key] = member.value }
        do {
            _ = try Self.configuration(subscription)
            Issue.record("accepted: \(change)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}
