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
        /// Set for a source with `pull`.
        var pull: PullState?
        /// Private Use characters (外字) with no entry in the source's table, in events accepted since
        /// start (issue 16): kept as sent, never compared as ordinary characters.
        var gaijiUnmapped: Int64 = 0
        /// Whether the source has a 外字 table: its status then always shows `gaiji_unmapped`.
        var hasGaijiTable = false
    }

    private let entries = Mutex<[String: Entry]>([:])

    init(sources: some Sequence<String>, withGaijiTables gaijiSources: Set<String> = []) {
        entries.withLock { entries in
            for source in sources { entries[source] = Entry(hasGaijiTable: gaijiSources.contains(source)) }
        }
    }

    /// Counts unmapped 外字 in an accepted event of `source`.
    func recordUnmappedGaiji(source: String, count: Int) {
        entries.withLock { entries in entries[source, default: Entry()].gaijiUnmapped += Int64(count) }
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

    /// Adds what the log held before this process started (see `RenkeiService.seedSourceCounters`).
    func seed(source: String, events: Int64, lastEventAt: Date?) {
        entries.withLock { entries in
            var entry = entries[source] ?? Entry()
            entry.events += events
            if let lastEventAt, entry.lastEventAt.map({ $0 < lastEventAt }) ?? true { entry.lastEventAt = lastEventAt }
            entries[source] = entry
        }
    }

    func recordError(source: String, _ message: String) {
        entries.withLock { entries in entries[source, default: Entry()].lastError = message }
    }

    var snapshot: [String: Entry] { entries.withLock { $0 } }

    /// Updates a pulled source's state (success, failure, backoff).
    func updatePull(source: String, url: String, _ update: (inout PullState) -> Void) {
        entries.withLock { entries in
            var state = entries[source, default: Entry()].pull ?? PullState(url: url)
            update(&state)
            entries[source, default: Entry()].pull = state
            if let error = state.lastError, state.consecutiveFailures > 0 { entries[source]?.lastError = error }
        }
    }

    /// The `sources` object of `/v1/status`.
    func statusJSON(now: Date) -> JSONValue {
        var object = JSONObject()
        for (name, entry) in snapshot.sorted(by: { $0.key < $1.key }) {
            object[name] = [
                "events": .integer(entry.events),
                "duplicates": .integer(entry.duplicates),
                "rejected": .integer(entry.rejected),
                "last_event_at": entry.lastEventAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
                // For a pulled source the lag is the time since the last successful pull (how stale
                // Renkei's copy may be); otherwise the time since its last accepted event.
                "lag_s": (entry.pull.map { $0.lastSuccessAt } ?? entry.lastEventAt)
                    .map { .double((now.timeIntervalSince($0) * 1000).rounded() / 1000) } ?? .null,
                "last_error": entry.lastError.map { .string($0) } ?? .null,
            ]
            // Issue 16: shown for a source with a 外字 table, or once one of its events held an unmapped one.
            if entry.hasGaijiTable || entry.gaijiUnmapped > 0, case .object(var source) = object[name] {
                source["gaiji_unmapped"] = .integer(entry.gaijiUnmapped)
                object[name] = .object(source)
            }
            if let pull = entry.pull, case .object(var source) = object[name] {
                source["last_success_at"] = pull.lastSuccessAt.map { .string(Timestamp.rfc3339($0)) } ?? .null
                source["pull"] = pull.json(now: now)
                object[name] = .object(source)
            }
        }
        return .object(object)
    }
}

/// Time as the daemon records it: RFC 3339 text (UTC, milliseconds). "Now" comes from a
/// ``WallClock`` (milliseconds: ``WallClock/nowMs()``).
enum Timestamp {
    static func rfc3339(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
    }
}

// MARK: - HTTP pull state

/// What `/v1/status` shows about a pulled source: last success, lag, last error, backoff.
struct PullState: Sendable {
    var url: String
    var cursor: String?
    var lastSuccessAt: Date?
    var lastError: String?
    var consecutiveFailures = 0
    var nextAttemptAt: Date?

    func json(now: Date) -> JSONValue {
        [
            "url": .string(url),
            "cursor": cursor.map { .string($0) } ?? .null,
            "last_success_at": lastSuccessAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
            "last_error": lastError.map { .string($0) } ?? .null,
            "consecutive_failures": .integer(Int64(consecutiveFailures)),
            "next_attempt_in_s": nextAttemptAt.map { .double((max(0, $0.timeIntervalSince(now)) * 1000).rounded() / 1000) } ?? .null,
        ]
    }
}
