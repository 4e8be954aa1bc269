import RenkeiCore
import Testing

/// Open review items name live uids only (issue 3): a merge that retires a candidate rewrites it,
/// scores it again, merges duplicates, and a rebuild or a restore gives the same queue.
@Suite struct ProjectionReviewTests {
    static func patron(_ subject: String, id: String, data: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":\#(data)}"#
    }

    /// A patron giving everything the registry will give: links automatically when it arrives.
    static let fullData = #"{"name":"高橋 一郎","name_kana":"ﾀｶﾊｼ ｲﾁﾛｳ","birth_date":"1985-06-12","address":"千代田区九段南１－２－１"}"#
    /// Same name and birth date, no kana, another town: a review, never a link.
    static let weakData = #"{"name":"高橋 一郎","birth_date":"1985-06-12","address":"大阪府大阪市北区1-1"}"#
    /// A tax assessment that reserves 宛名番号 000000001 (uid U0000000001) before the registry speaks.
    static let reservingTax = #"{"source":"tax","event_id":"T1","type":"tax.assessed","occurred_at":"2026-04-01T08:00:00+09:00","subject":"TX-1","data":{"fiscal_year":2026,"taxable":true,"income_levy":100,"per_capita_levy":5000,"atena_no":"000000001"}}"#

    var projection = Projection()
    var log: [LoggedEvent] = []

    @discardableResult
    mutating func apply(_ line: String) throws -> ProjectionEffect {
        let event = try EventLog.event(line, lsn: Int64(log.count + 1))
        log.append(event)
        return projection.apply(event)
    }

    /// U1 reserved by tax; LIB-5 full data on U2; LIB-9 weak on U3 with a review naming U2.
    mutating func reviewNamingU2() throws -> ReviewItem {
        try apply(Self.reservingTax)
        try apply(Self.patron("LIB-5", id: "L5", data: Self.fullData))
        try apply(Self.patron("LIB-9", id: "L9", data: Self.weakData))
        let item = try #require(projection.openReviews.first)
        #expect(item.subject == "LIB-9" && item.candidates.map(\.uid) == ["U0000000002"])
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000003")
        return item
    }

    @Test mutating func mergeRetiringACandidateRewritesItToTheLiveUID() throws {
        let before = try reviewNamingU2()
        // The registry event lands on the reserved U1; LIB-5 (U2) links to it by merge: U2 retires.
        let effect = try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        #expect(effect.merges == [.init(retired: "U0000000002", kept: "U0000000001")])
        #expect(projection.resolve("U0000000002") == "U0000000001")

        let item = try #require(projection.review(before.id))
        #expect(item.candidates.map(\.uid) == ["U0000000001"])
        // Scored again against the resident as it is now: its name is 髙橋, a variant of 高橋.
        let reasons = try #require(item.candidates.first?.reasons)
        #expect(reasons.contains { $0.hasPrefix("name: 異体字 高/髙") }, "\(reasons)")
        #expect(item.candidates[0].score >= LinkingThresholds().review)
        #expect(item.lsn == before.lsn)
        #expect(projection.dirtyReviews.contains(before.id))
        // Every uid an open item names is live.
        for open in projection.openReviews {
            for candidate in open.candidates { #expect(projection.personRecord(candidate.uid)?.mergedInto == nil) }
        }

        // The operator links to the live uid: the item closes and the record joins U1.
        try apply(ProjectionMatchingTests.operatorEvent("linked", id: "O1", #"{"uid":"U0000000001","source":"library","subject":"LIB-9"}"#))
        #expect(projection.openReviews.isEmpty)
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000001")
    }

    @Test mutating func rebuildAndRestoreGiveTheSameRetargetedQueue() throws {
        _ = try reviewNamingU2()
        // Restored from stored rows before the merge: the candidate index is rebuilt, so the merge
        // retargets there too.
        var restored = Projection(
            restoring: (1...3).compactMap { projection.personRecord(Projection.formatUID(Int64($0))) }, households: [],
            meta: projection.meta, reviews: projection.openReviews, decisions: projection.decisions)
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        restored.apply(try #require(log.last))
        #expect(restored.openReviews == projection.openReviews)

        let rebuilt = EventLog.project(log)
        #expect(rebuilt.openReviews == projection.openReviews)
        #expect(rebuilt.openReviews.first?.candidates.map(\.uid) == ["U0000000001"])
    }

    /// No kana, another town: 3.5 in log2 odds against `fullData` (a review), and against each other.
    static func weak(_ address: String) -> String {
        #"{"name":"高橋 一郎","birth_date":"1985-06-12","address":"\#(address)"}"#
    }

    @Test mutating func candidatesMergedIntoOneAreListedOnce() throws {
        try apply(Self.reservingTax)
        try apply(Self.patron("LIB-5", id: "L5", data: Self.fullData))  // U2
        try apply(Self.patron("LIB-6", id: "L6", data: Self.weak("神奈川県横浜市中区1-1")))  // U3, review [U2]
        try apply(Self.patron("LIB-9", id: "L9", data: Self.weak("大阪府大阪市北区1-1")))  // U4, review [U2, U3]
        let item = try #require(projection.openReviews.first { $0.subject == "LIB-9" })
        #expect(Set(item.candidates.map(\.uid)) == ["U0000000002", "U0000000003"])

        // The operator decides LIB-6 is LIB-5's patron: U3 merges into U2, LIB-9's item names U2 once.
        let first = try #require(projection.openReviews.first { $0.subject == "LIB-6" })
        try apply(ProjectionMatchingTests.operatorEvent("linked", id: "O1", #"{"uid":"U0000000002","source":"library","subject":"LIB-6"}"#))
        #expect(projection.review(first.id) == nil)
        var after = try #require(projection.review(item.id))
        #expect(after.candidates.map(\.uid) == ["U0000000002"])
        // The registry event then merges U2 into the reserved U1.
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        after = try #require(projection.review(item.id))
        #expect(after.candidates.map(\.uid) == ["U0000000001"])
        #expect(EventLog.project(log).openReviews == projection.openReviews)
    }

    @Test mutating func candidateRefusedForTheRecordIsDroppedAndAnEmptyItemCloses() throws {
        try apply(Self.patron("LIB-5", id: "L5", data: Self.fullData))  // U1
        try apply(Self.patron("LIB-6", id: "L6", data: Self.weak("神奈川県横浜市中区1-1")))  // U2, review [U1]
        try apply(Self.patron("LIB-9", id: "L9", data: Self.fullData))  // linked to U1 automatically
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000001")
        // The operator splits LIB-9 off U1 (U3): LIB-9 is never linked to U1 again.
        try apply(ProjectionMatchingTests.operatorEvent("unlinked", id: "O1", #"{"uid":"U0000000001","source":"library","subject":"LIB-9"}"#))
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000003")
        // An update scores LIB-9 again: U1 is refused, U2 is a review.
        try apply(#"{"source":"library","event_id":"L9b","type":"library.patron_updated","occurred_at":"2026-04-05T11:00:00+09:00","subject":"LIB-9","data":{"postal_code":"102-0074"}}"#)
        let item = try #require(projection.openReviews.first { $0.subject == "LIB-9" })
        #expect(item.candidates.map(\.uid) == ["U0000000002"])
        // LIB-6 joins U1: the item's only candidate would now be U1, which the operator refused.
        try apply(ProjectionMatchingTests.operatorEvent("linked", id: "O2", #"{"uid":"U0000000001","source":"library","subject":"LIB-6"}"#))
        #expect(projection.review(item.id) == nil)
        #expect(projection.openReviews.isEmpty)
        #expect(projection.dirtyReviews.contains(item.id))
        #expect(EventLog.project(log).openReviews.isEmpty)
    }
}
