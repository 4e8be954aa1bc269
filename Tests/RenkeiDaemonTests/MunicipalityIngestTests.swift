import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// The configured `municipality` (issue 16): filled into events that carry none, kept where one is
/// given; an event logged before the fill existed stays a duplicate when sent again.
@Suite("Ingest: municipality")
struct MunicipalityIngestTests {
    static func patron(_ id: String, municipality: String? = nil) -> String {
        let code = municipality.map { #","municipality":"\#($0)""# } ?? ""
        return #"{"source":"library","event_id":"\#(id)","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"L-\#(id)"\#(code),"data":{"name":"高橋 一郎","birth_date":"1985-06-12","address":"千代田区九段南1-2-1"}}"#
    }

    func ingest(_ ingestor: Ingestor, _ lines: [String]) async throws -> IngestReport {
        try await ingestor.ingest(
            Ingestor.splitLines(Array(lines.joined(separator: "\n").utf8)), expectedSource: "library",
            provenance: Provenance(via: .push, peer: "127.0.0.1"))
    }

    @Test(.timeLimit(.minutes(2)))
    func missingMunicipalityIsFilledAndOldEventsStayDuplicates() async throws {
        let daemon = try await IngestFixture(push: false)
        defer { Task { await daemon.stop() } }
        let current = daemon.service.ingestor
        // An ingestor as before issue 16: logs the event as sent, without a municipality.
        let before = Ingestor(
            validator: current.validator, writer: current.writer, statistics: current.statistics,
            configuredSources: current.configuredSources, vault: current.vault, logger: current.logger)
        #expect(try await ingest(before, [Self.patron("1")]).accepted == 1)

        let report = try await ingest(current, [Self.patron("1"), Self.patron("2"), Self.patron("3", municipality: "272108")])
        #expect(report.accepted == 2 && report.duplicates == 1 && report.rejected.isEmpty)
        let logged = try await daemon.loggedEvents().map(\.event)
        #expect(logged.map(\.municipality) == [nil, "131016", "272108"])
        #expect(logged[1].envelope["municipality"] == "131016")
        // Sent again after the fill: duplicates, not conflicts.
        let again = try await ingest(current, [Self.patron("2"), Self.patron("3", municipality: "272108")])
        #expect(again.duplicates == 2 && again.rejected.isEmpty)
        // The same id with other content is still a conflict.
        let changed = Self.patron("2").replacingOccurrences(of: "九段南1-2-1", with: "一番町5")
        #expect(try await ingest(current, [changed]).rejected.count == 1)
    }
}
