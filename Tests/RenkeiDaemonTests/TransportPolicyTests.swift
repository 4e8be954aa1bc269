import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// Issue 13, transport: `my_number` and `tax` never travel over plain http:// except to loopback;
/// start-up and reload refuse such a subscription naming it and the fix.
@Suite struct TransportPolicyTests {
    static func configuration(url: String, fields: [String]) throws(RenkeiError) -> Configuration {
        try Configuration(
            json: [
                "municipality": "131016", "sources": ["resident": [:]],
                "subscriptions": [
                    "benefits": [
                        "url": .string(url), "fields": .array(fields.map { .string($0) }),
                        "legal_basis": "番号法 第19条第8号",
                    ]
                ],
            ], file: "renkei.json")
    }

    @Test(arguments: [
        ("http://benefits.example.jp/deltas", ["uid", "my_number"]),
        ("http://10.0.0.5:8080/deltas", ["uid", "tax"]),
        ("http://127.0.0.1.example.jp/deltas", ["uid", "my_number"]),
        ("http://[::2]/deltas", ["uid", "my_number"]),
        ("http://128.0.0.1/deltas", ["uid", "my_number"]),
    ])
    func plainHTTPToAnotherHostIsRefused(url: String, fields: [String]) {
        do {
            _ = try Self.configuration(url: url, fields: fields)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.code == .invalidConfiguration, "renkeid exits 78 on this code")
            #expect(error.message.hasPrefix("renkei.json: subscriptions.benefits: subscription \"benefits\" lists "), "\(error.message)")
            #expect(error.message.contains("plain http://") && error.message.contains("use an https:// URL"))
        }
    }

    @Test(arguments: [
        ("http://127.0.0.1:9000/deltas", ["uid", "my_number"]),
        ("http://127.10.20.30/deltas", ["uid", "my_number"]),
        ("http://localhost:9000/deltas", ["uid", "tax"]),
        ("http://LOCALHOST/deltas", ["uid", "tax"]),
        ("http://[::1]:9000/deltas", ["uid", "my_number"]),
        ("http://[0:0:0:0:0:0:0:1]/deltas", ["uid", "my_number"]),
        ("https://benefits.example.jp/deltas", ["uid", "my_number", "tax"]),
        ("http://library.example.jp/deltas", ["uid", "name"]),
    ])
    func loopbackHTTPSAndUnrestrictedFieldsAreAccepted(url: String, fields: [String]) throws {
        let configuration = try Self.configuration(url: url, fields: fields)
        #expect(configuration.subscriptions["benefits"]?.url == url)
    }

    @Test func aReloadToPlainHTTPIsRefused() throws {
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("renkei-transport-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        func config(_ url: String) -> JSONValue {
            [
                "municipality": "131016", "state_dir": .string(root.appendingPathComponent("state").path),
                "sources": ["resident": [:]],
                "subscriptions": ["benefits": ["url": .string(url), "fields": ["uid", "my_number"], "legal_basis": "番号法"]],
            ]
        }
        let file = root.appendingPathComponent("renkei.json")
        try Data(config("https://benefits.example.jp/deltas").serializedBytes).write(to: file)
        let current = try Configuration.load(path: file.path)
        try Data(config("http://benefits.example.jp/deltas").serializedBytes).write(to: file)
        #expect {
            _ = try RenkeiService.loadForReload(path: file.path, current: current)
        } throws: { error in
            ((error as? RenkeiError)?.message ?? "").contains("subscriptions.benefits: subscription \"benefits\" lists my_number but its url sends over plain http://")
        }
    }
}
