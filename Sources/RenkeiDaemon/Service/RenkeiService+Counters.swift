import Foundation
import RenkeiStore
import RenkeiSystem

extension RenkeiService {
    /// Seeds `sources.*.events` and `last_event_at` in `/v1/status` with what the log already holds,
    /// so the counts survive restarts. Runs on its own thread after start-up (a large log takes a
    /// moment to count, and `READY=1` must not wait for it); only events up to ``startHead`` are
    /// counted, so the live counters, which count appends after it, never count one twice.
    func seedSourceCounters() {
        let path = databasePath
        let head = startHead
        let statistics = ingestor.statistics
        let logger = logger
        guard head > 0 else { return }
        let thread = Thread {
            do {
                let db = try Database(path: path, readOnly: true)
                let rows = try db.prepare(
                    "SELECT source, COUNT(*), MAX(recorded_at) FROM events WHERE lsn <= ? GROUP BY source"
                ).rows([.integer(head)]) { row in (row.string(0) ?? "", row.int64(1), row.string(2)) }
                let parser = ISO8601DateFormatter()
                parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                for (source, count, last) in rows {
                    statistics.seed(source: source, events: count, lastEventAt: last.flatMap { parser.date(from: $0) })
                }
            } catch {
                logger.warning("could not count the log's events per source for /v1/status: \(error)")
            }
        }
        thread.name = "renkei-counters"
        thread.start()
    }
}
