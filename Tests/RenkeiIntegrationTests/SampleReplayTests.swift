import Foundation
import RenkeiCore
import Testing

/// ┌──────────────────────────────────────────────────────────────────────────────────────────────┐
/// │ MATCHING-PENDING: the uids that depend on the matching issue (contract §3 step 2).             │
/// │ Until matching lands, records without an `atena_no` get new `unregistered` uids in log order.  │
/// │ When it lands, flip `matchingLanded` to true: the values then follow examples/README.md.       │
/// └──────────────────────────────────────────────────────────────────────────────────────────────┘
enum SampleUIDs {
    /// Flip when matching (lines 5 and 11 of sample.jsonl) is implemented.
    static let matchingLanded = true

    /// Line 5, library patron LIB-20001 (高橋 一郎): matched to U1 once matching lands.
    static let libraryPatron1 = matchingLanded ? "U0000000001" : "U0000000005"
    /// Line 6, library patron LIB-20002 (佐藤 健): nobody matches.
    static let libraryPatron2 = matchingLanded ? "U0000000005" : "U0000000006"
    /// Line 10, 住登外 taxpayer TX-950001 (鈴木 次郎).
    static let nonResidentTaxpayer = matchingLanded ? "U0000000006" : "U0000000007"
    /// Line 11, the childcare child CH-3001 (高橋 陽太): matched to U3 once matching lands.
    static let childcareChild = matchingLanded ? "U0000000003" : "U0000000008"
    /// Every uid the sample creates.
    static let all = (1...(matchingLanded ? 6 : 8)).map { String(format: "U%010d", $0) }
}

/// The contract's sample log (`../shared/contract/examples/sample.jsonl`) replayed through the
/// status socket gives the outcome `examples/README.md` states.
@Suite("Sample replay", .serialized)
struct SampleReplayTests {
    static let myNumber = "123456789018"

    static func sampleLines() throws -> [String] {
        jsonLines(try String(contentsOf: TestPaths.sampleLog, encoding: .utf8))
    }

    @Test func sampleReplayOutcome() async throws {
        try await withDaemon { daemon in
            try await daemon.start()

            let reply = try await daemon.replay(try Self.sampleLines())
            #expect(reply.status == 200, "replay answered \(reply.status): \(reply.text)")
            let outcome = reply.json
            #expect(outcome["accepted"]?.integerValue == 15, "reply: \(reply.text)")
            #expect(outcome["duplicates"]?.integerValue == 1, "reply: \(reply.text)")
            let rejected = outcome["rejected"]?.arrayValue ?? []
            #expect(rejected.count == 1, "reply: \(reply.text)")
            #expect(rejected.first?["line"]?.integerValue == 15, "reply: \(reply.text)")
            let reason = rejected.first?["error"]?.stringValue?.lowercased() ?? ""
            #expect(
                reason.contains("reading record"),
                "the rejection should say reading records are not accepted: \(reason)")

            // Lines 1–4: four residents, key-linked.
            let names = ["髙橋 一郎", "髙橋 花子", "髙橋 陽太", "渡邊 さくら"]
            for (index, name) in names.enumerated() {
                let uid = String(format: "U%010d", index + 1)
                let person = try await daemon.get("/v1/persons/\(uid)")
                #expect(person.status == 200, "GET /v1/persons/\(uid): \(person.status) \(person.text)")
                #expect(person.json["uid"]?.stringValue == uid)
                #expect(
                    person.json["name"]?.canonicalString == JSONValue.string(name).canonicalString,
                    "\(uid): \(person.text)")
                let subject = String(format: "0001%05d", index + 1)
                let links = person.json["links"]?.arrayValue ?? []
                #expect(
                    links.contains {
                        $0["source"]?.stringValue == "resident" && $0["subject"]?.stringValue == subject
                            && $0["method"]?.stringValue == "key"
                    },
                    "\(uid) should be linked by key to resident \(subject): \(person.text)")
            }

            // U1: my_number on file, never shown; taxable; guardian of the childcare child.
            let u1 = try await daemon.get("/v1/persons/U0000000001").json
            #expect(u1["my_number_on_file"]?.boolValue == true, "U1: \(u1.serializedString)")
            #expect(u1["my_number"] == nil, "U1 must not show my_number: \(u1.serializedString)")
            #expect(u1.at("tax", "taxable")?.boolValue == true, "U1: \(u1.serializedString)")
            #expect(u1["guardian_of"]?.stringArray == [SampleUIDs.childcareChild], "U1: \(u1.serializedString)")

            // Lines 7–9: U2 and U4 not taxable. Line 16: U2 moved out.
            let u2 = try await daemon.get("/v1/persons/U0000000002").json
            #expect(u2.at("tax", "taxable")?.boolValue == false, "U2: \(u2.serializedString)")
            #expect(u2["status"]?.stringValue == "moved_out", "U2: \(u2.serializedString)")
            let u4 = try await daemon.get("/v1/persons/U0000000004").json
            #expect(u4.at("tax", "taxable")?.boolValue == false, "U4: \(u4.serializedString)")
            // Line 14: U4 moved.
            #expect(u4["address"]?.stringValue == "東京都千代田区一番町10番地2", "U4: \(u4.serializedString)")
            #expect(u4["status"]?.stringValue == "active", "U4: \(u4.serializedString)")

            // Lines 5–6: library patrons (MATCHING-PENDING uids).
            let patron1 = try await daemon.get("/v1/persons?source=library&subject=LIB-20001")
            #expect(patron1.status == 200, "\(patron1.text)")
            #expect(patron1.json["uid"]?.stringValue == SampleUIDs.libraryPatron1, "LIB-20001: \(patron1.text)")
            let patron2 = try await daemon.get("/v1/persons?source=library&subject=LIB-20002")
            #expect(patron2.status == 200, "\(patron2.text)")
            #expect(patron2.json["uid"]?.stringValue == SampleUIDs.libraryPatron2, "LIB-20002: \(patron2.text)")
            #expect(patron2.json["status"]?.stringValue == "unregistered", "LIB-20002: \(patron2.text)")
            #expect(patron2.json.at("library", "status")?.stringValue == "active", "LIB-20002: \(patron2.text)")

            // Line 10: the 住登外 taxpayer gets their own unregistered uid.
            let taxpayer = try await daemon.get("/v1/persons?source=tax&subject=TX-950001")
            #expect(taxpayer.json["uid"]?.stringValue == SampleUIDs.nonResidentTaxpayer, "TX-950001: \(taxpayer.text)")
            #expect(taxpayer.json["status"]?.stringValue == "unregistered", "TX-950001: \(taxpayer.text)")

            // Lines 11–13: the child's childcare record.
            let child = try await daemon.get("/v1/persons?source=childcare&subject=CH-3001")
            #expect(child.json["uid"]?.stringValue == SampleUIDs.childcareChild, "CH-3001: \(child.text)")
            let childcare = child.json["childcare"] ?? .null
            #expect(childcare["status"]?.stringValue == "enrolled", "CH-3001: \(child.text)")
            #expect(childcare["facility_code"]?.stringValue == "F-101", "CH-3001: \(child.text)")
            #expect(childcare["certification"]?.stringValue == "3", "CH-3001: \(child.text)")
            #expect(childcare["monthly_fee"]?.integerValue == 31500, "CH-3001: \(child.text)")

            // Households.
            let h1 = try await daemon.get("/v1/households/H000501").json
            #expect(
                Set(h1["members"]?.stringArray ?? []) == ["U0000000001", "U0000000003"],
                "H000501: \(h1.serializedString)")
            #expect(h1["all_members_tax_exempt"]?.boolValue == false, "H000501: \(h1.serializedString)")
            let h2 = try await daemon.get("/v1/households/H000502").json
            #expect(h2["members"]?.stringArray == ["U0000000004"], "H000502: \(h2.serializedString)")
            #expect(h2["all_members_tax_exempt"]?.boolValue == true, "H000502: \(h2.serializedString)")

            // Log: 15 events, chain intact.
            let status = try await daemon.status()
            #expect(status["head_lsn"]?.integerValue == 15, "status: \(status.serializedString)")
            let verify = try await daemon.get("/v1/verify").json
            #expect(verify["ok"]?.boolValue == true, "verify: \(verify.serializedString)")
            #expect(verify["checked"]?.integerValue == 15, "verify: \(verify.serializedString)")

            // An unknown uid is a 404 with a JSON error.
            let missing = try await daemon.get("/v1/persons/U0000009999")
            #expect(missing.status == 404)
            #expect(missing.json["error"]?.stringValue != nil, "404 body: \(missing.text)")

            // my_number never leaves through a reply or a log line.
            let exitStatus = try await daemon.stop()
            #expect(exitStatus == 0, "renkeid exit status after SIGTERM")
            for text in await daemon.replyLog {
                #expect(!text.contains(Self.myNumber), "a status reply leaked my_number: \(text)")
            }
            #expect(!daemon.stderrText().contains(Self.myNumber), "stderr leaked my_number")
        }
    }

    /// Line 14 (`resident.moved`) raises U4's `version` by exactly one.
    @Test func moveRaisesVersionByOne() async throws {
        try await withDaemon { daemon in
            try await daemon.start()
            let lines = try Self.sampleLines()
            _ = try await daemon.replay(Array(lines[0..<13]))
            let before = try await daemon.get("/v1/persons/U0000000004").json
            let reply = try await daemon.replay([lines[13]])
            #expect(reply.json["accepted"]?.integerValue == 1, "\(reply.text)")
            let after = try await daemon.get("/v1/persons/U0000000004").json
            let versionBefore = try #require(before["version"]?.integerValue, "U4 before: \(before.serializedString)")
            #expect(after["version"]?.integerValue == versionBefore + 1, "U4 after: \(after.serializedString)")
            #expect(after["address"]?.stringValue == "東京都千代田区一番町10番地2")
            try await daemon.stop()
        }
    }

    /// `POST /v1/rebuild` recomputes every view from lsn 1: the same bytes, the same uids.
    @Test func rebuildIsByteIdentical() async throws {
        try await withDaemon { daemon in
            try await daemon.start()
            _ = try await daemon.replay(try Self.sampleLines())

            let targets =
                SampleUIDs.all.map { "/v1/persons/\($0)" }
                + [
                    "/v1/households/H000501", "/v1/households/H000502",
                    "/v1/persons?source=library&subject=LIB-20002",
                ]
            var before: [String: [UInt8]] = [:]
            for target in targets {
                let reply = try await daemon.get(target)
                #expect(reply.status == 200, "\(target): \(reply.status) \(reply.text)")
                before[target] = reply.body
            }

            let rebuild = try await daemon.request("POST", "/v1/rebuild")
            #expect((200..<300).contains(rebuild.status), "POST /v1/rebuild: \(rebuild.status) \(rebuild.text)")
            let done = try await daemon.waitUntil(timeout: .seconds(60)) {
                let status = try await daemon.status()
                return status["rebuild"]?.isNull == true
                    && status["projection_lsn"]?.integerValue == status["head_lsn"]?.integerValue
            }
            #expect(done, "status never showed rebuild null with projection_lsn == head_lsn")

            for target in targets {
                let reply = try await daemon.get(target)
                #expect(
                    reply.body == before[target],
                    "\(target) changed across rebuild:\nbefore \(String(decoding: before[target] ?? [], as: UTF8.self))\nafter  \(reply.text)"
                )
            }
            try await daemon.stop()
        }
    }
}
