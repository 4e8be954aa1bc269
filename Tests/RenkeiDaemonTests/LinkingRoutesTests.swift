import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Synchronization
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
        #expect(report["prior_from"] == "configured" && report["fields"]?["name"]?["exact"]?["from"] == "default")
    }

    /// A partial `linking.weights` over an estimate: the report shows which values are configured
    /// and which estimated, and the configured ones are in force.
    @Test(.timeLimit(.minutes(2)))
    func aPartialOverrideIsReportedOverTheEstimate() async throws {
        let fixture = try await ReviewFixture(linking: ["weights": ["prior": -12, "address": ["disagree": -2]]])
        defer { Task { await fixture.stop() } }
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.fullPatron("LIB-1", id: "L1"),
        ]) == 2)
        #expect(try await fixture.request("POST", "/v1/linking/estimate", json: #"{"seed":7}"#).status == 202)
        #expect(await fixture.wait {
            try await fixture.request("GET", "/v1/linking/report").json["estimate_lsn"]?.integerValue != nil
        })
        let report = try await fixture.request("GET", "/v1/linking/report").json
        #expect(report["weights_from"] == "estimated+configured")
        #expect(report["prior"]?.doubleLike == -12 && report["prior_from"] == "configured")
        let address = try #require(report["fields"]?["address"])
        #expect(address["disagree"]?["weight"]?.doubleLike == -2 && address["disagree"]?["from"] == "configured")
        #expect(address["exact"]?["from"] == "estimated" && address["exact"]?["m"]?.doubleLike != nil)
        let logged = try #require(try fixture.logged(report["estimate_lsn"]?.integerValue)).event
        let exact = try #require(logged.data["weights"]?["address"]?["exact"]?.doubleLike)
        #expect(address["exact"]?["weight"]?.doubleLike == Swift.max(exact, -2))
    }

    /// `linking.estimate_at_records`: the daemon estimates on its own when the records from
    /// sources other than the registry reach each size, once per size, with the trigger in the
    /// event; a rebuild derives the sizes done from the log.
    @Test(.timeLimit(.minutes(2)))
    func theDaemonEstimatesOnItsOwnOncePerSize() async throws {
        let fixture = try await ReviewFixture(linking: ["estimate_at_records": [2, 3]])
        defer { Task { await fixture.stop() } }
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.resident("000000002", id: "R2", name: "佐藤 花子", birth: "1990-02-03"),
            ReviewEvents.fullPatron("LIB-1", id: "L1"), ReviewEvents.weakPatron("LIB-9", id: "L9"),
        ]) == 4)
        @Sendable func estimate() async throws -> (lsn: Int64, event: Event)? {
            guard let lsn = try await fixture.request("GET", "/v1/linking/report").json["estimate_lsn"]?.integerValue,
                let logged = try fixture.logged(lsn)
            else { return nil }
            return (lsn, logged.event)
        }
        #expect(await fixture.wait { try await estimate() != nil })
        let first = try #require(try await estimate())
        #expect(first.event.source == "operator" && first.event.type == "operator.linking_estimated")
        #expect(first.event.eventID == "OP-renkeid-estimate-at-records-2")
        #expect(first.event.data["trigger"] == ["by": "renkeid", "estimate_at_records": 2, "records": 2])
        #expect(first.event.data["records"]?.integerValue == 4)

        // The third patron reaches the next size: one more estimate, at 3.
        #expect(try await fixture.ingest([ReviewEvents.weakPatron("LIB-10", id: "L10", address: "京都府京都市1-1")]) == 1)
        #expect(await fixture.wait { try await estimate().map { $0.lsn > first.lsn } ?? false })
        let second = try #require(try await estimate())
        #expect(second.event.data["trigger"]?["estimate_at_records"]?.integerValue == 3)
        #expect(fixture.service.projection.projection.withLock { $0.decisions.estimatedAtRecords } == 3)

        // A rebuild finds both sizes done in the log: nothing is due at any count up to 3.
        #expect(try await fixture.rebuild())
        let done = fixture.service.projection.projection.withLock { $0.decisions.estimatedAtRecords }
        #expect(done == 3)
        #expect(AutoEstimate.due(sizes: [2, 3], records: 3, done: done) == nil)
        // Exactly one event per size in the log.
        let events = try EventLog.read(in: fixture.service.reader(), after: 0, limit: 100).map(\.event)
        #expect(events.filter { $0.type == "operator.linking_estimated" }.map(\.eventID) == [
            "OP-renkeid-estimate-at-records-2", "OP-renkeid-estimate-at-records-3",
        ])
    }

    /// A restart reads the sizes done from the stored decisions: the next size is estimated at
    /// once, the one done before never again.
    @Test(.timeLimit(.minutes(2)))
    func aRestartRemembersTheSizesDone() async throws {
        let first = try await ReviewFixture(linking: ["estimate_at_records": [2]])
        #expect(try await first.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.fullPatron("LIB-1", id: "L1"),
            ReviewEvents.weakPatron("LIB-9", id: "L9"),
        ]) == 3)
        #expect(await first.wait {
            try await first.request("GET", "/v1/linking/report").json["estimate_lsn"]?.integerValue != nil
        })
        await first.stop(removing: false)

        let second = try await ReviewFixture(linking: ["estimate_at_records": [2, 3]], root: first.root)
        defer { Task { await second.stop() } }
        #expect(await second.wait { second.service.projection.isLive })
        #expect(second.service.projection.projection.withLock { $0.decisions.estimatedAtRecords } == 2)
        #expect(try await second.ingest([ReviewEvents.weakPatron("LIB-10", id: "L10", address: "京都府京都市1-1")]) == 1)
        @Sendable func estimates() throws -> [String] {
            try EventLog.read(in: second.service.reader(), after: 0, limit: 100).map(\.event)
                .filter { $0.type == "operator.linking_estimated" }.map(\.eventID)
        }
        #expect(await second.wait { try estimates().count == 2 })
        #expect(try estimates() == ["OP-renkeid-estimate-at-records-2", "OP-renkeid-estimate-at-records-3"])
    }

    @Test func dueSizes() {
        #expect(AutoEstimate.due(sizes: [1000, 10000], records: 999, done: 0) == nil)
        #expect(AutoEstimate.due(sizes: [1000, 10000], records: 1000, done: 0) == 1000)
        // Sizes passed while the daemon was down give one estimate, at the largest.
        #expect(AutoEstimate.due(sizes: [1000, 10000], records: 20000, done: 0) == 10000)
        #expect(AutoEstimate.due(sizes: [1000, 10000], records: 20000, done: 10000) == nil)
        #expect(AutoEstimate.due(sizes: [1000, 10000], records: 20000, done: 1000, asked: 10000) == nil)
        #expect(AutoEstimate.due(sizes: [], records: 20000, done: 0) == nil)
    }
}
