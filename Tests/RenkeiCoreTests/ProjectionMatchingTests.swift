import RenkeiCore
import Testing

/// Order independence, merges, review queue and operator decisions through the projection.
@Suite struct ProjectionMatchingTests {
    static func patron(_ subject: String, id: String, name: String = "高橋 一郎", kana: String = "ﾀｶﾊｼ ｲﾁﾛｳ", birth: String = "1985-06-12") -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":{"name":"\#(name)","name_kana":"\#(kana)","birth_date":"\#(birth)","address":"千代田区九段南１－２－１"}}"#
    }

    static func resident(_ atena: String, id: String, reason: String = "move_in") -> String {
        #"{"source":"resident","event_id":"\#(id)","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(atena)","data":{"reason":"\#(reason)","name":"髙橋 一郎","name_kana":"タカハシ イチロウ","birth_date":"1985-06-12","sex":"male","address":"東京都千代田区九段南1丁目2番1号","household_no":"H1","relationship":"世帯主"}}"#
    }

    static func operatorEvent(_ type: String, id: String, _ data: String) -> String {
        #"{"source":"operator","event_id":"\#(id)","type":"operator.\#(type)","occurred_at":"2026-05-01T09:00:00+09:00","subject":"x","data":\#(data)}"#
    }

    var projection = Projection()
    var nextLSN: Int64 = 1
    var log: [LoggedEvent] = []

    @discardableResult
    mutating func apply(_ line: String) throws -> ProjectionEffect {
        defer { nextLSN += 1 }
        let event = try EventLog.event(line, lsn: nextLSN)
        log.append(event)
        return projection.apply(event)
    }

    @Test mutating func patronBeforeResidentIsLinkedByMerge() throws {
        try apply(Self.patron("LIB-1", id: "L1"))
        #expect(projection.personView("U0000000001")?.text("status") == #""unregistered""#)
        let effect = try apply(Self.resident("000000001", id: "R1"))
        #expect(effect.merges == [.init(retired: "U0000000002", kept: "U0000000001")])
        let view = try #require(projection.personView("U0000000001"))
        #expect(view.text("status") == #""active""#)
        #expect(view["links"]?.arrayValue?.first?["method"] == "match")
        #expect(projection.personView("U0000000002")?.text("merged_into") == #""U0000000001""#)
        #expect(projection.uid(atenaNo: "000000001") == "U0000000001")
        #expect(projection.householdView("H1")?.text("members") == #"["U0000000001"]"#)
        // Later resident events follow the key to the kept uid.
        try apply(ProjectionRulesTests.resident("000000001", id: "R2", "moved", #"{"address":"東京都千代田区一番町1"}"#))
        #expect(projection.personView("U0000000001")?.text("address") == #""東京都千代田区一番町1""#)
    }

    @Test mutating func reviewLinkUnlinkAndRebuild() throws {
        try apply(Self.resident("000000001", id: "R1"))
        // Same name and birth date, kana missing, a different address: review, not a link.
        try apply(#"{"source":"library","event_id":"L1","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-9","data":{"name":"高橋 一郎","birth_date":"1985-06-12","address":"大阪府大阪市北区1-1"}}"#)
        let item = try #require(projection.openReviews.first)
        #expect(item.source == "library" && item.subject == "LIB-9")
        #expect(item.candidates.map(\.uid) == ["U0000000001"])
        #expect(!JSONValue.object(["r": item.jsonValue]).serializedString.contains("九段"))
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000002")

        try apply(Self.operatorEvent("linked", id: "O1", #"{"uid":"U0000000001","source":"library","subject":"LIB-9"}"#))
        #expect(projection.openReviews.isEmpty)
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000001")
        #expect(projection.personView("U0000000002")?.text("merged_into") == #""U0000000001""#)

        let split = try apply(Self.operatorEvent("unlinked", id: "O2", #"{"uid":"U0000000001","source":"library","subject":"LIB-9"}"#))
        #expect(split.unlinks == [.init(uid: "U0000000001", newUID: "U0000000003")])
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000003")
        #expect(projection.decisions.refused.contains(.init(source: "library", subject: "LIB-9", uid: "U0000000001")))

        // Rebuild from lsn 1: the same views, uids and queue.
        let rebuilt = EventLog.project(log)
        for number in 1...3 {
            let uid = Projection.formatUID(Int64(number))
            #expect(rebuilt.personRecord(uid)?.encoded == projection.personRecord(uid)?.encoded)
        }
        #expect(rebuilt.openReviews == projection.openReviews)
        #expect(rebuilt.decisions == projection.decisions)
    }

    @Test mutating func rejectedReviewIsNotRaisedAgain() throws {
        try apply(Self.resident("000000001", id: "R1"))
        try apply(#"{"source":"library","event_id":"L1","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-9","data":{"name":"高橋 一郎","birth_date":"1985-06-12","address":"大阪府大阪市北区1-1"}}"#)
        let id = try #require(projection.openReviews.first?.id)
        try apply(Self.operatorEvent("review_rejected", id: "O1", #"{"review_id":"\#(id)"}"#))
        #expect(projection.openReviews.isEmpty)
        try apply(#"{"source":"library","event_id":"L2","type":"library.patron_updated","occurred_at":"2026-04-04T11:00:00+09:00","subject":"LIB-9","data":{"postal_code":"530-0001"}}"#)
        #expect(projection.openReviews.isEmpty)
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000002")
    }

    @Test mutating func returningResidentRaisesReview() throws {
        try apply(Self.resident("000000001", id: "R1"))
        try apply(ProjectionRulesTests.resident("000000001", id: "R2", "moved_out", "{}"))
        try apply(Self.resident("000000077", id: "R3"))
        let item = try #require(projection.openReviews.first)
        #expect(item.source == "resident" && item.subject == "000000077")
        #expect(item.candidates.first?.uid == "U0000000001")
        #expect(item.candidates.first?.reasons.last == MatchReasons.returnNote)
        #expect(projection.uid(atenaNo: "000000077") == "U0000000002")
    }
}
