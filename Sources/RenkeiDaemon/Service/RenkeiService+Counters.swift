import Foundation
import RenkeiStore
import RenkeiSystem

extension RenkeiService {
    /// Seeds `sources.*.events` and `last_event_at` in `/v1/status` with what the log already holds,
    /// so the counts survive restarts. Runs on a store thread after start-up, without being waited for
    /// (a large log takes a moment to count, and `READY=1` must not wait for it); only events up to ``startHead`` are
    /// counted, so the live counters, which count appends after it, never count one twice.
    func seedSourceCounters() {
        let head = startHead
        let statistics = ingestor.statistics
        let logger = logger
        guard head > 0 else { return }
        store.readDetached { db in
            let rows = try EventLog.countsBySource(upTo: head, in: db)
            let parser = ISO8601DateFormatter()
            parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            for (source, count, last) in rows {
                statistics.seed(source: source, events: count, lastEventAt: last.flatMap { parser.date(from: $0) })
            }
        } onError: { error in
            logger.warning("could not count the log's events per source for /v1/status: \(error)")
        }
    }
}
