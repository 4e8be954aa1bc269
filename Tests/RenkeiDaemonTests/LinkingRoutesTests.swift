import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// `POST /v1/linking/estimate` and `GET /v1/linking/report` through the status socket (issue 14).
@Suite("Linking estimate and report routes", .serialized)
struct LinkingRoutesTests {
    @Test(.timeLimit(.minutes(2)))
    func estimateIsLoggedAppliedAndReported() async throws {
        let fixture = try await ReviewFixture()
        defer { Task { await fixture.stop() } }
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.resident("000000002", id: "R2", name: "佐藤 花子", birth: "1990-02-03"),
            ReviewEvents.fullPatron("LIB-1", id: "L1"), ReviewEvents.weakPatron("LIB-9", id: "L9"),
        ]) == 4)

        // Before any estimate: the defaults, no m/u.
        let before = try await fixture.request("GET", "/v1/linking/report")
        #expect(before.status == 200)
        #expect(before.json["weights_from"] == "default" && before.json["estimate_lsn"]?.isNull == true)
        #expect(before.json["fields"]?["address"]?["fuzzy"]?["weight"]?.doubleLike == 4)

        // Refusals write nothing.
        #expect(try await fixture.request("POST", "/v1/linking/estimate", json: #"{"seed":-1}"#).status == 400)
        #expect(try await fixture.request("POST", "/v1/linking/estimate", json: #"{"rounds":3}"#).status == 400)

        let started = try await fixture.request("POST", "/v1/linking/estimate", json: #"{"seed":7}"#)
        #expect(started.status == 202 && started.json["estimate"] == "started")
        #expect(await fixture.wait {
            try await fixture.request("GET", "/v1/linking/report").json["estimate_lsn"]?.integerValue != nil
        })
        let report = try await fixture.request("GET", "/v1/linking/report").json
        #expect(report["weights_from"] == "estimated")
        let lsn = try #require(report["estimate_lsn"]?.integerValue)
        let logged = try #require(try fixture.logged(lsn)).event
        #expect(logged.source == "operator" && logged.type == "operator.linking_estimated")
        #expect(logged.data["records"]?.integerValue == 4)  // every source record: 2 residents, 2 patrons
        #expect(logged.data["seed"]?.integerValue == 7)
        // The report shows the logged parameters: m, u and the weight per field and level.
        let exact = try #require(report["fields"]?["birth_date"]?["exact"])
        #expect(exact["m"]?.doubleLike == logged.data["m"]?["birth_date"]?["exact"]?.doubleLike)
        #expect(exact["u"]?.doubleLike == logged.data["u"]?["birth_date"]?["exact"]?.doubleLike)
        #expect(exact["weight"]?.doubleLike == logged.data["weights"]?["birth_date"]?["exact"]?.doubleLike)
        let expected = try #require(report["expected"]?.objectValue)
        #expect(expected["precision"]?.doubleLike != nil && expected["recall"]?.doubleLike != nil)
        #expect(expected["histogram"]?.arrayValue?.count == 10)
        #expect(report["thresholds"]?["auto_link"]?.doubleLike == 0.92)
        // No my_number, address or birth date in the report.
        let text = JSONValue.object(report.objectValue ?? [:]).serializedString
        #expect(!text.contains("九段") && !text.contains("1985"))
    }

    @Test(.timeLimit(.minutes(2)))
    func configuredWeightsAreReportedAsTheOverride() async throws {
        let fixture = try await ReviewFixture(linking: ["weights": ["prior": -12]])
        defer { Task { await fixture.stop() } }
        let report = try await fixture.request("GET", "/v1/linking/report").json
        #expect(report["weights_from"] == "configured" && report["prior"]?.doubleLike == -12)
    }
}
