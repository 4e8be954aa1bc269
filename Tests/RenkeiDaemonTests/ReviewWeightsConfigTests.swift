import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// `linking.weights` (issue 3): overrides of the match weights, checked strictly, with errors
/// naming the config path.
@Suite struct ReviewWeightsConfigTests {
    static func configuration(linking: JSONValue) throws(RenkeiError) -> Configuration {
        try Configuration(
            json: ["municipality": "131016", "sources": ["library": [:]], "linking": linking], file: "renkei.json")
    }

    /// The message of the error a `linking` object gives, or `nil` when it is accepted.
    static func refusal(_ linking: JSONValue) -> String? {
        do {
            _ = try configuration(linking: linking)
            return nil
        } catch {
            #expect(error.code == .invalidConfiguration)
            return error.message
        }
    }

    @Test func absentWeightsAreTheStandardOnes() throws {
        let configuration = try Self.configuration(linking: ["auto_link": .double(0.9)])
        #expect(configuration.matchWeights == .standard)
        #expect(configuration.linkingThresholds == LinkingThresholds(autoLink: 0.9))
    }

    @Test func givenWeightsOverrideOnlyWhatTheyName() throws {
        let linking = #"{"weights": {"address": {"disagree": -3, "partial": 0.5}, "birth_date": {"partial": 2.0}, "prior": -14.5, "same_household": 6}}"#
        let configured = try Self.configuration(linking: try JSONParser.parse(Array(linking.utf8))).matchWeights
        var expected = MatchWeights.standard
        expected.weights[MatchField.address.rawValue][AgreementLevel.disagree.rawValue] = -3
        expected.weights[MatchField.address.rawValue][AgreementLevel.partial.rawValue] = 0.5
        // The address's word_only left out is kept at most the configured partial.
        expected.weights[MatchField.address.rawValue][AgreementLevel.wordOnly.rawValue] = 0.5
        expected.weights[MatchField.birthDate.rawValue][AgreementLevel.partial.rawValue] = 2
        expected.prior = -14.5
        expected.sameHousehold = 6
        #expect(configured == expected)
    }

    /// `linking.estimate_at_records`: the defaults, a list of its own, or `[]` (off).
    /// `word_only` (names only): configured as any level, or, left out, kept between the
    /// configured `partial` and `disagree`.
    @Test func theWordOnlyLevelIsConfiguredOrKeptInOrder() throws {
        let configured = try Self.configuration(linking: try JSONParser.parse(Array(#"{"weights": {"name": {"word_only": 1}}}"#.utf8)))
        #expect(configured.matchWeights.weight(.name, .wordOnly) == 1 && configured.matchWeights.givesWordOnly)
        let lowered = try Self.configuration(linking: try JSONParser.parse(Array(#"{"weights": {"name": {"partial": -4}}}"#.utf8)))
        #expect(lowered.matchWeights.weight(.name, .wordOnly) == -4)
        // The address's likewise (default: as partial, 1.0); the other fields' column follows their
        // disagree weight.
        let address = try Self.configuration(linking: try JSONParser.parse(Array(#"{"weights": {"address": {"word_only": 0}}}"#.utf8)))
        #expect(address.matchWeights.weight(.address, .wordOnly) == 0 && address.matchWeights.givesAddressWordOnly)
        let keptAddress = try Self.configuration(linking: try JSONParser.parse(Array(#"{"weights": {"address": {"disagree": -3}}}"#.utf8)))
        #expect(keptAddress.matchWeights.weight(.address, .wordOnly) == 1)
        let loweredAddress = try Self.configuration(linking: try JSONParser.parse(Array(#"{"weights": {"address": {"partial": -0.5}}}"#.utf8)))
        #expect(loweredAddress.matchWeights.weight(.address, .wordOnly) == -0.5)
        let kana = try Self.configuration(linking: try JSONParser.parse(Array(#"{"weights": {"name_kana": {"disagree": -3}}}"#.utf8)))
        #expect(kana.matchWeights.weight(.nameKana, .wordOnly) == -3)
    }

    @Test func estimateSizes() throws {
        #expect(try Self.configuration(linking: [:]).linkingEstimateAtRecords == [1_000, 10_000, 100_000])
        #expect(try Self.configuration(linking: ["estimate_at_records": [500, 5000]]).linkingEstimateAtRecords == [500, 5000])
        #expect(try Self.configuration(linking: ["estimate_at_records": []]).linkingEstimateAtRecords == [])
    }

    @Test(arguments: [
        (#"{"weights": {"nme": {"exact": 1}}}"#, "renkei.json: linking.weights.nme: unknown key"),
        (#"{"weights": {"name": {"exakt": 1}}}"#, "renkei.json: linking.weights.name.exakt: unknown key"),
        (#"{"weights": {"sex": {"exact": "high"}}}"#, "renkei.json: linking.weights.sex.exact: must be a number"),
        (#"{"weights": {"sex": {"exact": 100}}}"#, "renkei.json: linking.weights.sex.exact: must be a log2 weight from -60 to 60"),
        (#"{"weights": {"name": 6.5}}"#, "renkei.json: linking.weights.name: must be an object"),
        (#"{"weights": [1, 2]}"#, "renkei.json: linking.weights: must be an object"),
        (#"{"weights": {"address": {"disagree": 6}}}"#, "renkei.json: linking.weights.address: disagree (6.0) weighs more than word_only (1.0)"),
        (#"{"weights": {"name": {"word_only": 3}}}"#, "renkei.json: linking.weights.name: word_only (3.0) weighs more than partial (2.5)"),
        (#"{"weights": {"address": {"word_only": 2}}}"#, "renkei.json: linking.weights.address: word_only (2.0) weighs more than partial (1.0)"),
        (#"{"weights": {"sex": {"word_only": 0}}}"#, "renkei.json: linking.weights.sex.word_only: unknown key"),
        (#"{"weights": {"name_kana": {"fuzzy": 7}}}"#, "renkei.json: linking.weights.name_kana: fuzzy (7.0) weighs more than variant (6.0)"),
        (#"{"weights": {"birth_date": {"missing": -20}}}"#, "renkei.json: linking.weights.birth_date: missing (-20.0) must lie between disagree and exact"),
        (#"{"weights": {"prior": 2}}"#, "renkei.json: linking.weights.prior: must be below 0"),
        (#"{"weights": {"same_household": -1}}"#, "renkei.json: linking.weights.same_household: must be 0 or more"),
        (#"{"wieghts": {}}"#, "renkei.json: linking.wieghts: unknown key"),
        (#"{"review": 0.95}"#, "renkei.json: linking: need 0 < review ≤ auto_link ≤ 1"),
        (#"{"estimate_at_records": 1000}"#, "renkei.json: linking.estimate_at_records: must be an array of record counts"),
        (#"{"estimate_at_records": [1000, "many"]}"#, "renkei.json: linking.estimate_at_records[1]: must be a whole number"),
        (#"{"estimate_at_records": [1]}"#, "renkei.json: linking.estimate_at_records[0]: must be a whole number of records from 2"),
        (#"{"estimate_at_records": [10000, 1000]}"#, "renkei.json: linking.estimate_at_records[1]: 1000 does not exceed 10000"),
    ])
    func badWeightsAreRefusedNamingThePath(linking: String, message: String) throws {
        let value = try JSONParser.parse(Array(linking.utf8))
        let refusal = try #require(Self.refusal(value), "accepted: \(linking)")
        #expect(refusal.hasPrefix(message), "\(refusal)")
    }
}
