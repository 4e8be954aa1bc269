import Foundation
import RenkeiCore
import Testing

/// Issue 13, repro 3 ("reveal not audited"), through the contract's interfaces only: the status
/// socket, the access log and the daemon's log.
@Suite("Reveal is audited")
struct RevealAuditTests {
    /// The newest access-log entry before the access-log read itself.
    static func newestEntry(_ daemon: DaemonHarness) async throws -> JSONValue? {
        try await daemon.get("/v1/access-log?limit=1").json["entries"]?.arrayValue?.first
    }

    @Test func aPercentEncodedRevealAndAHouseholdRevealAreOperatorActions() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.start()
            let reply = try await daemon.replay([
                residentRegistered(eventID: "RV-1", subject: "000700001", name: "保護 花子", household: "H700001"),
                residentRegistered(eventID: "RV-2", subject: "000700002", name: "同居 太郎", household: "H700001", relationship: "子"),
                envelopeLine(
                    source: "resident", eventID: "RV-3", type: "resident.protection_changed", subject: "000700001",
                    occurredAt: "2026-04-02T09:00:00+09:00", data: ["protected": true]),
            ])
            #expect(reply.json["accepted"]?.integerValue == 3, "\(reply.text)")
            let found = try await daemon.get("/v1/persons?source=resident&subject=000700001")
            let uid = try #require(found.json["uid"]?.stringValue)
            #expect(found.json["address"] == nil, "a protected person's address without reveal")
            // The look-up records the uid it resolved to.
            #expect(try await Self.newestEntry(daemon)?["uid"]?.stringValue == uid)

            // `%70rotected` decodes to `protected`: the address is shown, so the read must be an operator action.
            let revealed = try await daemon.get("/v1/persons/\(uid)?reveal=%70rotected")
            #expect(revealed.status == 200)
            #expect(revealed.json["address"]?.stringValue == "東京都千代田区九段南1丁目2番1号")
            let personEntry = try #require(try await Self.newestEntry(daemon))
            #expect(personEntry["target"]?.stringValue == "/v1/persons/\(uid)?reveal=%70rotected")
            #expect(personEntry["operator_action"]?.stringValue == "reveal_protected", "\(personEntry)")
            #expect(personEntry["uid"]?.stringValue == uid)

            // A household read with reveal lists the protected member, and leaves its mark.
            let plain = try await daemon.get("/v1/households/H700001")
            #expect(plain.json["members"]?.arrayValue?.contains(.string(uid)) == false)
            let household = try await daemon.get("/v1/households/H700001?reveal=protected")
            #expect(household.json["members"]?.arrayValue?.contains(.string(uid)) == true)
            let householdEntry = try #require(try await Self.newestEntry(daemon))
            #expect(householdEntry["operator_action"]?.stringValue == "reveal_protected", "\(householdEntry)")
            #expect(daemon.stderrText().contains("operator action: household H700001 read with protected members revealed"))

            // Both chains verify, and `renkeictl verify`'s endpoint reports the access log's.
            let verify = try await daemon.get("/v1/verify").json
            #expect(verify["ok"] == true)
            #expect(verify["access_log"]?["ok"] == true)
            #expect((verify["access_log"]?["checked"]?.integerValue ?? 0) >= 5)
        }
    }
}
