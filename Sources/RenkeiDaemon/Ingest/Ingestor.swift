import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

/// One line of input with its 1-based position in the file or body it came from.
struct InputLine: Sendable {
    var number: Int
    var bytes: ArraySlice<UInt8>
}

/// What happened to a batch of input lines: the reply shape of push and replay (contract §6).
struct IngestReport: Sendable {
    struct Rejection: Sendable {
        var line: Int
        var error: String
    }

    var accepted = 0
    var duplicates = 0
    var rejected: [Rejection] = []

    mutating func merge(_ other: IngestReport) {
        accepted += other.accepted
        duplicates += other.duplicates
        rejected += other.rejected
    }

    /// `{"accepted": n, "duplicates": n, "rejected": [{"line": n, "error": "…"}]}`.
    var json: JSONValue {
        [
            "accepted": .integer(Int64(accepted)),
            "duplicates": .integer(Int64(duplicates)),
            "rejected": .array(rejected.map { ["line": .integer(Int64($0.line)), "error": .string($0.error)] }),
        ]
    }
}

/// Validates input lines and appends the good ones to the log, durably, before answering.
///
/// Every way in (spool, replay, push, pull) goes through here, so validation, idempotency and
/// counting are the same everywhere.
final class Ingestor: Sendable {
    /// The longest line accepted; a longer one is rejected without being parsed.
    static let maximumLineBytes = 1 << 20

    let validator: EventValidator
    let writer: LogWriter
    let statistics: SourceStatistics
    let configuredSources: Set<String>
    /// Seals `my_number` after validation, before the event is logged (see ``MyNumberVault``).
    let vault: MyNumberVault
    let logger: Logger
    /// Where the statistics' timestamps come from.
    let wallClock: WallClock
    /// Each source's 外字 table (`sources.<name>.gaiji`; issue 16). A source without one maps nothing
    /// but still has its Private Use characters counted.
    let gaijiTables: [String: GaijiTable]
    /// The configured `municipality`, filled into events that carry none (contract §1: it defaults
    /// to the daemon's code), so the log holds the code each event was accepted under.
    let municipality: String?

    init(
        validator: EventValidator, writer: LogWriter, statistics: SourceStatistics, configuredSources: Set<String>,
        vault: MyNumberVault, logger: Logger, wallClock: WallClock = .system, gaijiTables: [String: GaijiTable] = [:],
        municipality: String? = nil
    ) {
        self.gaijiTables = gaijiTables
        self.municipality = municipality
        self.validator = validator
        self.wallClock = wallClock
        self.vault = vault
        self.writer = writer
        self.statistics = statistics
        self.configuredSources = configuredSources
        self.logger = logger
    }

    /// Splits a JSONL body into lines (LF or CRLF), keeping 1-based numbers; blank lines are skipped.
    static func splitLines(_ bytes: [UInt8]) -> [InputLine] {
        var lines: [InputLine] = []
        var start = 0
        var number = 1
        var index = 0
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3); start = 3; index = 3 }
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0A {
                var end = index
                if end > start, bytes[end - 1] == 0x0D { end -= 1 }
                let slice = bytes[start..<end]
                if !slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    lines.append(InputLine(number: number, bytes: slice))
                }
                number += 1
                start = index + 1
            }
            index += 1
        }
        return lines
    }

    /// Splits a push/replay body: a JSON array when it starts with `[` (whatever the header says),
    /// JSONL otherwise. Returns `nil` when an array body is not JSON at all.
    static func splitBody(_ bytes: [UInt8]) -> Result<[InputLine], JSONParseError> {
        let firstNonSpace = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard firstNonSpace == UInt8(ascii: "[") else { return .success(splitLines(bytes)) }
        do {
            let value = try JSONParser.parse(bytes)
            let elements = value.arrayValue ?? []
            return .success(elements.enumerated().map { InputLine(number: $0.offset + 1, bytes: $0.element.serializedBytes[...]) })
        } catch {
            return .failure(error)
        }
    }

    /// Validates and appends lines. `expectedSource` limits them to one source (spool folder, push endpoint);
    /// `provenance` says how they came in and is stored beside each appended event (issue 13).
    /// - Throws: ``StoreError`` when the log cannot be written: then nothing of this call was acknowledged.
    /// - Parameter hook: more writes committed in the same transaction as the events (an HTTP pull's
    ///   cursor); it runs even when no line was valid.
    func ingest(
        _ lines: [InputLine], expectedSource: String?, provenance: Provenance,
        inSameTransaction hook: (@Sendable (Database) throws(StoreError) -> Void)? = nil
    ) async throws(StoreError) -> IngestReport {
        var report = IngestReport()
        var events: [Event] = []
        var eventLines: [Int] = []
        var perSource: [String: (accepted: Int, duplicates: Int, rejected: Int, error: String?)] = [:]
        var unmappedGaiji: [Int] = []
        // Each event as validated, before 外字 mapping and the municipality filled in: a resend of an
        // event logged before either existed is then still a duplicate (``isCopy``).
        var received: [Event] = []
        for line in lines {
            guard line.bytes.count <= Self.maximumLineBytes else {
                let error = "line is longer than \(Self.maximumLineBytes) bytes; one event per line, at most 1 MiB"
                report.rejected.append(.init(line: line.number, error: error))
                perSource[expectedSource ?? "unknown", default: (0, 0, 0, nil)].rejected += 1
                continue
            }
            switch validator.validate(line: line.bytes, expectedSource: expectedSource) {
            case .success(let event):
                if !configuredSources.contains(event.source) {
                    let error = "source: '\(event.source)' is not configured on this daemon (configured: \(configuredSources.sorted().joined(separator: ", ")))"
                    report.rejected.append(.init(line: line.number, error: error))
                    perSource[expectedSource ?? "unknown", default: (0, 0, 0, nil)].rejected += 1
                } else {
                    // 外字: the log holds the mapped Unicode, the raw text in the event's `gaiji` note.
                    var gaiji = (gaijiTables[event.source] ?? GaijiTable()).apply(to: event)
                    // Operator decisions are the daemon's own and name no municipality (as when written directly).
                    if gaiji.event.municipality == nil, let municipality, event.source != "operator" {
                        gaiji.event.municipality = municipality
                        gaiji.event.envelope["municipality"] = .string(municipality)
                    }
                    // Validated (12 digits, check digit): from here on the log holds only the token.
                    events.append(vault.sealed(gaiji.event))
                    received.append(event)
                    eventLines.append(line.number)
                    unmappedGaiji.append(gaiji.unmapped)
                }
            case .failure(let rejection):
                report.rejected.append(.init(line: line.number, error: rejection.description))
                var entry = perSource[expectedSource ?? Self.sourceHint(line.bytes) ?? "unknown", default: (0, 0, 0, nil)]
                entry.rejected += 1
                entry.error = rejection.description
                perSource[expectedSource ?? Self.sourceHint(line.bytes) ?? "unknown"] = entry
            }
        }
        if !events.isEmpty || hook != nil {
            let outcomes: [AppendOutcome]
            if let hook {
                outcomes = try await writer.append(events, provenance: provenance, inSameTransaction: hook)
            } else {
                outcomes = try await writer.append(events, provenance: provenance)
            }
            for (index, outcome) in outcomes.enumerated() {
                let source = events[index].source
                switch outcome {
                case .appended:
                    report.accepted += 1
                    perSource[source, default: (0, 0, 0, nil)].accepted += 1
                    if unmappedGaiji[index] > 0 { statistics.recordUnmappedGaiji(source: source, count: unmappedGaiji[index]) }
                case .duplicate:
                    report.duplicates += 1
                    perSource[source, default: (0, 0, 0, nil)].duplicates += 1
                case .conflict(let existing):
                    if await isCopy(events[index], received: received[index], ofLoggedAt: existing) {
                        report.duplicates += 1
                        perSource[source, default: (0, 0, 0, nil)].duplicates += 1
                        continue
                    }
                    let error = "event_id: '\(events[index].eventID)' of source '\(source)' was already recorded at lsn \(existing) with different content; nothing was overwritten (send a new event_id for a new change)"
                    report.rejected.append(.init(line: eventLines[index], error: error))
                    perSource[source, default: (0, 0, 0, nil)].rejected += 1
                    perSource[source]?.error = error
                }
            }
        }
        report.rejected.sort { $0.line < $1.line }
        let now = wallClock.now()
        for (source, counts) in perSource where configuredSources.contains(source) {
            statistics.record(
                source: source, accepted: counts.accepted, duplicates: counts.duplicates, rejected: counts.rejected,
                lastError: counts.error, at: now)
        }
        return report
    }

    /// Whether `event` is the event logged at `lsn` as an older daemon logged it: before `my_number`
    /// was sealed at ingest (that event's plain number, sealed, gives `event`'s bytes), or before
    /// 外字 mapping and the filled-in municipality (the logged bytes are those of `received`, as
    /// validated). A source resending an event from before the upgrade then gets a duplicate, as
    /// before, not a conflict. Asked only on a conflict.
    private func isCopy(_ event: Event, received: Event, ofLoggedAt lsn: Int64) async -> Bool {
        let changedHere = event.contentBytes != vault.sealed(received).contentBytes
        guard event.data[MyNumberVault.field] != nil || changedHere else { return false }
        // The events are committed already: a failed read-back answers "conflict", never an error.
        let existing = try? await writer.perform { db in try EventLog.read(in: db, after: lsn - 1, limit: 1) }
        guard let logged = existing?.first, logged.lsn == lsn else { return false }
        let loggedBytes = vault.sealed(logged.event).contentBytes
        return loggedBytes == event.contentBytes || (changedHere && loggedBytes == vault.sealed(received).contentBytes)
    }

    /// The `source` of a line that failed validation, if it can be read (for counting only).
    static func sourceHint(_ bytes: ArraySlice<UInt8>) -> String? {
        (try? JSONParser.parse(bytes))?["source"]?.stringValue
    }
}
