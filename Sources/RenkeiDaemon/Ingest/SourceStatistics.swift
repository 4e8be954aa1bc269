import Foundation
import RenkeiCore
import Synchronization

/// Per-source counters shown in `/v1/status` and `/metrics` (contract §6).
final class SourceStatistics: Sendable {
    struct Entry: Sendable {
        var events: Int64 = 0
        var duplicates: Int64 = 0
        var rejected: Int64 = 0
        var lastEventAt: Date?
        var lastError: String?
    }

    private let entries = Mutex<[String: Entry]>([:])

    init(sources: some Sequence<String>) {
        entries.withLock { entries in
            for source in sources { entries[source] = Entry() }
        }
    }

    func record(source: String, accepted: Int, duplicates: Int, rejected: Int, lastError: String?, at date: Date) {
        entries.withLock { entries in
            var entry = entries[source] ?? Entry()
            entry.events += Int64(accepted)
            entry.duplicates += Int64(duplicates)
            entry.rejected += Int64(rejected)
            if accepted > 0 { entry.lastEventAt = date }
            if let lastError { entry.lastError = lastError }
            entries[source] = entry
        }
    }

    func recordError(source: String, _ message: String) {
        entries.withLock { entries in entries[source, default: Entry()].lastError = message }
    }

    var snapshot: [String: Entry] { entries.withLock { $0 } }

    /// The `sources` object of `/v1/status`.
    func statusJSON(now: Date) -> JSONValue {
        var object = JSONObject()
        for (name, entry) in snapshot.sorted(by: { $0.key < $1.key }) {
            object[name] = [
                "events": .integer(entry.events),
                "duplicates": .integer(entry.duplicates),
                "rejected": .integer(entry.rejected),
                "last_event_at": entry.lastEventAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
                "lag_s": entry.lastEventAt.map { .double((now.timeIntervalSince($0) * 1000).rounded() / 1000) } ?? .null,
                "last_error": entry.lastError.map { .string($0) } ?? .null,
            ]
        }
        return .object(object)
    }
}

/// RFC 3339 timestamps as the daemon writes them (UTC, milliseconds).
enum Timestamp {
    static func rfc3339(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
    }
}
