import RenkeiCore
import Testing

/// `operator.linking_estimated` through the projection (issue 14): the weights it carries decide
/// from then on, pending reviews are decided again, and a rebuild or a restart decides the same.
@Suite struct ProjectionEstimateTests: LoggedProjection {
    /// Same name and birth date, no kana, another address: a review under the defaults.
    static func patron(_ subject: String, id: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":{"name":"高橋 一郎","birth_date":"1985-06-12","address":"大阪府大阪市北区1-1"}}"#
    }

    /// Weights under which that pair links: a different address is no evidence, a higher prior.
    static var linkingWeights: MatchWeights {
        var weights = MatchWeights.standard
        weights.weights[MatchField.address.rawValue][AgreementLevel.disagree.rawValue] = 0
        weights.prior = -10
        return weights
    }

    /// The event's data: estimated parameters' shape, with the weights above.
    static func estimateData(_ weights: MatchWeights = linkingWeights) -> JSONObject {
        var parameters = LinkingParameters()
        parameters.records = 2
        var data = parameters.json()
        data["weights"] = .object(weights.json)
        return data
    }

    static func estimateEvent(id: String, _ data: JSONObject = estimateData()) -> String {
        #"{"source":"operator","event_id":"\#(id)","type":"operator.linking_estimated","occurred_at":"2026-05-01T09:00:00+09:00","subject":"linking","data":\#(JSONValue.object(data).serializedString)}"#
    }

    var projection: Projection
    var nextLSN: Int64 = 1
    var log: [LoggedEvent] = []

    init() { projection = Projection() }

    @Test func theEventIsValidUnderItsSchema() {
        let envelope: JSONObject = [
            "source": "operator", "event_id": "OP-1", "type": "operator.linking_estimated",
            "occurred_at": "2026-05-01T09:00:00+09:00", "subject": "linking",
            "data": .object(MatchEstimationTests.estimated.json()),
        ]
        if case .failure(let rejection) = SchemaFixtures.validator.validate(
            value: .object(envelope), expectedSource: "operator", allowOperator: true)
        {
            Issue.record("rejected: \(rejection.description)")
        }
    }

    @Test mutating func pendingReviewsAreDecidedAgainAndRebuildsAgree() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(Self.patron("LIB-9", id: "L1"))
        #expect(projection.openReviews.map(\.subject) == ["LIB-9"])
        #expect(projection.linkingWeights.origin == "default")

        try apply(Self.estimateEvent(id: "O1"))
        #expect(projection.linkingWeights.origin == "estimated" && projection.linkingWeights.weights == Self.linkingWeights)
        // The pending item is decided again under the new weights: now a link (merge, method match).
        #expect(projection.openReviews.isEmpty)
        #expect(projection.uid(source: "library", subject: "LIB-9") == "U0000000001")
        let link = projection.personView("U0000000001")?["links"]?.arrayValue?.first { $0["subject"] == "LIB-9" }
        #expect(link?["method"] == "match")

        // Records after the event are decided under it.
        try apply(Self.patron("LIB-10", id: "L2"))
        #expect(projection.uid(source: "library", subject: "LIB-10") == "U0000000001")

        // Rebuild from lsn 1: the same persons, queue and decisions.
        let rebuilt = self.rebuilt
        expectSamePersons(rebuilt)
        #expect(rebuilt.openReviews == projection.openReviews)
        #expect(rebuilt.decisions == projection.decisions)

        // A restart restores the estimate with the decisions: the next record links there too.
        var restored = try restored()
        #expect(restored.linkingWeights.weights == Self.linkingWeights)
        let next = try EventLog.event(Self.patron("LIB-11", id: "L3"), lsn: nextLSN)
        restored.apply(next)
        #expect(restored.uid(source: "library", subject: "LIB-11") == "U0000000001")
    }

    /// Without the event the same records stay under review (the event is what changed them).
    @Test mutating func withoutTheEventTheReviewStays() throws {
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(Self.patron("LIB-9", id: "L1"))
        try apply(Self.patron("LIB-10", id: "L2"))
        #expect(projection.openReviews.map(\.subject).contains("LIB-9"))
        #expect(projection.uid(source: "library", subject: "LIB-9") != "U0000000001")
        #expect(projection.uid(source: "library", subject: "LIB-10") != "U0000000001")
    }

    /// `linking.weights` configured: the estimate decides what the configuration leaves out, the
    /// configured values decide the rest.
    @Test mutating func configuredWeightsOverrideAnEstimateValueByValue() throws {
        var configured = MatchWeights.standard
        configured.prior = -14
        projection = Projection(weights: configured)
        #expect(projection.linkingWeights.origin == "configured" && projection.linkingWeights.weights == configured)
        try apply(ProjectionMatchingTests.resident("000000001", id: "R1"))
        try apply(Self.patron("LIB-9", id: "L1"))
        try apply(Self.estimateEvent(id: "O1"))
        var expected = Self.linkingWeights
        expected.prior = -14
        #expect(projection.linkingWeights.origin == "estimated+configured" && projection.linkingWeights.weights == expected)
        #expect(projection.weightsOverride.prior == -14 && !projection.weightsOverride.isConfigured(.address, .disagree))
        #expect(projection.decisions.estimate != nil)
        // Name, birth date and the estimate's free address disagreement against the configured
        // prior: 6.5 + 11 + 0 − 14 = 3.5, a score of 0.918, under auto_link.
        try apply(Self.patron("LIB-10", id: "L2"))
        #expect(projection.uid(source: "library", subject: "LIB-10") != "U0000000001")

        // A restart keeps the override over the estimate.
        let restored = try restored(weights: configured)
        #expect(restored.linkingWeights.weights == expected && restored.linkingWeights.origin == "estimated+configured")
    }

    // MARK: - An estimate written before the word-only name level existed

    static let smithResident =
        #"{"source":"resident","event_id":"RS","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"000000007","data":{"reason":"move_in","name":"John Smith","birth_date":"1985-06-12","sex":"male","address":"25 pike place, kingston","household_no":"H7","relationship":"世帯主"}}"#

    /// The resident's birth date and address, another given name: the word-only level.
    static func smithPatron(_ subject: String, id: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":{"name":"Peter Smith","birth_date":"1985-06-12","address":"25 pike place, kingston"}}"#
    }

    /// An event as written before the level existed: seven levels a field in `weights`, no
    /// `word_only` in `m` and `u` either. Under its weights (prior −10) the pair totals
    /// −10 − 6 (name disagrees) + 11 + 5 = 0, a score of 0.5: no link, no review.
    static var oldFormatData: JSONObject {
        var weights = MatchWeights.standard
        weights.prior = -10
        var data = estimateData(weights)
        for key in ["weights", "m", "u"] {
            guard var object = data[key]?.objectValue, var name = object["name"]?.objectValue else { continue }
            name["word_only"] = nil
            object["name"] = .object(name)
            data[key] = .object(object)
        }
        return data
    }

    @Test mutating func anOldFormatEstimateReplaysToTheSameDecisions() throws {
        #expect(Self.oldFormatData["weights"]?["name"]?["word_only"] == nil)
        try apply(Self.smithResident)
        try apply(Self.estimateEvent(id: "O1", Self.oldFormatData))
        #expect(projection.linkingWeights.weights.givesWordOnly == false)
        try apply(Self.smithPatron("LIB-1", id: "L1"))
        // Decided as when the event was written: the names disagree, a person of its own.
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000002")
        #expect(projection.openReviews.isEmpty)

        // A rebuild and a restart decide the same, byte for byte.
        let rebuilt = self.rebuilt
        expectSamePersons(rebuilt)
        #expect(rebuilt.openReviews == projection.openReviews && rebuilt.decisions == projection.decisions)
        var restored = try restored()
        #expect(restored.linkingWeights.weights == projection.linkingWeights.weights)
        restored.apply(try EventLog.event(Self.smithPatron("LIB-2", id: "L2"), lsn: nextLSN))
        try apply(Self.smithPatron("LIB-2", id: "L2"))
        #expect(restored.uid(source: "library", subject: "LIB-2") == projection.uid(source: "library", subject: "LIB-2"))
        #expect(restored.openReviews.isEmpty && projection.openReviews.isEmpty)

        // The same event in today's format, with a word-only weight, decides the pair otherwise:
        // the old format is what kept it apart.
        var current = Self.oldFormatData
        var weights = try #require(current["weights"]?.objectValue)
        var name = try #require(weights["name"]?.objectValue)
        name["word_only"] = .double(2.5)
        weights["name"] = .object(name)
        current["weights"] = .object(weights)
        var other = ProjectionEstimateTests()
        try other.apply(Self.smithResident)
        try other.apply(Self.estimateEvent(id: "O1", current))
        #expect(other.projection.linkingWeights.weights.givesWordOnly)
        try other.apply(Self.smithPatron("LIB-1", id: "L1"))
        let linked = other.projection.uid(source: "library", subject: "LIB-1") == "U0000000001"
        #expect(linked || !other.projection.openReviews.isEmpty)
    }

    // MARK: - An estimate written before the address's word-only level existed

    static let pikeResident =
        #"{"source":"resident","event_id":"RP","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"000000008","data":{"reason":"move_in","name":"John Smith","birth_date":"1985-06-12","sex":"male","address":"25 pike place, kingston 2600","household_no":"H8","relationship":"世帯主"}}"#

    /// The resident's name and birth date; of the address only the locality and the postcode agree
    /// (the house number and the street differ): partial then, word-only now.
    static func oakPatron(_ subject: String, id: String) -> String {
        #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"\#(subject)","data":{"name":"John Smith","birth_date":"1985-06-12","address":"18 oak avenue, kingston 2600"}}"#
    }

    /// An event as written before the address had the level: no `word_only` under `address` in
    /// `weights`, `m` or `u`. Under its weights (prior −16, address partial 4) the pair totals
    /// −16 + 6.5 + 11 + 4 = 5.5, a score of 0.978: a link.
    static var oldAddressFormatData: JSONObject {
        var weights = MatchWeights.standard
        weights.prior = -16
        weights.weights[MatchField.address.rawValue][AgreementLevel.partial.rawValue] = 4
        var data = estimateData(weights)
        for key in ["weights", "m", "u"] {
            guard var object = data[key]?.objectValue, var address = object["address"]?.objectValue else { continue }
            address["word_only"] = nil
            object["address"] = .object(address)
            data[key] = .object(object)
        }
        return data
    }

    @Test mutating func anEstimateWithoutTheAddressLevelReplaysToTheSameDecisions() throws {
        #expect(Self.oldAddressFormatData["weights"]?["address"]?["word_only"] == nil)
        try apply(Self.pikeResident)
        try apply(Self.estimateEvent(id: "O1", Self.oldAddressFormatData))
        #expect(projection.linkingWeights.weights.givesAddressWordOnly == false)
        #expect(projection.linkingWeights.weights.givesWordOnly)
        try apply(Self.oakPatron("LIB-1", id: "L1"))
        // Decided as when the event was written: the address partial, a link.
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        #expect(projection.openReviews.isEmpty)

        // A rebuild and a restart decide the same, byte for byte.
        let rebuilt = self.rebuilt
        expectSamePersons(rebuilt)
        #expect(rebuilt.openReviews == projection.openReviews && rebuilt.decisions == projection.decisions)
        var restored = try restored()
        #expect(restored.linkingWeights.weights == projection.linkingWeights.weights)
        #expect(restored.linkingWeights.weights.givesAddressWordOnly == false)
        restored.apply(try EventLog.event(Self.oakPatron("LIB-2", id: "L2"), lsn: nextLSN))
        try apply(Self.oakPatron("LIB-2", id: "L2"))
        #expect(restored.uid(source: "library", subject: "LIB-2") == projection.uid(source: "library", subject: "LIB-2"))
        #expect(projection.uid(source: "library", subject: "LIB-2") == "U0000000001")

        // The same event in today's format, with the address's word-only weight, decides the pair
        // otherwise (−16 + 6.5 + 11 − 1 = 0.5: a person of its own): the old format is what linked it.
        var current = Self.oldAddressFormatData
        var weights = try #require(current["weights"]?.objectValue)
        var address = try #require(weights["address"]?.objectValue)
        address["word_only"] = .double(-1)
        weights["address"] = .object(address)
        current["weights"] = .object(weights)
        var other = ProjectionEstimateTests()
        try other.apply(Self.pikeResident)
        try other.apply(Self.estimateEvent(id: "O1", current))
        #expect(other.projection.linkingWeights.weights.givesAddressWordOnly)
        try other.apply(Self.oakPatron("LIB-1", id: "L1"))
        #expect(other.projection.uid(source: "library", subject: "LIB-1") == "U0000000002")
        #expect(other.projection.openReviews.isEmpty)
    }
}
