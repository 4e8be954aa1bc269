import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 13, transport, as systemd sees it: a subscription that would send `my_number` over plain
/// http:// to another host stops `renkeid` with exit 78 (EX_CONFIG) naming it and the fix, and a
/// reload to such a configuration is refused while the previous one keeps serving.
@Suite(.serialized) struct TransportStartupTests {
    static func benefits(_ url: String) -> JSONObject {
        ["benefits": ["url": .string(url), "fields": ["uid", "my_number"], "legal_basis": "番号法 第19条第8号"]]
    }

    @Test func plainHTTPForMyNumberExits78AndAReloadToItIsRefused() async throws {
        try await withDaemon(sources: ["resident"], subscriptions: Self.benefits("http://benefits.example.jp/deltas")) { daemon in
            do {
                try await daemon.start()
                Issue.record("renkeid started with my_number over plain http://")
            } catch {
                let text = "\(error)"
                #expect(text.contains("exited with 78"), "\(text)")
                #expect(text.contains("subscription \"benefits\" lists my_number") && text.contains("use an https:// URL"), "\(text)")
            }

            // Loopback may be plain http (a local TLS terminator): it starts.
            try await daemon.setSubscriptions(Self.benefits("http://127.0.0.1:9/deltas"))
            try await daemon.start()
            try await daemon.setSubscriptions(Self.benefits("http://benefits.example.jp/deltas"))
            await daemon.signal(SIGHUP)
            #expect(try await daemon.waitForNotification("READY=1", count: 2, timeout: .seconds(20)))
            let stderr = daemon.stderrText()
            #expect(stderr.contains("refused, still running the previous configuration"), "\(stderr)")
            #expect(stderr.components(separatedBy: "subscription \"benefits\" lists my_number").count == 3, "once at start, once at reload")
            let code = try await daemon.stop()
            #expect(code == 0)
        }
    }
}
