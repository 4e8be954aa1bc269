import Foundation
import RenkeiCore
import Testing

/// `GET /v1/persons/search` on the status socket (contract §7 "Search", issue 18).
@Suite struct SearchAPITests {
    @Test func searchFoldsAsTheMatcherDoesAndIsAudited() async throws {
        let daemon = try DaemonHarness()
        do {
            try await daemon.start()
            let sample = try String(contentsOf: TestPaths.sampleLog, encoding: .utf8).split(separator: "\n").map(String.init)
            let extra = try String(
                contentsOf: TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/console/review-and-protection.jsonl"),
                encoding: .utf8
            ).split(separator: "\n").map(String.init)
            _ = try await daemon.replay(sample)
            _ = try await daemon.replay(extra)
            func uids(_ query: String) async throws -> [String] {
                let reply = try await daemon.get("/v1/persons/search?" + query)
                #expect(reply.status == 200, "\(query): \(reply.text)")
                return (reply.json["persons"]?.arrayValue ?? []).compactMap { $0["uid"]?.stringValue }
            }
            // ﾀｶﾊｼ (half-width), たかはし (hiragana) and 高橋 (common form of 髙) find the family.
            for query in ["q=%EF%BE%80%EF%BD%B6%EF%BE%8A%EF%BD%BC", "q=%E3%81%9F%E3%81%8B%E3%81%AF%E3%81%97", "q=%E9%AB%98%E6%A9%8B"] {
                let found = try await uids(query)
                #expect(Set(["U0000000001", "U0000000002", "U0000000003"]).isSubset(of: Set(found)), "\(query): \(found)")
            }
            // 和暦 as typed, and the 宛名番号 itself.
            #expect(try await uids("q=%E3%81%9F%E3%81%8B%E3%81%AF%E3%81%97&birth_date=S60.6.12") == ["U0000000001"])
            #expect(try await uids("birth_date=%E6%98%AD%E5%92%8C60%E5%B9%B46%E6%9C%8812%E6%97%A5").first == "U0000000001")
            let byNumber = try await daemon.get("/v1/persons/search?q=000100001").json["persons"]?.arrayValue?.first
            #expect(byNumber?["uid"] == "U0000000001" && byNumber?["score"] == 1)
            #expect(byNumber?.objectValue?.keys.sorted() == ["birth_date", "name", "name_kana", "score", "uid"])
            // A protected person is found by name, never by address; no reply carries an address.
            let protectedUID = try #require(try await daemon.get("/v1/persons?source=resident&subject=000800001").json["uid"]?.stringValue)
            #expect(try await uids("q=%E6%B8%A1%E8%BE%BA%20%E7%BE%8E%E5%92%B2").contains(protectedUID))
            #expect(try await !uids("q=%E7%A5%9E%E7%94%B0%E7%A5%9E%E4%BF%9D%E7%94%BA").contains(protectedUID))
            let text = try await daemon.get("/v1/persons/search?q=%E6%B8%A1%E8%BE%BA").text
            #expect(!text.contains("神保町") && !text.contains("101-0051"))
            // Refusals name the parameter.
            for (query, parameter) in [("birth_date=S60.2.30", "birth_date"), ("q=", "q"), ("q=x&limit=0", "limit"), ("q=x&limit=500", "limit")] {
                let reply = try await daemon.get("/v1/persons/search?" + query)
                #expect(reply.status == 400, "\(query)")
                #expect(reply.json["error"]?.stringValue?.hasPrefix(parameter) == true, "\(query): \(reply.text)")
            }
            let log = try await daemon.get("/v1/access-log?limit=100").json["entries"]?.arrayValue ?? []
            #expect(log.contains { $0["target"]?.stringValue?.hasPrefix("/v1/persons/search?q=000100001") == true && $0["status"] == 200 })
        } catch {
            Issue.record("\(error)\n\(daemon.stderrTail())")
        }
        _ = try? await daemon.stop()
        await daemon.cleanUp()
    }
}
