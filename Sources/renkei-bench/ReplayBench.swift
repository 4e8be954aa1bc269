// `renkei-bench replay`: a synthetic municipality replayed into a fresh `renkeid` (issue 7).
//
// Residents from `SyntheticPopulation` (households, twins, foreign residents) become events across
// the four sources: registrations, key-linked tax assessments, library patrons that must be matched,
// childcare records, then moves, corrections and 更正 until the event count is reached, with a few
// invalid events injected on purpose. They are POSTed to `/v1/replay` in batches, into a daemon
// with the example configuration's three subscriptions, paused (deltas are planned and queued, none
// sent). Measured, each beside a baseline from the same run:
// - ingest events/s (durable, acknowledged; projection and delta planning run in the same commit)
//   vs the same canonical bytes inserted raw into a SQLite table, one transaction per batch;
// - `POST /v1/rebuild` events/s, and projection catch-up events/s (a daemon started over the same
//   log with its stored views emptied catches up from lsn 1), vs a raw sequential read of `events`;
// - spawn → `READY=1` on a restart over that log, vs the same on an empty state;
// - peak RSS (VmHWM) of each daemon, vs the empty daemon's;
// - database bytes per event, vs the raw table's.
import Foundation
import Glibc
import RenkeiCore
import RenkeiStore
import RenkeiSystem

enum ReplayBench {
    /// The options `renkei-bench replay` takes.
    static let options: [BenchOptions.Option] = [
        .number("--residents", default: 100_000, "residents of the synthetic municipality"),
        .number("--events", default: nil, "events replayed (default 10 x residents)"),
        .number("--batch", default: 10_000, "events per POST /v1/replay"),
        .number("--invalid-every", default: 1000, "one invalid event in every N, injected on purpose"),
        .number("--catch-up-seconds", default: 120, "the longest the catch-up phase runs"),
        .flag("--keep", "keep the state in /tmp/renkei-bench-replay-PID afterwards (default: removed)"),
    ]

    static func run(_ arguments: [String]) {
        let options = BenchOptions.parseOrExit(arguments, command: "replay", options: Self.options)
        let residents = options.number("--residents")
        let settings = Settings(
            residents: residents, events: options.given("--events") ?? residents * 10, batch: options.number("--batch"),
            invalidEvery: options.number("--invalid-every"), catchUpSeconds: options.number("--catch-up-seconds"),
            keep: options.flag("--keep"))
        do {
            try measure(settings)
        } catch {
            FileHandle.standardError.write(Data("renkei-bench replay: \(error)\n".utf8))
            exit(1)
        }
    }

    struct Settings {
        var residents: Int
        var events: Int
        var batch: Int
        var invalidEvery: Int
        /// The longest the catch-up phase runs; its rate is what it reached by then.
        var catchUpSeconds: Int
        var keep: Bool
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func measure(_ settings: Settings) throws {
        let root = "/tmp/renkei-bench-replay-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        defer { if !settings.keep { try? FileManager.default.removeItem(atPath: root) } }
        let clock = ContinuousClock()

        // 1. Generate the log (not timed as ingest).
        var start = clock.now
        let log = SyntheticLog(
            residents: settings.residents, events: settings.events, batch: settings.batch,
            invalidEvery: settings.invalidEvery)
        let total = log.total
        let bytes = log.batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.utf8.count + 1 } }
        note("generated \(total) events (\(bytes / 1_048_576) MiB JSONL, \(log.injected.count) invalid on purpose) in \(seconds(clock.now - start))")

        // 2. A fresh daemon: READY and RSS on an empty state are the baselines of the restart.
        let daemon = try BenchDaemon(root: root)
        let readyEmpty = try daemon.start()
        let rssEmpty = daemon.peakRSS()
        for name in BenchDaemon.subscriptions {
            let reply = try daemon.request("POST", "/v1/subscriptions/\(name)/pause")
            guard reply.status == 200 else { throw BenchError("pause \(name) answered \(reply.status): \(reply.text)") }
        }

        // 3. Ingest.
        start = clock.now
        var accepted = 0
        var rejections = Rejections(log: log)
        for (number, lines) in log.batches.enumerated() {
            let body = Array((lines.joined(separator: "\n") + "\n").utf8)
            let reply = try daemon.request("POST", "/v1/replay", body: body)
            guard reply.status == 200 else { throw BenchError("replay answered \(reply.status): \(reply.text.prefix(300))") }
            let json = try JSONParser.parse(reply.body)
            accepted += Int(json["accepted"]?.integerValue ?? 0)
            rejections.add(json["rejected"]?.arrayValue ?? [], batch: number)
        }
        let ingest = clock.now - start
        let headAfterIngest = try daemon.status()
        let keptPace = headAfterIngest["projection_lsn"] == headAfterIngest["head_lsn"]
        note("ingested \(accepted), rejected \(rejections.total) in \(seconds(ingest)); projection at head when the last batch was acknowledged: \(keptPace)")
        try rejections.check()
        let head = try daemon.waitUntilCaughtUp(timeout: .seconds(3600))
        // The daemon's own operator events are logged too: the linking estimate it makes on its own when
        // the records reach `linking.estimate_at_records` (issue 14).
        let estimates = daemon.countLines(containing: "(operator.linking_estimated at lsn")
        guard head == Int64(accepted + estimates) else {
            throw BenchError("head_lsn \(head) but \(accepted) events accepted and \(estimates) linking estimates logged")
        }

        // 4. Rebuild.
        var mark = daemon.logMark()
        start = clock.now
        let rebuildReply = try daemon.request("POST", "/v1/rebuild")
        guard rebuildReply.status == 202 else { throw BenchError("rebuild answered \(rebuildReply.status): \(rebuildReply.text)") }
        try daemon.waitForLine("projection: rebuilt", after: mark)
        let rebuild = clock.now - start
        _ = try daemon.waitUntilCaughtUp(timeout: .seconds(3600))
        note("rebuilt in \(seconds(rebuild))")
        let rssFirst = daemon.peakRSS()

        // 5. Stop, then restart over that log and its stored views: spawn → READY=1, → views loaded.
        let stopFirst = try daemon.stop()
        note("stopped in \(seconds(stopFirst))")
        let catchUpState = root + "/catch-up-state"
        try FileManager.default.copyItem(atPath: root + "/state", toPath: catchUpState)
        mark = daemon.logMark()
        start = clock.now
        let ready = try daemon.start()
        let firstPerson = try daemon.request("GET", "/v1/persons/U0000000001")
        guard firstPerson.status == 200 else {
            throw BenchError("a person read right after READY answered \(firstPerson.status): \(firstPerson.text)")
        }
        let firstRead = clock.now - start
        try daemon.waitForLine("projection: live at lsn", after: mark)
        let loaded = clock.now - start
        _ = try daemon.waitUntilCaughtUp(timeout: .seconds(3600))
        note("restarted: READY=1 after \(seconds(ready)), views loaded after \(seconds(loaded))")
        let rssRestart = daemon.peakRSS()
        try daemon.stop()
        let dbBytes = directoryBytes(root + "/state")

        // 6. Projection catch-up: the same log with its stored views emptied (as after restoring a
        //    log-only copy); the daemon serves at once and catches up from lsn 1 in the background.
        //    It runs until live or for --catch-up-seconds; the rate is the checkpoint it reached (read
        //    from the database file, not from /v1/status, which would cost the daemon seconds).
        let catchUpDB = try databasePath(catchUpState)
        try emptyViews(catchUpDB)
        let catchUpDaemon = try BenchDaemon(root: root, stateDirectory: catchUpState, name: "catch-up")
        start = clock.now
        let readyCatchUp = try catchUpDaemon.start()
        let budget = Duration.seconds(settings.catchUpSeconds)
        let live = (try? catchUpDaemon.waitForLine("projection: live at lsn", after: 0, timeout: budget)) != nil
        let catchUp = clock.now - start
        let caughtUp = live ? Int64(accepted) : try storedCheckpoint(catchUpDB)
        let rssCatchUp = catchUpDaemon.peakRSS()
        try catchUpDaemon.stop()
        note("caught up \(caughtUp) of \(accepted) events from lsn 1 in \(seconds(catchUp)) (READY=1 after \(seconds(readyCatchUp)))")

        // 7. Baselines: raw read of the daemon's log; raw insert of the same canonical bytes.
        let dbPath = try databasePath(root + "/state")
        let (readCount, readTime) = try rawRead(dbPath)
        let insertTime = try rawInsert(path: root + "/baseline.sqlite", batches: log.batches)
        let rawBytes = directoryBytes(root + "/baseline.sqlite")

        func rate(_ count: Int, _ duration: Duration) -> Double { Double(count) / max(duration.seconds, 1e-9) }
        let ingestRate = rate(total, ingest)
        let insertRate = rate(total, insertTime)
        let rebuildRate = rate(accepted, rebuild)
        let catchUpRate = rate(Int(caughtUp), catchUp)
        let readRate = rate(readCount, readTime)
        let mib = { (kib: Int) in "\(kib / 1024) MiB" }
        print("")
        print("residents \(settings.residents), events \(total) (\(accepted) accepted = head_lsn, \(rejections.total) refused), "
            + "batch \(settings.batch) lines, 3 paused subscriptions")
        print("")
        print("| measure | Renkei | baseline (same run) | ratio | target |")
        print("|---|---:|---:|---:|---|")
        print("| ingest: `POST /v1/replay`, durable, views and deltas in the same commit | \(int(ingestRate)) ev/s | \(int(insertRate)) ev/s raw SQLite insert of the canonical bytes | \(ratio(ingestRate, insertRate)) | — |")
        print("| projection kept pace with ingest (projection_lsn = head_lsn at the last acknowledgement) | \(keptPace ? "yes" : "no") | — | — | — |")
        print("| projection catch-up from lsn 1 (stored views emptied, in the background after READY; \(live ? "to the head" : "first \(caughtUp) events in \(settings.catchUpSeconds) s")) | \(int(catchUpRate)) ev/s | \(int(readRate)) ev/s raw read of `events` | \(ratio(catchUpRate, readRate)) | — |")
        print("| `POST /v1/rebuild` | \(int(rebuildRate)) ev/s | \(int(readRate)) ev/s raw read of `events` | \(ratio(rebuildRate, readRate)) | ≥ 200,000 ev/s: \(rebuildRate >= 200_000 ? "met" : "missed") |")
        print("| restart: spawn → READY=1 | \(String(format: "%.3f", ready.seconds)) s | \(String(format: "%.3f", readyEmpty.seconds)) s on an empty state | \(ratio(ready.seconds, readyEmpty.seconds)) | ≤ 1 s: \(ready.seconds <= 1 ? "met" : "missed") |")
        print("| restart: spawn → first person read answered (200) | \(String(format: "%.3f", firstRead.seconds)) s | — | — | — |")
        print("| restart: spawn → views loaded and live (background, after READY) | \(String(format: "%.3f", loaded.seconds)) s | — | — | — |")
        print("| stop after rebuild (SIGTERM → exit 0) | \(String(format: "%.3f", stopFirst.seconds)) s | — | — | — |")
        let peak = max(rssFirst, rssRestart, rssCatchUp)
        print("| peak RSS: ingest + rebuild / restart / catch-up | \(mib(rssFirst)) / \(mib(rssRestart)) / \(mib(rssCatchUp)) | \(mib(rssEmpty)) empty daemon | \(ratio(Double(peak), Double(rssEmpty))) | ≤ 300 MiB: \(peak <= 300 * 1024 ? "met" : "missed") |")
        print("| database size (log, views, sent states, outbox) | \(dbBytes / 1_048_576) MiB = \(dbBytes / max(accepted, 1)) B/event | \(rawBytes / max(total, 1)) B/event raw table (JSONL \(bytes / max(total, 1)) B/event) | \(ratio(Double(dbBytes) / Double(max(accepted, 1)), Double(rawBytes) / Double(max(total, 1)))) | — |")
        print("")
        rejections.printTable()
    }

    // MARK: - Rejections

    /// The bench's record of refused lines: every one must be an injected invalid event, refused for
    /// its reason, and every injected one must be refused.
    struct Rejections {
        let injected: [Int: SyntheticLog.Invalid]
        let batchSize: Int
        /// Reason (error text with values masked) → count.
        var byReason: [String: Int] = [:]
        /// Injected kind → how many were refused for the expected reason.
        var refusedAsExpected: [SyntheticLog.Invalid: Int] = [:]
        var unexpected: [String] = []
        var total = 0

        init(log: SyntheticLog) {
            injected = log.injected
            batchSize = log.batchSize
        }

        mutating func add(_ rejected: [JSONValue], batch: Int) {
            for item in rejected {
                total += 1
                let line = Int(item["line"]?.integerValue ?? 0)
                let error = item["error"]?.stringValue ?? ""
                byReason[Self.mask(error), default: 0] += 1
                let index = batch * batchSize + line - 1
                if let kind = injected[index], error.contains(kind.expectedError) {
                    refusedAsExpected[kind, default: 0] += 1
                } else if unexpected.count < 5 {
                    unexpected.append("batch \(batch) line \(line): \(error)")
                }
            }
        }

        /// Every injected line refused for its reason, nothing else refused.
        func check() throws {
            let expected = injected.count
            let matched = refusedAsExpected.values.reduce(0, +)
            guard matched == expected, total == expected else {
                throw BenchError(
                    "\(total) lines refused, \(expected) injected, \(matched) refused for the injected reason; "
                        + "unexpected: \(unexpected.joined(separator: "; "))")
            }
        }

        func printTable() {
            print("| refused lines, by reason | count | injected on purpose as |")
            print("|---|---:|---|")
            for (reason, count) in byReason.sorted(by: { $0.value > $1.value }) {
                let kinds = SyntheticLog.Invalid.allCases.filter { reason.contains(Self.mask($0.expectedError)) }
                print("| \(reason) | \(count) | \(kinds.map(\.rawValue).joined(separator: ", ")) |")
            }
            if byReason.isEmpty { print("| (none) | 0 | |") }
        }

        /// The error with quoted values and numbers masked, so errors of one kind group together.
        static func mask(_ error: String) -> String {
            var out = ""
            var quote: Character?
            for character in error {
                if let open = quote {
                    if character == open { quote = nil; out.append("…'") }
                    continue
                }
                if character == "'" { quote = "'"; out.append("'"); continue }
                if character.isASCII, character.isNumber {
                    if out.last != "#" { out.append("#") }
                    continue
                }
                out.append(character)
            }
            // "unknown event type x (known: …)" lists every type: the first words say enough.
            if let known = out.range(of: " (known:") { out = String(out[..<known.lowerBound]) }
            return out.replacingOccurrences(of: "|", with: "\\|")
        }
    }

    // MARK: - Baselines

    /// Inserts each batch's lines as (source, event_id, body) rows, one transaction per batch, WAL +
    /// synchronous=FULL like the daemon's log.
    static func rawInsert(path: String, batches: [[String]]) throws -> Duration {
        let db = try Database(path: path)
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL")
        try db.execute(
            "CREATE TABLE raw (lsn INTEGER PRIMARY KEY, source TEXT NOT NULL, event_id TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (source, event_id))")
        let insert = try db.prepare("INSERT INTO raw (source, event_id, body) VALUES (?, ?, ?)")
        let clock = ContinuousClock()
        let start = clock.now
        for lines in batches {
            try db.transaction {
                for line in lines {
                    let json = try JSONParser.parse(line)
                    try insert.run([
                        .text(json["source"]?.stringValue ?? ""), .text(json["event_id"]?.stringValue ?? ""),
                        .blob(json.canonicalBytes),
                    ])
                }
            }
        }
        return clock.now - start
    }

    /// Reads every body of the daemon's `events` table in lsn order.
    static func rawRead(_ path: String) throws -> (Int, Duration) {
        let db = try Database(path: path, readOnly: true)
        let select = try db.prepare("SELECT body FROM events ORDER BY lsn")
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        var sum = 0
        while try select.step() {
            sum &+= select.blob(0)?.count ?? 0
            count += 1
        }
        return (count, clock.now - start)
    }

    /// Empties the stored views (persons, households, links, reviews, decisions, checkpoint) of a
    /// stopped daemon's database, keeping the log, sent states and outbox.
    static func emptyViews(_ path: String) throws {
        let db = try Database(path: path)
        try db.transaction { try ProjectionStore.clearViews(in: db) }
    }

    /// The lsn of the views stored in a database (its `projection_meta` checkpoint), 0 when none.
    static func storedCheckpoint(_ path: String) throws -> Int64 {
        let db = try Database(path: path, readOnly: true)
        return try ProjectionStore.checkpoint(in: db) ?? 0
    }

    static func databasePath(_ state: String) throws -> String {
        let path = state + "/renkei.db"
        guard FileManager.default.fileExists(atPath: path) else { throw BenchError("no database at \(path)") }
        return path
    }

    static func directoryBytes(_ path: String) -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
        guard isDirectory.boolValue else {
            return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        }
        var total = 0
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let name = enumerator?.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            total += (attributes?[.size] as? Int) ?? 0
        }
        return total
    }

    // MARK: - Output

    static func note(_ text: String) { FileHandle.standardError.write(Data("replay: \(text)\n".utf8)) }
    static func seconds(_ duration: Duration) -> String { String(format: "%.2f s", duration.seconds) }
    static func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? String(format: "%.2f×", a / b) : "—" }
    static func int(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        return formatter.string(from: NSNumber(value: Int(value))) ?? String(Int(value))
    }
}
