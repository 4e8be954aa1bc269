import Foundation
import RenkeiCore
import RenkeiHTTP
import RenkeiStore
import RenkeiSystem

/// HTTP pull for a source with `pull` (contract §6): `GET {url}?after={cursor}` answering
/// {`events`: [...], `next_cursor`}.
///
/// The events and the new cursor are committed in ONE transaction (``LogWriter/append(_:inSameTransaction:)``),
/// so after a crash or a failing feed the next pull starts exactly after what was logged; events sent
/// again are duplicates (no-ops). While the feed fails, attempts back off exponentially (with jitter)
/// up to ``maximumBackoff``. Last success, lag and last error show in `/v1/status`.
final class PullSource: Service {
    /// The longest wait between attempts while the feed fails.
    static let maximumBackoff: Double = 300

    var name: String { "pull \(source)" }
    /// The most pages taken back to back before pausing for `interval` (bounds one round).
    static let maximumPagesPerRound = 1000

    let source: String
    let url: String
    let interval: Double
    /// Request headers, values read from files at configuration load (`pull.headers`).
    let headers: [String: String]
    /// Where refused events are written: the source's spool `rejected/`, or `<state_dir>/rejected/<source>/`.
    let rejectedFolder: String
    let ingestor: Ingestor
    let client: HTTPClient
    let logger: Logger
    /// What the pauses between requests (``interval``, the backoff) sleep on.
    let clock: any Clock<Duration>
    /// Where `next_attempt_at` and the lag's timestamps come from.
    let wallClock: WallClock

    /// - Parameters:
    ///   - source: the source name.
    ///   - pull: its checked `pull` settings (see ``ConfigReader/pull(_:path:)``).
    ///   - rejectedFolder: where refused events go; created here if missing.
    /// - Throws: ``RenkeiError`` (`io`) when the rejected folder cannot be created.
    init(
        source: String, pull: Configuration.Pull, rejectedFolder: String, ingestor: Ingestor, client: HTTPClient,
        logger: Logger, clock: any Clock<Duration> = ContinuousClock(), wallClock: WallClock = .system
    ) throws(RenkeiError) {
        do {
            try FileManager.default.createDirectory(atPath: rejectedFolder, withIntermediateDirectories: true)
        } catch {
            throw RenkeiError(
                .io,
                "cannot create \(rejectedFolder) for the refused events of source \(source): check ownership and permissions",
                cause: error)
        }
        self.source = source
        self.url = pull.url
        self.interval = pull.intervalSeconds
        self.headers = pull.headers
        self.rejectedFolder = rejectedFolder
        self.ingestor = ingestor
        self.client = client
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
    }

    /// Where a pulled source's refused events go: its spool's `rejected/` when it has a spool (one
    /// place per source for an operator to look), else `<state_dir>/rejected/<source>/`.
    static func rejectedFolder(for source: Configuration.Source, stateDirectory: String) -> String {
        if let spool = source.spool { return spool + "/rejected" }
        return stateDirectory + "/rejected/" + source.name
    }

    /// What one request came to.
    enum Outcome: Equatable {
        /// Events were taken and the feed may hold more: ask again at once.
        case more
        /// The feed is drained: wait `interval`.
        case caughtUp
        /// The request or its reply failed: back off.
        case failed(String)
    }

    /// Pulls until cancelled.
    func run() async {
        await pullUntilCancelled()
    }

    private func pullUntilCancelled() async {
        var failures = 0
        var pages = 0
        while !Task.isCancelled {
            let outcome = await pollOnce()
            let wait: Double
            switch outcome {
            case .more:
                failures = 0
                pages += 1
                if pages < Self.maximumPagesPerRound { continue }
                wait = interval
            case .caughtUp:
                failures = 0
                wait = interval
            case .failed(let message):
                failures += 1
                wait = Self.backoff(failures: failures, interval: interval)
                logger.warning("pull \(source): \(message); attempt \(failures) failed, next in \(Int(wait.rounded())) s")
                let next = wallClock.now().addingTimeInterval(wait)
                ingestor.statistics.updatePull(source: source, url: url) { state in
                    state.lastError = message
                    state.consecutiveFailures = failures
                    state.nextAttemptAt = next
                }
            }
            pages = 0
            try? await clock.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }

    /// `interval · 2^(failures-1)`, at most ``maximumBackoff``, with ±20 % jitter.
    static func backoff(failures: Int, interval: Double) -> Double {
        let base = min(maximumBackoff, interval * pow(2, Double(min(failures - 1, 20))))
        return base * Double.random(in: 0.8...1.2)
    }

    /// One request: read the stored cursor, fetch, validate, append with the new cursor.
    func pollOnce() async -> Outcome {
        let source = source
        let cursor: String?
        do {
            cursor = try await ingestor.writer.perform { db in try PullCursors.cursor(of: source, in: db) }
        } catch {
            return .failed("cannot read the stored cursor: \(error)")
        }
        let separator = url.contains("?") ? "&" : "?"
        let target = url + separator + "after=" + Self.percentEncoded(cursor ?? "")
        var requestHeaders = OutboundHeaders()
        requestHeaders.append(name: "Accept", value: "application/json")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { requestHeaders.append(name: name, value: value) }
        let request = OutboundRequest(
            url: target, method: "GET", headers: requestHeaders, timeout: .seconds(60), maxResponseBytes: 64 << 20)
        let response: OutboundResponse
        switch await client.send(request) {
        case .failure(let failure): return .failed("GET \(url) failed: \(failure)")
        case .success(let reply): response = reply
        }
        guard response.status == 200 else { return .failed("GET \(url) answered HTTP \(response.status)") }
        guard !response.bodyTruncated else { return .failed("GET \(url): the reply is larger than 64 MiB; serve smaller pages") }
        guard let reply = try? JSONParser.parse(response.body), let events = reply["events"]?.arrayValue else {
            return .failed("GET \(url): the reply is not JSON {\"events\": [...], \"next_cursor\": …}")
        }
        let next: String
        switch reply["next_cursor"] {
        case .string(let text)?: next = text
        case .integer(let number)?: next = String(number)
        case .null?, nil:
            guard events.isEmpty else { return .failed("GET \(url): the reply has events but no next_cursor") }
            next = cursor ?? ""
        default: return .failed("GET \(url): next_cursor must be a string or an integer")
        }
        let lines = events.enumerated().map { InputLine(number: $0.offset + 1, bytes: $0.element.serializedBytes[...]) }
        let report: IngestReport
        do {
            let provenance = Provenance(via: .pull, source: source, url: Provenance.redacted(url: url))
            report = try await ingestor.ingest(lines, expectedSource: source, provenance: provenance) { db throws(StoreError) in
                try PullCursors.store(next, for: source, at: Timestamp.rfc3339(Date()), in: db)
            }
        } catch {
            return .failed("could not write the log: \(error.message)")
        }
        if !report.rejected.isEmpty {
            // The feed cannot be answered: each refused event goes to rejected/ with its reason (as a
            // spool file's lines do); the reasons go to the log and /v1/status (never the content).
            let file = writeRejections(report.rejected, events: events, after: cursor, next: next)
            for rejection in report.rejected.prefix(5) {
                logger.warning("pull \(source): event \(rejection.line) of the page after cursor refused: \(rejection.error)")
            }
            if let file { logger.warning("pull \(source): \(report.rejected.count) refused event(s) written to \(file)") }
        }
        let now = wallClock.now()
        ingestor.statistics.updatePull(source: source, url: url) { state in
            state.cursor = next
            state.lastSuccessAt = now
            state.consecutiveFailures = 0
            state.nextAttemptAt = nil
        }
        if !events.isEmpty {
            logger.info("pull \(source): \(report.accepted) accepted, \(report.duplicates) duplicates, \(report.rejected.count) rejected")
        }
        return events.isEmpty || next == cursor ? .caughtUp : .more
    }

    /// Writes `pull-<time>.errors.jsonl` in ``rejectedFolder``: one line per refused event with `line`
    /// (its position in the page), `error`, `raw` (the event as received), and the page's `url`,
    /// `after` and `next_cursor`. Returns the file's path, or nil when it could not be written (logged).
    func writeRejections(_ rejections: [IngestReport.Rejection], events: [JSONValue], after: String?, next: String) -> String? {
        let stamp = Timestamp.rfc3339(wallClock.now()).replacingOccurrences(of: ":", with: "")
        let entries: [JSONValue] = rejections.map { rejection in
            var entry: JSONObject = [
                "source": .string(source), "url": .string(url), "after": after.map { .string($0) } ?? .null,
                "next_cursor": .string(next), "line": .integer(Int64(rejection.line)), "error": .string(rejection.error),
            ]
            if events.indices.contains(rejection.line - 1) {
                entry["raw"] = .string(String(decoding: events[rejection.line - 1].serializedBytes, as: UTF8.self))
            }
            return .object(entry)
        }
        var path = "\(rejectedFolder)/pull-\(stamp).errors.jsonl"
        var counter = 1
        while FileManager.default.fileExists(atPath: path) {
            path = "\(rejectedFolder)/pull-\(stamp).\(counter).errors.jsonl"
            counter += 1
        }
        do {
            try RejectedFile.write(entries, to: path)
            return path
        } catch {
            logger.error("pull \(source): could not write \(path): \(error); the refusals are counted in /v1/status only")
            return nil
        }
    }

    /// Percent-encodes a query value (RFC 3986 unreserved characters stay).
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}
