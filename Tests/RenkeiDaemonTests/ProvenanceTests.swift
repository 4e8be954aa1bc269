import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// Issue 13, provenance: every event records how it came in, duplicates keep their first provenance,
/// and `GET /v1/persons/{uid}/history` lists a person's events with it and without their data.
@Suite("Provenance", .serialized)
struct ProvenanceTests {
    /// A value's canonical text (object members sorted), for comparisons that ignore member order.
    static func canon(_ value: JSONValue?) -> String { String(decoding: value?.canonicalBytes ?? [], as: UTF8.self) }

    /// `event_id` → stored provenance (`.null` when none).
    static func provenances(_ service: RenkeiService) throws -> [String: JSONValue] {
        let rows = try service.reader().prepare("SELECT event_id, provenance FROM events").rows([]) { row in
            (row.string(0) ?? "", row.blob(1).flatMap { try? JSONParser.parse($0) } ?? .null)
        }
        return Dictionary(uniqueKeysWithValues: rows)
    }

    static func post(_ routes: StatusRoutes, _ target: String, _ body: String) async -> HTTPResponse {
        await routes.handle(HTTPRequest(method: "POST", target: target, body: Array(body.utf8), peer: AuditTests.operatorPeer))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func everyWayInRecordsItsProvenanceAndADuplicateKeepsTheFirst() async throws {
        let feed = try PullSourceTests.Feed()
        feed.state.withLock { $0.failing = false }
        // A secret in the feed URL's query must not reach the log.
        let pull: [String: JSONObject] = ["tax": ["pull": ["url": .string(feed.url + "?key=s3cret"), "interval_s": .double(0.1)]]]
        let fixture = try await IngestFixture(sources: pull)
        let routes = StatusRoutes(service: fixture.service)

        // replay, over the socket, by uid 4242
        #expect(await Self.post(routes, "/v1/replay", IngestEvents.patron("P-REPLAY", subject: "L1") + "\n").status == 200)
        // spool
        try fixture.drop(Array((IngestEvents.patron("P-SPOOL", subject: "L2", name: "佐藤 次郎") + "\n").utf8), as: "batch-1.jsonl", into: "library")
        #expect(await fixture.waitTaken("batch-1.jsonl", source: "library"))
        // push
        let push = try await runProcess(
            "/usr/bin/curl",
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(IngestFixture.token("library"))",
             "-H", "Content-Type: application/x-ndjson", "--data-binary", "@-", fixture.pushURL("library")],
            stdin: Array((IngestEvents.patron("P-PUSH", subject: "L3", name: "鈴木 三郎") + "\n").utf8))
        #expect(push.output == "200")
        // pull
        #expect(await fixture.wait { try Self.provenances(fixture.service)["TX-29"] != nil })
        // operator, by uid 4242: link the pushed patron to the replayed one's person
        let reader = try fixture.service.reader()
        let target = try #require(try ProjectionStore.uid(source: "library", subject: "L1", in: reader))
        let link = await Self.post(routes, "/v1/links", #"{"uid":"\#(target)","source":"library","subject":"L3"}"#)
        #expect(link.status == 200, "\(String(decoding: link.body, as: UTF8.self))")
        // the replayed event again, through the spool: a duplicate, its provenance stays
        try fixture.drop(Array((IngestEvents.patron("P-REPLAY", subject: "L1") + "\n").utf8), as: "batch-2.jsonl", into: "library")
        #expect(await fixture.waitTaken("batch-2.jsonl", source: "library"))

        let found = try Self.provenances(fixture.service)
        #expect(Self.canon(found["P-REPLAY"]) == Self.canon(["via": "replay", "uid": 4242]))
        #expect(Self.canon(found["P-SPOOL"]) == Self.canon(["via": "spool", "file": "batch-1.jsonl", "source": "library"]))
        let pushed = try #require(found["P-PUSH"]?.objectValue)
        #expect(pushed["via"] == "push" && pushed["source"] == "library")
        #expect(pushed["peer"]?.stringValue?.hasPrefix("127.0.0.1:") == true, "\(pushed)")
        #expect(Self.canon(found["TX-0"]) == Self.canon(["via": "pull", "source": "tax", "url": .string(feed.url)]))
        let operatorEvent = try #require(found.first { $0.key.hasPrefix("OP-") }?.value)
        #expect(Self.canon(operatorEvent) == Self.canon(["via": "operator", "uid": 4242]))
        // The chain still verifies over rows with provenance.
        #expect(try EventLog.verify(in: fixture.service.reader()).ok)
        await fixture.stop()
        await feed.server.stop(deadline: .seconds(1))
    }

    @Test func historyListsAPersonsEventsWithProvenanceAndNoData() async throws {
        let fixture = try await IngestFixture(push: false)
        let routes = StatusRoutes(service: fixture.service)
        // A patron (U1), then a resident who does not match (U2); linked by an operator (U2 retires);
        // the resident becomes protected; another person's event in between.
        #expect(await Self.post(routes, "/v1/replay", IngestEvents.patron("H-L1", subject: "L0001") + "\n").status == 200)
        #expect(await Self.post(routes, "/v1/replay", [
            AuditEvents.resident("H-R1", subject: "200000001", name: "保護 花子", household: "H9"),
            IngestEvents.patron("H-OTHER", subject: "L0002", name: "他人 四郎"),
        ].joined(separator: "\n") + "\n").status == 200)
        let reader = try fixture.service.reader()
        let u1 = try #require(try ProjectionStore.uid(source: "library", subject: "L0001", in: reader))
        let u2 = try #require(try ProjectionStore.uid(source: "resident", subject: "200000001", in: reader))
        #expect(u1 != u2)
        #expect(await Self.post(routes, "/v1/links", #"{"uid":"\#(u1)","source":"resident","subject":"200000001"}"#).status == 200)
        #expect(await Self.post(routes, "/v1/replay",
            #"{"source":"resident","event_id":"H-R2","type":"resident.protection_changed","occurred_at":"2026-04-03T09:00:00+09:00","subject":"200000001","data":{"protected":true}}"# + "\n").status == 200)

        let reply = await AuditTests.get(routes, "/v1/persons/\(u1)/history")
        #expect(reply.status == 200)
        let json = try JSONParser.parse(reply.body)
        let events = try #require(json["events"]?.arrayValue)
        #expect(events.compactMap { $0["event_id"]?.stringValue }.map { $0.hasPrefix("OP-") ? "OP" : $0 } == ["H-L1", "H-R1", "OP", "H-R2"])
        let lsns = events.compactMap { $0["lsn"]?.integerValue }
        #expect(lsns == lsns.sorted() && lsns.count == 4)
        #expect(Self.canon(events[1]["provenance"]) == Self.canon(["via": "replay", "uid": 4242]))
        #expect(Self.canon(events[2]["provenance"]) == Self.canon(["via": "operator", "uid": 4242]))
        #expect(events[1]["occurred_at"] == "2026-04-01T09:00:00+09:00")
        #expect(events[1]["type"] == "resident.registered" && events[1]["source"] == "resident")
        #expect(events.allSatisfy { $0["data"] == nil && $0["recorded_at"]?.stringValue != nil })
        let text = String(decoding: reply.body, as: UTF8.self)
        for secret in ["九段", "102-0074", "H9", "保護"] { #expect(!text.contains(secret), "history shows \(secret)") }
        // Audited, with the uid.
        let entry = try #require(try AuditTests.newestEntry(fixture.service))
        #expect(entry["target"]?.stringValue == "/v1/persons/\(u1)/history" && entry["uid"]?.stringValue == u1)
        // The retired uid answers for the person it stands for now.
        let retired = try JSONParser.parse(await AuditTests.get(routes, "/v1/persons/\(u2)/history").body)
        #expect(retired["uid"]?.stringValue == u1 && retired["events"]?.arrayValue?.count == 4)
        #expect(await AuditTests.get(routes, "/v1/persons/U9999999999/history").status == 404)
        await fixture.stop()
    }

    @Test func aPullURLKeepsNoCredentialsQueryOrFragment() {
        #expect(Provenance.redacted(url: "https://user:pw@feed.example.jp:8443/v1/changes?key=s#x") == "https://feed.example.jp:8443/v1/changes")
        #expect(Provenance.redacted(url: "http://feed/changes") == "http://feed/changes")
        #expect(Provenance.redacted(url: "http://a@b@feed/x?y") == "http://feed/x")
    }
}
