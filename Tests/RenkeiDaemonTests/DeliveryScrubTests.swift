import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// Issue 13, transport: a receiver that echoes a 個人番号 in its 4xx body does not get it stored in
/// the outbox, listed by `GET /v1/dead-letters`, shown in `/v1/status` or written to a log line.
@Suite("Delivery: receivers' text scrubbed", .serialized)
struct DeliveryScrubTests {
    static let myNumber = "123456789018"
    static let fullWidth = "１２３４５６７８９０１８"

    @Test(.timeLimit(.minutes(2)))
    func anEchoedNumberIsMaskedBeforeItIsStoredOrShown() async throws {
        let receiver = try DeliveryReceiver { _, _, body in
            let number = body["view"]?["my_number"]?.stringValue ?? "none"
            return .status(422, body: #"{"error":"my_number \#(number) is not registered here","ref":"\#(Self.fullWidth)","case":"1234567890123"}"#)
        }
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(subscriptions: [
            "benefits": [
                "url": .string(receiver.url), "fields": ["uid", "name", "my_number"], "legal_basis": "番号法 第19条第8号",
                "max_attempts": 1, "retry_base_s": .double(0.05),
            ]
        ])
        defer { Task { await fixture.stop() } }
        let line = Events.line(
            "MN-1", "resident.registered", subject: "000000001",
            data: [
                "reason": "birth", "name": "山田 花子", "birth_date": "2026-03-01", "sex": "female",
                "address": "東京都千代田区1-1", "household_no": "H1", "relationship": "子", "my_number": .string(Self.myNumber),
            ])
        #expect(await fixture.ingest([line]) == 1)
        let dead = await fixture.wait(.seconds(30)) { (await fixture.counts("benefits"))["dead_letters"]?.integerValue == 1 }
        #expect(dead)
        #expect(receiver.requests.first?.json["view"]?["my_number"]?.stringValue == Self.myNumber, "the receiver did echo it")

        let letters = await fixture.request("GET", "/v1/dead-letters?subscription=benefits").json["dead_letters"]?.arrayValue ?? []
        let excerpt = try #require(letters.first?["response_excerpt"]?.stringValue)
        #expect(excerpt == #"{"error":"my_number ************ is not registered here","ref":"************","case":"1234567890123"}"#)
        let stored = try fixture.service.reader().prepare("SELECT response_excerpt, last_error FROM outbox")
            .rows([]) { ($0.string(0) ?? "") + " " + ($0.string(1) ?? "") }
        #expect(!stored.isEmpty)
        for text in stored + [excerpt, (await fixture.request("GET", "/v1/status")).json.serializedString] + fixture.logLines {
            #expect(!text.contains(Self.myNumber) && !text.contains(Self.fullWidth), "\(text)")
        }

        // A row stored before the scrubber (kept as received) is masked when listed.
        try await fixture.service.writer.perform { db in
            try db.execute("UPDATE outbox SET response_excerpt = 'old: \(Self.myNumber)', last_error = 'old \(Self.myNumber)'")
        }
        let listed = await fixture.request("GET", "/v1/dead-letters?subscription=benefits").json["dead_letters"]?.arrayValue ?? []
        #expect(listed.first?["response_excerpt"]?.stringValue == "old: ************")
        #expect(listed.first?["error"]?.stringValue == "old ************")
    }
}
