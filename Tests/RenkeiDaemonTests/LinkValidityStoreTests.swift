import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// Link validity through the daemon (issue 16): after a library card is withdrawn and its number
/// registered to someone else, the stored (source, subject) row names the new holder, before and
/// after a rebuild, and the old holder's stored view still shows the withdrawn card.
@Suite("Link validity: stored links")
struct LinkValidityStoreTests {
    @Test(.timeLimit(.minutes(2)))
    func reissuedCardIsStoredUnderTheNewHolderThroughARebuild() async throws {
        let daemon = try await IngestFixture(push: false)
        defer { Task { await daemon.stop() } }
        let lines = [
            ProjectionMatchingLines.resident,
            ProjectionMatchingLines.library("patron_registered", id: "L1", ProjectionMatchingLines.takahashi),
            ProjectionMatchingLines.library("patron_withdrawn", id: "L2", "{}"),
            ProjectionMatchingLines.library("patron_registered", id: "L3", ProjectionMatchingLines.sato),
        ]
        let report = try await daemon.service.ingestor.ingest(
            Ingestor.splitLines(Array(lines.joined(separator: "\n").utf8)), expectedSource: nil,
            provenance: Provenance(via: .replay, uid: 0))
        #expect(report.accepted == 4)
        #expect(await daemon.wait { try daemon.status()["projection_lsn"]?.integerValue == 4 })
        func stored() throws -> (String?, JSONValue?) {
            let db = try daemon.service.reader()
            return (
                try ProjectionStore.uid(source: "library", subject: "LIB-1", in: db),
                try ProjectionStore.view(uid: "U0000000001", in: db)?["library"])
        }
        let withdrawn: JSONValue = ["patron_no": "LIB-1", "status": "withdrawn"]
        #expect(try stored().0 == "U0000000002")
        #expect(try stored().1 == withdrawn)
        #expect(await RebuildTests.rebuild(daemon))
        #expect(try stored().0 == "U0000000002")
        #expect(try stored().1 == withdrawn)
    }
}

/// Envelopes for the test above.
enum ProjectionMatchingLines {
    static let resident = #"{"source":"resident","event_id":"R1","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"000000001","data":{"reason":"move_in","name":"髙橋 一郎","name_kana":"タカハシ イチロウ","birth_date":"1985-06-12","sex":"male","address":"東京都千代田区九段南1丁目2番1号","household_no":"H1","relationship":"世帯主"}}"#
    static let takahashi = #"{"name":"高橋 一郎","name_kana":"ﾀｶﾊｼ ｲﾁﾛｳ","birth_date":"1985-06-12","address":"千代田区九段南１－２－１"}"#
    static let sato = #"{"name":"佐藤 花子","name_kana":"サトウ ハナコ","birth_date":"2001-11-30","address":"千代田区一番町５"}"#
    static func library(_ type: String, id: String, _ data: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.\#(type)","occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-1","data":\#(data)}"#
    }
}
