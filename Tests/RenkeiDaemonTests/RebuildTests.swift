import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Synchronization
import Testing

/// `POST /v1/rebuild` drops the views in memory before it builds new ones: afterwards (and after a
/// rebuild that fails) the views in memory are whole again, so later events apply to the right persons.
@Suite struct RebuildTests {
    /// A temporary trigger on the writer's connection that makes the rebuild's transaction fail.
    static let refuseDeletes =
        "CREATE TEMP TRIGGER refuse_deletes BEFORE DELETE ON persons BEGIN SELECT RAISE(ABORT, 'test: no deletes'); END"

    /// Starts a rebuild as `POST /v1/rebuild` does, and waits until it has ended (well or not).
    static func rebuild(_ fixture: IngestFixture) async -> Bool {
        guard await fixture.service.startRebuild().status == 202 else { return false }
        return await fixture.wait { try fixture.status()["rebuild"]?.isNull == true }
    }

    /// Waits until a log line holds every one of `parts`.
    static func logged(_ fixture: IngestFixture, _ parts: String...) async -> Bool {
        await fixture.wait { fixture.logLines.contains { line in parts.allSatisfy { line.contains($0) } } }
    }

    /// The uid the resident record `index` is linked to, from the stored views.
    static func uid(_ fixture: IngestFixture, _ index: Int) throws -> String? {
        let subject = String(format: "%09d", index)
        return try ProjectionStore.uid(source: "resident", subject: subject, in: fixture.service.reader())
    }

    /// Persons and lsn of the views in memory.
    static func inMemory(_ fixture: IngestFixture) -> (persons: Int, lsn: Int64) {
        fixture.service.projection.projection.withLock { ($0.personCount, $0.lsn) }
    }

    /// A daemon with 40 residents replayed (lsn 80) and their stored views, after `sql` ran on the
    /// writer's connection to make the next rebuild fail.
    static func fixture(breakingTheRebuildWith sql: String) async throws -> (IngestFixture, [String: [UInt8]]) {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, StartupTests.lines(0..<40))
        let before = try StartupTests.views(fixture.service)
        try await fixture.service.writer.perform { db in try db.execute(sql) }
        return (fixture, before)
    }

    /// Runs a rebuild that must fail with `reason` in its log line, and checks that the views of the
    /// 40 residents replayed (lsn 80) stay in place, stored and in memory, and live.
    static func expectFailedRebuild(_ fixture: IngestFixture, logging reason: String, leaving before: [String: [UInt8]]) async throws {
        #expect(await rebuild(fixture))
        // Logged by startRebuild's task once the writer is done: just after the status shows the end.
        #expect(await logged(fixture, "rebuild failed", reason))
        #expect(fixture.service.projection.isLive)
        #expect(try StartupTests.views(fixture.service) == before)
        #expect(inMemory(fixture) == (40, 80))
        #expect(try fixture.status()["projection_lsn"]?.integerValue == 80)
    }

    /// Resident `index` moves to `address`.
    static func moved(_ index: Int, id: String, to address: String) -> String {
        #"{"source":"resident","event_id":"\#(id)","type":"resident.moved","occurred_at":"2026-05-01T09:00:00+09:00","subject":"\#(String(format: "%09d", index))","data":{"address":"\#(address)"}}"#
    }

    /// Applies a move of a known resident and a new registration, and checks that the move changed
    /// that resident's view (same uid) and the registration added one person.
    static func expectLaterEventsApply(_ fixture: IngestFixture, persons: Int, tag: String) async throws {
        let uid = try #require(try uid(fixture, 5))
        try await StartupTests.replay(
            fixture.service,
            [
                moved(5, id: "M-\(tag)", to: "東京都千代田区\(tag)"),
                IngestEvents.registered("R-\(tag)", subject: "9\(tag)"),
            ])
        let views = try StartupTests.views(fixture.service)
        #expect(views.count == persons + 1)
        #expect(try Self.uid(fixture, 5) == uid)
        #expect(String(decoding: views[uid] ?? [], as: UTF8.self).contains("東京都千代田区\(tag)"))
        #expect(inMemory(fixture).persons == persons + 1)
    }

    @Test func afterARebuildLaterEventsApplyToTheRebuiltViews() async throws {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, StartupTests.lines(0..<40))
        let before = try StartupTests.views(fixture.service)

        #expect(await Self.rebuild(fixture))
        #expect(try StartupTests.views(fixture.service) == before)
        #expect(Self.inMemory(fixture) == (40, 80))
        #expect(try fixture.status()["projection_lsn"]?.integerValue == 80)

        try await Self.expectLaterEventsApply(fixture, persons: 40, tag: "41")
        let after = try StartupTests.views(fixture.service)
        // The views in memory agree with what a second rebuild finds.
        #expect(await Self.rebuild(fixture))
        #expect(try StartupTests.views(fixture.service) == after)
        #expect(Self.inMemory(fixture) == (41, 82))
        await fixture.stop()
    }

    @Test func aRebuildThatCannotWriteLeavesTheViewsInPlaceAndLive() async throws {
        let (fixture, before) = try await Self.fixture(breakingTheRebuildWith: Self.refuseDeletes)

        try await Self.expectFailedRebuild(fixture, logging: "test: no deletes", leaving: before)

        try await Self.expectLaterEventsApply(fixture, persons: 40, tag: "42")
        try await fixture.service.writer.perform { db in try db.execute("DROP TRIGGER temp.refuse_deletes") }
        let after = try StartupTests.views(fixture.service)
        #expect(await Self.rebuild(fixture))
        #expect(try StartupTests.views(fixture.service) == after)
        await fixture.stop()
    }

    @Test func viewsThatCannotBeLoadedAfterAFailedRebuildWaitForARestart() async throws {
        let first = try await IngestFixture(push: false)
        try await StartupTests.replay(first.service, StartupTests.lines(0..<40))
        let before = try StartupTests.views(first.service)
        // The rebuild's transaction fails, and so does loading the stored views after it.
        try await first.service.writer.perform { db in
            try db.execute(Self.refuseDeletes)
            try db.execute("INSERT INTO persons(uid, record, view) VALUES ('P-garbage', x'00', x'7b7d')")
        }

        #expect(await Self.rebuild(first))
        #expect(first.logLines.contains { $0.contains("could not be loaded again") })
        #expect(first.service.projection.readiness == .loading(checkpoint: 80))
        #expect(try first.status()["projection_lsn"]?.integerValue == 80)
        #expect(await first.service.startRebuild().status == 503)
        // Logged, not applied: nothing was taken for a new person.
        try await StartupTests.replay(first.service, [Self.moved(5, id: "M-43", to: "東京都千代田区43")])
        #expect(Self.inMemory(first).persons == 0)
        await first.stop(removing: false)

        // A start cannot load the stored views either, so it rebuilds them from the log.
        let second = try await IngestFixture(root: first.root, push: false)
        #expect(await StartupTests.waitLive(second))
        let views = try StartupTests.views(second.service)
        let moved = try #require(try Self.uid(second, 5))
        #expect(views.count == 40)
        #expect(String(decoding: views[moved] ?? [], as: UTF8.self).contains("東京都千代田区43"))
        for (uid, view) in before where uid != moved { #expect(views[uid] == view, "\(uid)") }
        await second.stop()
    }
}

extension RebuildTests {
    @Test func aRebuildThatCannotReadTheLogLeavesTheViewsInPlace() async throws {
        // An event the rebuild's reader thread cannot parse (inserted behind the writer's back).
        let (fixture, before) = try await Self.fixture(breakingTheRebuildWith: LogChunkReaderTests.damagedEvent81)

        try await Self.expectFailedRebuild(fixture, logging: "lsn 81", leaving: before)
        await fixture.stop()
    }
}

extension RebuildTests {
    /// `POST /v1/rebuild` answers `202` while the rebuild runs: its access-log entry is written before
    /// the rebuild takes the writer thread. Written after it, as every other answer's is, the entry —
    /// and so the answer — waited for the whole rebuild, and `renkeictl rebuild` timed out on a large city.
    @Test func theRebuildAnswerDoesNotWaitForTheRebuild() async throws {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, StartupTests.lines(0..<300))
        let routes = StatusRoutes(service: fixture.service)

        let answer = await routes.handle(HTTPRequest(method: "POST", target: "/v1/rebuild"))
        #expect(answer.status == 202)
        // Had the answer waited for the rebuild, the rebuild would be over by now (600 events take far
        // longer to rebuild than this check).
        #expect(try fixture.status()["rebuild"]?.isNull == false)
        #expect(await fixture.wait { try fixture.status()["rebuild"]?.isNull == true })

        // Recorded once, with the answer's status.
        let entries = try AccessLog.entries(in: fixture.service.reader(), limit: 100)
        let rebuilds = entries.filter { $0["method"]?.stringValue == "POST" && $0["target"]?.stringValue == "/v1/rebuild" }
        #expect(rebuilds.count == 1)
        #expect(rebuilds.first?["status"]?.integerValue == 202)
        #expect(rebuilds.first?["operator_action"]?.stringValue == "change")

        // A second request while one runs is refused, and that answer is recorded by the routes as usual.
        #expect(await routes.handle(HTTPRequest(method: "POST", target: "/v1/rebuild")).status == 202)
        #expect(await routes.handle(HTTPRequest(method: "POST", target: "/v1/rebuild")).status == 409)
        #expect(await fixture.wait { try fixture.status()["rebuild"]?.isNull == true })
        let statuses = try AccessLog.entries(in: fixture.service.reader(), limit: 100)
            .filter { $0["target"]?.stringValue == "/v1/rebuild" }.compactMap { $0["status"]?.integerValue }
        #expect(statuses.sorted() == [202, 202, 409])
        await fixture.stop()
    }
}
