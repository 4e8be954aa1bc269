import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// Purpose limitation end to end (contract §2, §4): fields, `linked_to`, protection through
/// pending deltas, rebuild and replay, `household.changed` without protected members, and a
/// disclosure ledger equal to what the receiver recorded.
@Suite("Delivery purpose limitation", .serialized)
struct DeliveryPurposeTests {
    static let secret = "東京都秘匿区九段1-2-3"
    static let secretPending = "東京都秘匿区麹町9-9"
    static let myNumber = "123456789018"

    static func subscriptions(_ url: String) -> JSONObject {
        [
            "mirror": ["url": .string(url), "fields": ["uid", "name", "address", "postal_code", "household_no", "status"], "retry_base_s": .double(0.05)],
            "library-sync": ["url": .string(url), "linked_to": "library", "fields": ["uid", "name", "address"]],
            "benefits": [
                "url": .string(url), "fields": ["uid", "my_number", "tax"], "legal_basis": "番号法 第9条 別表",
                "kinds": ["person.created", "person.changed"],
            ],
        ]
    }

    /// The uids a `household.changed` body names (`view.members`, `changes.members` old and new).
    static func householdNames(_ body: JSONValue) -> Set<String> {
        guard body["kind"]?.stringValue == "household.changed" else { return [] }
        let lists = [body["view"]?["members"], body["changes"]?["members"]?["old"], body["changes"]?["members"]?["new"]]
        return Set(lists.flatMap { $0?.arrayValue ?? [] }.compactMap(\.stringValue))
    }

    /// A ledger comparison row (`id|fields|lsn|basis|household`) without its lsn.
    static func withoutLSN(_ row: String) -> String {
        var parts = row.split(separator: "|", omittingEmptySubsequences: false)
        if parts.count > 2 { parts.remove(at: 2) }
        return parts.joined(separator: "|")
    }

    /// The ledger's members of a household delta are those its *sent* body names: a member
    /// protected at send time is neither sent nor recorded; one who left (in `changes.members.old`) is.
    @Test func householdLedgerNamesTheSentMembers() throws {
        let body: JSONValue = [
            "delta_id": "mirror:H9:3", "kind": "household.changed", "household_no": "H9", "version": 3,
            "changes": ["members": ["old": ["U0000000003", "U0000000001"], "new": ["U0000000001", "U0000000002"]]],
            "view": ["household_no": "H9", "members": ["U0000000001", "U0000000002"]],
        ]
        let pending = DeliveryStore.Pending(
            seq: 1, uid: "H9", deltaID: "mirror:H9:3", kind: "household.changed", body: body.serializedBytes, attempts: 0,
            nextAttemptMs: 0, fields: "household_no,members", lsn: 7)
        let policy = SubscriptionPolicy(name: "mirror", fields: ["uid", "household_no"])
        guard case .send(let open) = DeliveryRedaction.prepare(pending, policy: policy, facts: .init()) else {
            Issue.record("a household delta with nothing hidden was not sent")
            return
        }
        #expect(open.members == ["U0000000001", "U0000000002", "U0000000003"])
        #expect(try JSONParser.parse(open.body) == body)
        guard case .send(let redacted) = DeliveryRedaction.prepare(pending, policy: policy, facts: .init(protectedMembers: ["U0000000001"]))
        else {
            Issue.record("a household delta with a protected member was not sent")
            return
        }
        #expect(redacted.members == ["U0000000002", "U0000000003"])
        let sent = try JSONParser.parse(redacted.body)
        #expect(sent["view"]?["members"] == ["U0000000002"])
        #expect(!String(decoding: redacted.body, as: UTF8.self).contains("U0000000001"))
    }

    @Test(.timeLimit(.minutes(2)))
    func protectedAddressNeverLeaves() async throws {
        let receiver = try DeliveryReceiver()
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(subscriptions: Self.subscriptions(receiver.url))
        var first = Events.registered("P-1", subject: "S1", name: "保護 一", address: "東京都千代田区1-1", household: "H1")
        first = first.replacingOccurrences(of: "\"relationship\"", with: "\"my_number\":\"\(Self.myNumber)\",\"relationship\"")
        #expect(await fixture.ingest([
            first,
            Events.registered("P-2", subject: "S2", name: "同居 二", address: "東京都千代田区1-1", household: "H1"),
            Events.registered("P-3", subject: "S3", name: "待機 三", address: "東京都千代田区3-3", household: "H3"),
        ]) == 3)
        #expect(await fixture.wait { receiver.delivered.count >= 8 }, "\(receiver.requests.map(\.id))")

        // U1 becomes protected, then moves: nobody may see the new address.
        #expect(await fixture.ingest([Events.protection("P-4", subject: "S1", true), Events.moved("P-5", subject: "S1", address: Self.secret)]) == 2)
        // U3: a move queued while the subscription is paused, then protection: the queued body
        // (planned with the address) must leave without it.
        #expect(await fixture.request("POST", "/v1/subscriptions/mirror/pause").status == 200)
        #expect(await fixture.ingest([Events.moved("P-6", subject: "S3", address: Self.secretPending)]) == 1)
        #expect(await fixture.ingest([Events.protection("P-7", subject: "S3", true)]) == 1)
        #expect(await fixture.request("POST", "/v1/subscriptions/mirror/resume").status == 200)
        #expect(await fixture.wait { await fixture.idle(["mirror", "library-sync", "benefits"]) })

        // Rebuild: nothing already delivered goes again; replay from lsn 1: old bodies go again, redacted.
        let before = receiver.requests.count
        let names = ["mirror", "library-sync", "benefits"]
        let plannedBefore = await fixture.plannedDeltaCounts(names)
        #expect(await fixture.request("POST", "/v1/rebuild").status == 202)
        // `rebuild` is set before the 202 and cleared after the rebuild's transaction (with any delta
        // it planned) has committed: null again is the rebuild's end, not its not having begun.
        #expect(await fixture.wait { await fixture.request("GET", "/v1/status").json["rebuild"]?.isNull == true })
        #expect(await fixture.plannedDeltaCounts(names) == plannedBefore, "the rebuild planned deltas")
        #expect(await fixture.wait { await fixture.idle(names) })
        #expect(receiver.requests.count == before, "rebuild re-sent: \(receiver.requests.dropFirst(before).map(\.id))")
        let skippedBefore = (await fixture.counts("mirror"))["skipped"]?.integerValue ?? 0
        let replay = await fixture.request("POST", "/v1/subscriptions/mirror/replay?from_lsn=1")
        let queued = replay.json["queued"]?.integerValue ?? 0
        #expect(replay.status == 200 && queued > 0, "\(replay.json)")
        // Replayed bodies go through the policy of now: a household delta that named only U1 (now
        // protected) names no one any more and is skipped, not sent.
        #expect(await fixture.wait {
            let counts = await fixture.counts("mirror")
            let skipped = (counts["skipped"]?.integerValue ?? 0) - skippedBefore
            return counts["backlog"]?.integerValue == 0 && receiver.requests.count - before + Int(skipped) >= Int(queued)
        })
        let replayed = Array(receiver.requests.dropFirst(before))
        let skippedByReplay = ((await fixture.counts("mirror"))["skipped"]?.integerValue ?? 0) - skippedBefore
        #expect(
            replayed.allSatisfy { r in r.delivered } && Set(replayed.map(\.id)).count + Int(skippedByReplay) == Int(queued),
            "queued \(queued), skipped \(skippedByReplay), sent \(replayed.map(\.id))")
        #expect(skippedByReplay >= 1, "the household delta naming only U1 was sent again")
        let mirrorIDs = receiver.requests.prefix(before).filter { $0.json["subscription"]?.stringValue == "mirror" }.map(\.id)
        #expect(replayed.map(\.id) .allSatisfy(mirrorIDs.contains), "replay sent new ids")
        var lastReplayed: [String: Int64] = [:]
        for request in replayed {
            let key = (request.json["uid"] ?? request.json["household_no"])?.stringValue ?? "?"
            let version = request.json["version"]?.integerValue ?? 0
            #expect(version > lastReplayed[key, default: 0], "replay out of order for \(key): \(replayed.map(\.id))")
            lastReplayed[key] = version
        }

        // While protected, no body anywhere holds the new addresses; U1's replayed creation has lost its address too.
        for request in receiver.requests {
            let text = String(decoding: request.body, as: UTF8.self)
            #expect(!text.contains(Self.secret) && !text.contains(Self.secretPending), "leaked in \(request.id): \(text)")
            if request.json["subscription"]?.stringValue != "benefits" { #expect(!text.contains(Self.myNumber), "my_number in \(request.id)") }
        }
        for request in replayed where request.json["uid"]?.stringValue == "U0000000001" {
            #expect(request.json["view"]?["address"] == nil, "replayed \(request.id) carries U1's address")
            #expect(request.json["withheld"]?.arrayValue?.contains("address") == true, "\(request.id) has no withheld")
        }
        // The deltas of P-5..P-7 (U1's move, U3's queued move and protection): withheld-only, and
        // with no `cause` or `lsn` that would say what happened or when (issue 13).
        let protectedDeltas = receiver.delivered.filter {
            $0.json["subscription"]?.stringValue == "mirror" && $0.json["kind"]?.stringValue != "household.changed"
                && $0.json["withheld"] != nil
        }
        #expect(protectedDeltas.count >= 3, "\(protectedDeltas.map(\.id))")
        for delta in protectedDeltas {
            let withheld = Set((delta.json["withheld"]?.arrayValue ?? []).compactMap(\.stringValue))
            #expect(withheld == ["address", "postal_code", "household_no"], "\(delta.json)")
            #expect(delta.json["cause"] == nil && delta.json["lsn"] == nil, "a protected person's delta says what and when: \(delta.json)")
        }
        // Households: H1 loses protected U1 from `members`.
        let households = receiver.delivered.filter { $0.json["kind"]?.stringValue == "household.changed" && $0.json["household_no"]?.stringValue == "H1" }
        let lastMembers = households.last?.json["view"]?["members"]?.arrayValue?.compactMap(\.stringValue)
        #expect(lastMembers == ["U0000000002"], "H1 members as sent: \(households.map { $0.json })")
        #expect(households.allSatisfy { $0.id.hasPrefix("mirror:H1:") }, "household delta ids \(households.map(\.id))")
        // linked_to library: no person here is a patron, so library-sync heard nothing.
        #expect(!receiver.requests.contains { $0.json["subscription"]?.stringValue == "library-sync" })
        // Fields: benefits gets my_number and nothing else personal.
        for delta in receiver.delivered where delta.json["subscription"]?.stringValue == "benefits" {
            let keys = Set(delta.json["view"]?.objectValue?.keys ?? [])
            #expect(keys.isSubset(of: ["uid", "my_number", "tax"]), "\(delta.json)")
        }

        // Lifting protection: the next delta delivers the current address.
        #expect(await fixture.ingest([Events.protection("P-8", subject: "S1", false)]) == 1)
        let lifted = await fixture.wait {
            receiver.delivered.contains { $0.json["subscription"]?.stringValue == "mirror" && $0.json["view"]?["address"]?.stringValue == Self.secret }
        }
        #expect(lifted, "after lifting, mirror did not get the current address")

        // Disclosure ledger = exactly what the receiver answered 2xx, per uid: a person's own deltas
        // and every household delta whose body named them as a member; per household, its deltas.
        // A ledger row is written with the group-committed outcome, a moment after the 2xx: wait
        // until nothing is in flight or waiting before comparing.
        let settled = await fixture.wait {
            let subscriptions = await fixture.request("GET", "/v1/status").json["subscriptions"]?.objectValue ?? [:]
            return subscriptions.members.allSatisfy { $0.value["backlog"]?.integerValue == 0 && $0.value["in_flight"]?.integerValue == 0 }
        }
        #expect(settled, "deliveries did not settle")
        // Every delta has had its outcome recorded (and logged): no later line can carry a secret.
        #expect(!fixture.logLines.contains { $0.contains(Self.secret) || $0.contains(Self.secretPending) || $0.contains(Self.myNumber) })
        for uid in ["U0000000001", "U0000000002", "U0000000003", "H1"] {
            let ledger = await fixture.request("GET", "/v1/disclosures?uid=\(uid)").json["disclosures"]?.arrayValue ?? []
            let fromLedger = ledger.map { row in
                "\(row["delta_id"]?.stringValue ?? "")|\((row["fields"]?.arrayValue ?? []).compactMap(\.stringValue).sorted())|\(row["lsn"]?.integerValue ?? 0)|\(row["legal_basis"]?.stringValue ?? "-")|\(row["household_no"]?.stringValue ?? "-")"
            }.sorted()
            #expect(ledger.allSatisfy { $0["uid"]?.stringValue == uid }, "\(uid): \(ledger)")
            let fromReceiver = receiver.delivered.filter { r in
                (r.json["uid"] ?? r.json["household_no"])?.stringValue == uid || Self.householdNames(r.json).contains(uid)
            }.map { r in
                let basis = r.json["subscription"]?.stringValue == "benefits" ? "番号法 第9条 別表" : "-"
                // A protected person's body carries no lsn; the ledger keeps the event's.
                let lsn = r.json["lsn"]?.integerValue.map(String.init) ?? "*"
                return "\(r.id)|\((r.json["view"]?.objectValue?.keys ?? []).sorted())|\(lsn)|\(basis)|\(r.json["household_no"]?.stringValue ?? "-")"
            }.sorted()
            let matches = fromLedger.count == fromReceiver.count && zip(fromLedger, fromReceiver).allSatisfy { ledgerRow, receiverRow in
                ledgerRow == receiverRow || Self.withoutLSN(ledgerRow) == Self.withoutLSN(receiverRow) && receiverRow.contains("|*|")
            }
            #expect(matches, "\(uid): ledger \(fromLedger) vs receiver \(fromReceiver)")
            #expect(!fromLedger.isEmpty)
        }
        // The comparison above covered household deltas: U1 (before protection) and U2 were named in some.
        for uid in ["U0000000001", "U0000000002"] {
            let entries = (await fixture.request("GET", "/v1/disclosures?uid=\(uid)").json["disclosures"]?.arrayValue ?? [])
                .filter { $0["kind"]?.stringValue == "household.changed" }
            #expect(!entries.isEmpty && entries.allSatisfy { $0["household_no"]?.stringValue == "H1" }, "\(uid): \(entries)")
        }
        await fixture.stop()
    }
}
