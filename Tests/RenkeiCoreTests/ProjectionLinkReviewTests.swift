import RenkeiCore
import Testing

/// Links an estimate would not make again (issue 14): listed for review, never undone silently;
/// linking the item keeps the link, rejecting it unlinks; a rebuild lists the same items.
@Suite struct ProjectionLinkReviewTests: LoggedProjection {
    /// Name, reading and birth date of the resident, another town: linked under the defaults
    /// (an unrelated address weighs only −1 there).
    static func movedPatron(_ subject: String, id: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":{"name":"高橋 一郎","name_kana":"ﾀｶﾊｼ ｲﾁﾛｳ","birth_date":"1985-06-12","address":"大阪府大阪市北区1-1"}}"#
    }

    /// Weights under which an unrelated address is strong evidence against: the moved patron's
    /// link is not made any more, the one that agrees on everything still is.
    static var strictWeights: MatchWeights {
        var weights = MatchWeights.standard
        weights.weights[MatchField.address.rawValue][AgreementLevel.disagree.rawValue] = -20
        return weights
    }

    var projection = Projection()
    var nextLSN: Int64 = 1
    var log: [LoggedEvent] = []

    /// R1, a patron agreeing on everything (LIB-1) and one living elsewhere (LIB-2): both linked
    /// by matching under the defaults; then the strict estimate.
    mutating func linkThenEstimate() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(ProjectionMatchingTests.patron("LIB-1", id: "L1"))
        try apply(Self.movedPatron("LIB-2", id: "L2"))
        for subject in ["LIB-1", "LIB-2"] {
            #expect(projection.uid(source: "library", subject: subject) == "U0000000001")
        }
        #expect(projection.openReviews.isEmpty)
        try apply(ProjectionEstimateTests.estimateEvent(id: "O1", ProjectionEstimateTests.estimateData(Self.strictWeights)))
    }

    @Test mutating func aLinkTheNewWeightsWouldNotMakeIsListedAndKept() throws {
        try linkThenEstimate()
        // Only LIB-2 is asked about; LIB-1 is still made. Neither link is undone.
        let items = projection.openReviews
        #expect(items.map(\.subject) == ["LIB-2"])
        let item = try #require(items.first)
        #expect(item.source == "library" && item.candidates.map(\.uid) == ["U0000000001"])
        let candidate = try #require(item.candidates.first)
        #expect(candidate.score < 0.92)
        #expect(candidate.reasons.contains(Projection.linkNotRemadeNote))
        #expect(candidate.reasons.contains { $0.hasPrefix("address: ") })
        #expect(Projection.asksAboutLink(item))
        for subject in ["LIB-1", "LIB-2"] {
            #expect(projection.uid(source: "library", subject: subject) == "U0000000001")
        }
        // The reply form keeps the contract's shape.
        #expect(item.jsonValue.objectValue?.keys.sorted() == ["candidates", "id", "source", "subject"])
    }

    @Test mutating func rebuildListsTheSameItemsByteForByte() throws {
        try linkThenEstimate()
        try apply(ProjectionMatchingTests.patron("LIB-3", id: "L3"))
        let rebuilt = self.rebuilt
        #expect(!projection.openReviews.isEmpty)
        #expect(rebuilt.openReviews.map(\.encoded) == projection.openReviews.map(\.encoded))
        expectSamePersons(rebuilt)
        // A second estimate with the same weights asks nothing new (the item is open already).
        try apply(ProjectionEstimateTests.estimateEvent(id: "O2", ProjectionEstimateTests.estimateData(Self.strictWeights)))
        #expect(projection.openReviews.map(\.subject) == ["LIB-2"])
    }

    /// A merge of the person the item names renames its candidate; it never settles the item.
    @Test mutating func aMergeOfThePersonKeepsTheItem() throws {
        // U0000000001: an unrelated patron alone; U0000000002: the resident, with LIB-2 matched.
        try apply(ProjectionMatchingTests.patron("LIB-0", id: "L0", name: "山田 太郎", kana: "ﾔﾏﾀﾞ ﾀﾛｳ", birth: "1970-01-01"))
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(Self.movedPatron("LIB-2", id: "L2"))
        #expect(projection.uid(source: "library", subject: "LIB-2") == "U0000000002")
        try apply(ProjectionEstimateTests.estimateEvent(id: "O1", ProjectionEstimateTests.estimateData(Self.strictWeights)))
        let id = try #require(projection.openReviews.first?.id)
        #expect(projection.review(id)?.candidates.map(\.uid) == ["U0000000002"])
        // An official links LIB-0 to the resident: the two uids merge into the lower.
        try apply(ProjectionMatchingTests.operatorEvent(
            "linked", id: "OP1", #"{"uid":"U0000000002","source":"library","subject":"LIB-0"}"#))
        #expect(projection.uid(source: "library", subject: "LIB-2") == "U0000000001")
        let item = try #require(projection.review(id))
        #expect(item.candidates.map(\.uid) == ["U0000000001"] && Projection.asksAboutLink(item))
        #expect(rebuilt.openReviews.map(\.encoded) == projection.openReviews.map(\.encoded))
    }

    @Test mutating func underWeightsThatStillMakeTheLinksNothingIsListed() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(ProjectionMatchingTests.patron("LIB-1", id: "L1"))
        try apply(Self.movedPatron("LIB-2", id: "L2"))
        try apply(ProjectionEstimateTests.estimateEvent(id: "O1", ProjectionEstimateTests.estimateData(.standard)))
        #expect(projection.openReviews.isEmpty)
    }

    @Test mutating func linkingTheItemKeepsTheLink() throws {
        try linkThenEstimate()
        let id = try #require(projection.openReviews.first?.id)
        try apply(ProjectionMatchingTests.operatorEvent(
            "linked", id: "OP1", #"{"uid":"U0000000001","source":"library","subject":"LIB-2"}"#))
        #expect(projection.review(id) == nil)
        #expect(projection.uid(source: "library", subject: "LIB-2") == "U0000000001")
        let link = projection.personView("U0000000001")?["links"]?.arrayValue?.first { $0["subject"] == "LIB-2" }
        #expect(link?["method"] == "operator")
    }

    @Test mutating func rejectingTheItemUnlinks() throws {
        try linkThenEstimate()
        let id = try #require(projection.openReviews.first?.id)
        try apply(ProjectionMatchingTests.operatorEvent("review_rejected", id: "OP1", #"{"review_id":"\#(id)"}"#))
        #expect(projection.review(id) == nil)
        let uid = try #require(projection.uid(source: "library", subject: "LIB-2"))
        #expect(uid != "U0000000001")
        #expect(projection.decisions.refused.contains(.init(source: "library", subject: "LIB-2", uid: "U0000000001")))
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
    }

    /// The daemon's own estimates record the size they were made at; the decisions keep the
    /// largest through storage, so restarts and rebuilds never estimate at it again.
    @Test mutating func theSizeAnAutomaticEstimateWasMadeAtIsKept() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        #expect(projection.linkedRecordCount == 0)
        try apply(ProjectionMatchingTests.patron("LIB-1", id: "L1"))
        #expect(projection.linkedRecordCount == 1)
        var data = ProjectionEstimateTests.estimateData(.standard)
        data["trigger"] = ["by": "renkeid", "estimate_at_records": 1000, "records": 1004]
        try apply(ProjectionEstimateTests.estimateEvent(id: "O1", data))
        #expect(projection.decisions.estimatedAtRecords == 1000)
        // An operator's estimate (no trigger) leaves it.
        try apply(ProjectionEstimateTests.estimateEvent(id: "O2"))
        #expect(projection.decisions.estimatedAtRecords == 1000)
        let decoded = try LinkDecisions(decoding: projection.decisions.encoded)
        #expect(decoded == projection.decisions && decoded.estimatedAtRecords == 1000)
        #expect(rebuilt.decisions.estimatedAtRecords == 1000)
    }

    @Test func theTriggeredEventIsValidUnderItsSchema() {
        var data = MatchEstimationTests.estimated.json()
        data["trigger"] = ["by": "renkeid", "estimate_at_records": 1000, "records": 1004]
        let envelope: JSONObject = [
            "source": "operator", "event_id": "OP-renkeid-estimate-at-records-1000", "type": "operator.linking_estimated",
            "occurred_at": "2026-05-01T09:00:00+09:00", "subject": "linking", "data": .object(data),
        ]
        if case .failure(let rejection) = SchemaFixtures.validator.validate(
            value: .object(envelope), expectedSource: "operator", allowOperator: true)
        {
            Issue.record("rejected: \(rejection.description)")
        }
    }
}
