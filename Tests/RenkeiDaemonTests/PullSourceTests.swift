import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Synchronization
import Testing

/// HTTP pull (contract §6) against a loopback feed (127.0.0.1 only) that fails halfway: after a
/// restart every event is in the log exactly once, and `/v1/status` shows last success, lag and error.
@Suite("Ingest: HTTP pull")
struct PullSourceTests {
    /// A cursor feed of `total` tax events, 10 a page; fails with 500 past the first page while `failing`,
    /// and re-sends the first page once after healing (an at-least-once feed).
    final class Feed: Sendable {
        struct State {
            var failing = true
            var resendOnce = false
            var requests: [String] = []
        }
        final class Box: Sendable {
            let mutex = Mutex(State())
            func withLock<T: Sendable>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
        }
        let state: Box
        let total = 30
        let server: HTTPServer

        init() throws {
            let state = Box()
            self.state = state
            let total = 30
            server = HTTPServer(
                address: .tcp(host: "127.0.0.1", port: 0), logger: Logger(label: "feed", minimumLevel: .error, sink: LogSink { _ in }),
                handlerExecutor: DispatchTaskExecutor(label: "pull-feed"),
                handler: { request in
                    let after = request.query["after"] ?? ""
                    var start = Int(after) ?? 0
                    let (failing, resend) = state.withLock { state -> (Bool, Bool) in
                        state.requests.append(after)
                        defer { state.resendOnce = false }
                        return (state.failing, state.resendOnce)
                    }
                    if failing && start >= 10 { return .error(500, "feed down") }
                    if resend { start = 0 }
                    let end = min(start + 10, total)
                    let events: [JSONValue] = (start..<end).map { index in
                        [
                            "source": "tax", "event_id": .string("TX-\(index)"), "type": "tax.assessed",
                            "occurred_at": "2026-06-01T09:00:00+09:00", "subject": .string("N\(index)"),
                            "data": ["fiscal_year": 2026, "taxable": true, "income_levy": 1000, "per_capita_levy": 5000,
                                     "atena_no": .string(String(100 + index))],
                        ]
                    }
                    return .json(200, ["events": .array(events), "next_cursor": .string(String(end))])
                })
            try server.start()
        }

        var url: String { "http://127.0.0.1:\(server.boundPort ?? 0)/changes" }
    }

    @Test(.timeLimit(.minutes(3)))
    func aFeedThatFailsHalfwayEndsWithEveryEventOnce() async throws {
        let feed = try Feed()
        defer { Task { await feed.server.stop(deadline: .seconds(1)) } }
        let settings: [String: JSONObject] = ["tax": ["pull": ["url": .string(feed.url), "interval_s": .double(0.1)]]]
        let first = try await IngestFixture(sources: settings, push: false)
        let failedAfterFirstPage = await first.wait(.seconds(60)) {
            let pull = try first.status()["sources"]?["tax"]?["pull"]
            return try await first.loggedEvents().count == 10 && (pull?["consecutive_failures"]?.integerValue ?? 0) >= 2
        }
        #expect(failedAfterFirstPage)
        let status = try first.status()["sources"]?["tax"]
        #expect(status?["last_error"]?.stringValue?.contains("500") == true)
        #expect(status?["last_success_at"]?.stringValue != nil)
        #expect(status?["lag_s"]?.isNull == false)
        #expect(status?["pull"]?["cursor"] == "10")
        await first.stop(removing: false)

        feed.state.withLock {
            $0.failing = false
            $0.resendOnce = true
        }
        let second = try await IngestFixture(root: first.root, sources: settings, push: false)
        defer { Task { await second.stop() } }
        let drained = await second.wait(.seconds(60)) { try await second.loggedEvents().count == 30 }
        #expect(drained)
        // The puller asks with the stored cursor, which is committed with its page: a request after
        // "30" comes once the last page is in the log, and its answer is empty. Nothing more comes.
        let pastTheEnd = await second.wait(.seconds(60)) { feed.state.withLock { $0.requests }.contains("30") }
        #expect(pastTheEnd, "requests: \(feed.state.withLock { $0.requests })")
        let ids = try await second.loggedEvents().compactMap { $0.event.envelope["event_id"]?.stringValue }
        #expect(ids.count == 30)
        #expect(Set(ids).count == 30)
        #expect(ids == (0..<30).map { "TX-\($0)" }, "events in feed order, each once")
        let after = try second.status()["sources"]?["tax"]
        #expect(after?["duplicates"]?.integerValue == 10, "the re-sent first page was recognised as duplicates")
        #expect(after?["pull"]?["cursor"] == "30")
        #expect(after?["pull"]?["consecutive_failures"]?.integerValue == 0)
        // The restarted daemon resumed from the stored cursor, not from the beginning.
        #expect(feed.state.withLock { $0.requests }.contains("10"))
    }

    @Test func backoffGrowsAndIsBounded() {
        #expect(PullSource.backoff(failures: 1, interval: 10) <= 12)
        #expect(PullSource.backoff(failures: 4, interval: 10) >= 64)
        #expect(PullSource.backoff(failures: 40, interval: 10) <= PullSource.maximumBackoff * 1.2)
        #expect(PullSource.percentEncoded("a b/ü") == "a%20b%2F%C3%BC")
    }
}
