import RenkeiCore
import Testing

/// Link validity (issue 16): a library card withdrawn and its number reissued is matched afresh.
@Suite struct ProjectionLinkValidityTests: LoggedProjection {
    static func library(_ type: String, id: String, subject: String = "LIB-1", _ data: String = "{}") -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.\#(type)","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":\#(data)}"#
    }

    static let takahashi = #"{"name":"高橋 一郎","name_kana":"ﾀｶﾊｼ ｲﾁﾛｳ","birth_date":"1985-06-12","address":"千代田区九段南１－２－１"}"#
    static let sato = #"{"name":"佐藤 花子","name_kana":"サトウ ハナコ","birth_date":"2001-11-30","address":"千代田区一番町５"}"#

    var projection = Projection()
    var nextLSN: Int64 = 1
    var log: [LoggedEvent] = []

    /// Resident 髙橋, his card LIB-1 (linked by match), then the card withdrawn.
    mutating func withdrawnCard() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(Self.library("patron_registered", id: "L1", Self.takahashi))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        try apply(Self.library("patron_withdrawn", id: "L2"))
    }

    @Test mutating func reissuedCardIsMatchedAfreshNotAttachedToTheOldHolder() throws {
        try withdrawnCard()
        try apply(Self.library("patron_registered", id: "L3", Self.sato))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000002")
        let newHolder = try #require(projection.personView("U0000000002"))
        #expect(newHolder.text("name") == #""佐藤 花子""#)
        #expect(newHolder.text("library") == #"{"patron_no":"LIB-1","status":"active"}"#)
        // The old holder keeps his withdrawn card as history and none of the new holder's data.
        let oldHolder = try #require(projection.personView("U0000000001"))
        #expect(oldHolder.text("library") == #"{"patron_no":"LIB-1","status":"withdrawn"}"#)
        #expect(oldHolder.text("name") == #""髙橋 一郎""#)
        #expect(projection.personRecord("U0000000001")?.records.last?.linkEndedLSN == 4)
        // Later events about LIB-1 go to the new holder.
        try apply(Self.library("patron_updated", id: "L4", #"{"address":"千代田区一番町６"}"#))
        #expect(projection.personView("U0000000002")?.text("address") == #""千代田区一番町６""#)
        #expect(projection.personView("U0000000001")?.text("address") == #""東京都千代田区九段南1丁目2番1号""#)
    }

    @Test mutating func sameHolderRegisteringAgainIsMatchedBackToHimself() throws {
        try withdrawnCard()
        try apply(Self.library("patron_registered", id: "L3", Self.takahashi))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        #expect(projection.personCount == 1)
        let view = try #require(projection.personView("U0000000001"))
        #expect(view.text("library") == #"{"patron_no":"LIB-1","status":"active"}"#)
        try apply(Self.library("patron_withdrawn", id: "L4"))
        #expect(projection.personView("U0000000001")?.text("library") == #"{"patron_no":"LIB-1","status":"withdrawn"}"#)
    }

    @Test mutating func withoutWithdrawalARegistrationStaysWithTheHolder() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(Self.library("patron_registered", id: "L1", Self.takahashi))
        try apply(Self.library("patron_registered", id: "L2", Self.sato))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        #expect(projection.personCount == 1)
    }

    @Test mutating func rebuildAndRestoreGiveTheSameLinks() throws {
        try withdrawnCard()
        try apply(Self.library("patron_registered", id: "L3", Self.sato))
        try apply(Self.library("patron_updated", id: "L4", #"{"name_kana":"サトウ ハナコ"}"#))
        var rebuilt = self.rebuilt
        #expect(ProjectionRestoreTests.snapshot(rebuilt, households: ["H1"]) == ProjectionRestoreTests.snapshot(projection, households: ["H1"]))
        #expect(rebuilt.uid(source: "library", subject: "LIB-1") == "U0000000002")
        var store = ProjectionRestoreTests.Store()
        store.checkpoint(&rebuilt)
        let restored = try store.restore()
        #expect(restored.uid(source: "library", subject: "LIB-1") == "U0000000002")
        #expect(ProjectionRestoreTests.snapshot(restored, households: ["H1"]) == ProjectionRestoreTests.snapshot(projection, households: ["H1"]))
    }

    @Test mutating func operatorPinOnTheOldCardDoesNotFollowTheNewHolder() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        // An official pinned LIB-1 to 髙橋 before it arrived; it arrives, is withdrawn, and is reissued.
        try apply(ProjectionMatchingTests.operatorEvent("linked", id: "O1", #"{"uid":"U0000000001","source":"library","subject":"LIB-1"}"#))
        try apply(Self.library("patron_registered", id: "L1", Self.takahashi))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        try apply(Self.library("patron_withdrawn", id: "L2"))
        try apply(Self.library("patron_registered", id: "L3", Self.sato))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000002")
        #expect(projection.decisions.pins.isEmpty)
    }
}
