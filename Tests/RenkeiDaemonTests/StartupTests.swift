import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Synchronization
import Testing

/// A restart serves at once: the stored views load in the background, events are logged meanwhile,
/// and reads of the views wait (or answer 503) until the views have caught up with them.
@Suite struct StartupTests {
    static func lines(_ range: Range<Int>) -> [String] {
        range.flatMap { index in
            [
                IngestEvents.registered("R-\(index)", subject: String(format: "%09d", index)),
                #"{"source":"resident","event_id":"M-\#(index)","type":"resident.moved","occurred_at":"2026-04-02T09:00:00+09:00","subject":"\#(String(format: "%09d", index))","data":{"address":"東京都千代田区\#(index)丁目"}}"#,
            ]
        }
    }

    static func replay(_ service: RenkeiService, _ lines: [String]) async throws {
        let reply = await service.replay(body: Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(reply.status == 200)
        let json = try JSONParser.parse(reply.body)
        #expect(json["accepted"]?.integerValue == Int64(lines.count), "\(String(decoding: reply.body, as: UTF8.self))")
    }

    /// Every stored person view, by uid.
    static func views(_ service: RenkeiService) throws -> [String: [UInt8]] {
        let db = try service.reader()
        var result: [String: [UInt8]] = [:]
        for (uid, view) in try db.prepare("SELECT uid, view FROM persons").rows([], { ($0.string(0) ?? "", $0.blob(1) ?? []) }) {
            result[uid] = view
        }
        return result
    }

    static func waitLive(_ fixture: IngestFixture) async -> Bool {
        await fixture.wait(.seconds(60)) {
            let status = try fixture.status()
            return status["projection_state"]?.stringValue == "ready" && status["projection_lsn"] == status["head_lsn"]
        }
    }

    @Test func restartLoadsInTheBackgroundAndAppliesWhatArrivesMeanwhile() async throws {
        let first = try await IngestFixture(push: false)
        #expect(first.service.projection.isLive, "a fresh state is live at once")
        try await Self.replay(first.service, Self.lines(0..<40))
        await first.stop(removing: false)

        let second = try await IngestFixture(root: first.root, push: false, start: false)
        // Before start(): nothing is read yet beyond the checkpoint.
        #expect(second.service.projection.readiness == .loading(checkpoint: 80))
        #expect(try second.status()["projection_lsn"]?.integerValue == 80)
        #expect(try second.status()["projection_state"]?.stringValue == "loading")
        // Logged while loading (the loader has not even started): acknowledged as always.
        try await Self.replay(second.service, Self.lines(40..<50))
        // The stored views are behind the log now: reads wait, then answer 503 with Retry-After.
        let notYet = try await second.service.waitForCurrentViews()
        #expect(notYet?.status == 503)
        #expect(notYet?.headers["Retry-After"] == "5")
        let refused = await second.service.startRebuild()
        #expect(refused.status == 503 && refused.headers["Retry-After"] != nil)

        try second.service.start()
        #expect(await Self.waitLive(second))
        #expect(try await second.service.waitForCurrentViews() == nil)
        let views = try Self.views(second.service)
        #expect(views.count == 50)
        let last = try #require(views.values.first { String(decoding: $0, as: UTF8.self).contains("\"000000049\"") })
        #expect(String(decoding: last, as: UTF8.self).contains("東京都千代田区49丁目"))
        // Live again: each replay is in the views when it is answered.
        try await Self.replay(second.service, Self.lines(50..<51))
        #expect(try Self.views(second.service).count == 51)
        #expect(await second.service.startRebuild().status == 202)
        #expect(await Self.waitLive(second))
        await second.stop()
    }

    @Test func emptiedViewsAreBuiltAgainFromTheLogAfterReady() async throws {
        let first = try await IngestFixture(push: false)
        try await Self.replay(first.service, Self.lines(0..<30))
        let before = try Self.views(first.service)
        await first.stop(removing: false)
        let db = try Database(path: first.root.appendingPathComponent("state/renkei.db").path)
        try db.execute("DELETE FROM persons; DELETE FROM person_links; DELETE FROM households; DELETE FROM projection_meta;")

        let second = try await IngestFixture(root: first.root, push: false, start: false)
        #expect(second.service.projection.readiness == .loading(checkpoint: 0))
        try second.service.start()
        #expect(await Self.waitLive(second))
        #expect(try Self.views(second.service) == before)
        await second.stop()
    }
}
