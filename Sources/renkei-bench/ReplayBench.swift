// `renkei-bench replay`: a synthetic municipality replayed into a fresh `renkeid` (issue 7).
//
// Residents from `SyntheticPopulation` (households, twins, foreign residents) become events across
// the four sources: registrations, key-linked tax assessments, library patrons that must be matched,
// childcare records, then moves, corrections and 更正 until the event count is reached. They are
// POSTed to `/v1/replay` in batches. Measured: ingest events/s (durable, acknowledged), projection
// catch-up events/s, `POST /v1/rebuild` events/s, time from spawn to `READY=1` on a restart over
// that log, peak RSS (VmHWM) of each daemon, and database bytes per event. Baselines in the same
// run: the same canonical bytes inserted raw into a SQLite table (one transaction per batch), and a
// raw sequential read of the daemon's `events` table.
import Foundation
import Glibc
import RenkeiCore
import RenkeiStore
import RenkeiSystem

enum ReplayBench {
    static func run(_ options: [String]) {
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let index = options.firstIndex(of: name), index + 1 < options.count else { return fallback }
            return Int(options[index + 1]) ?? fallback
        }
        let residents = option("--residents", 100_000)
        let events = option("--events", residents * 10)
        let batch = option("--batch", 10_000)
        do {
            try measure(residents: residents, events: events, batch: batch, keep: options.contains("--keep"))
        } catch {
            FileHandle.standardError.write(Data("renkei-bench replay: \(error)\n".utf8))
            exit(1)
        }
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func measure(residents: Int, events: Int, batch: Int, keep: Bool) throws {
        let root = "/tmp/renkei-bench-replay-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: root) } }
        let daemon = try BenchDaemon(root: root)

        // 1. Generate the log (not timed as ingest), in batches of JSONL.
        let clock = ContinuousClock()
        var start = clock.now
        let batches = SyntheticLog.batches(residents: residents, events: events, batch: batch)
        let total = batches.reduce(0) { $0 + $1.count }
        let bytes = batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.utf8.count + 1 } }
        note("generated \(total) events (\(bytes / 1_048_576) MiB JSONL) in \(seconds(clock.now - start))")

        // 2. Ingest into a fresh daemon (projection runs alongside).
        try daemon.start()
        start = clock.now
        var accepted: Int64 = 0
        var rejected = 0
        for lines in batches {
            let reply = try daemon.request("POST", "/v1/replay", body: Array((lines.joined(separator: "\n") + "\n").utf8))
            guard reply.status == 200 else { throw BenchError("replay answered \(reply.status): \(reply.text.prefix(300))") }
            let json = try JSONParser.parse(reply.body)
            accepted += json["accepted"]?.integerValue ?? 0
            // The synthetic library records carry the date errors sources make (e.g. 2001-13-05): rejected, counted.
            rejected += json["rejected"]?.arrayValue?.count ?? 0
        }
        let ingest = clock.now - start
        note("ingested \(accepted), rejected \(rejected) (invalid dates in synthetic patron records) in \(seconds(ingest))")
        let caughtUp = try daemon.waitUntilCaughtUp(timeout: .seconds(3600))
        let catchUp = clock.now - start
        note("projection caught up (lsn \(caughtUp)) \(seconds(catchUp)) after the first batch")

        // 3. Rebuild.
        start = clock.now
        let rebuildReply = try daemon.request("POST", "/v1/rebuild")
        guard (200..<300).contains(rebuildReply.status) else { throw BenchError("rebuild: \(rebuildReply.text)") }
        _ = try daemon.waitUntilCaughtUp(timeout: .seconds(3600), rebuild: true)
        let rebuild = clock.now - start
        note("rebuilt in \(seconds(rebuild))")
        let rssFirst = daemon.peakRSS()

        // 4. Restart over that log: spawn → READY=1.
        try daemon.stop()
        let ready = try daemon.start()
        let head = try daemon.waitUntilCaughtUp(timeout: .seconds(3600))
        let rssRestart = daemon.peakRSS()
        try daemon.stop()
        let dbBytes = directoryBytes(root + "/state")

        // 5. Baselines: raw read of the daemon's log; raw insert of the same canonical bytes.
        let dbPath = try databasePath(root + "/state")
        let (readCount, readTime) = try rawRead(dbPath)
        let insertTime = try rawInsert(path: root + "/baseline.sqlite", batches: batches)

        func rate(_ count: Int, _ duration: Duration) -> Double { Double(count) / max(duration.seconds, 1e-9) }
        let ingestRate = rate(total, ingest)
        let catchUpRate = rate(total, catchUp)
        let rebuildRate = rate(total, rebuild)
        let insertRate = rate(total, insertTime)
        let readRate = rate(readCount, readTime)
        print("")
        print("residents \(residents), events \(total) (head_lsn \(head)), batch \(batch) lines")
        print("| measure | Renkei | baseline | ratio | target |")
        print("|---|---:|---:|---:|---|")
        print("| ingest (replay, durable) | \(Int(ingestRate)) ev/s | \(Int(insertRate)) ev/s raw SQLite insert | \(ratio(ingestRate, insertRate)) | — |")
        print("| projection catch-up | \(Int(catchUpRate)) ev/s | \(Int(readRate)) ev/s raw log read | \(ratio(catchUpRate, readRate)) | — |")
        print("| rebuild | \(Int(rebuildRate)) ev/s | \(Int(readRate)) ev/s raw log read | \(ratio(rebuildRate, readRate)) | ≥ 200000 ev/s: \(rebuildRate >= 200_000 ? "met" : "missed") |")
        print("| restart to READY=1 | \(String(format: "%.3f", ready.seconds)) s | — | — | ≤ 1 s: \(ready.seconds <= 1 ? "met" : "missed") |")
        let peak = max(rssFirst, rssRestart)
        print("| peak RSS (ingest+rebuild / restart) | \(rssFirst / 1024) MiB / \(rssRestart / 1024) MiB | — | — | ≤ 300 MiB: \(peak <= 300 * 1024 ? "met" : "missed") |")
        print("| database size | \(dbBytes / 1_048_576) MiB, \(dbBytes / max(total, 1)) B/event | \(bytes / max(total, 1)) B/event JSONL | \(ratio(Double(dbBytes), Double(bytes))) | — |")
    }

    // MARK: - Baselines

    /// Inserts each batch's lines as (source, event_id, body) rows, one transaction per batch, WAL + NORMAL.
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

    static func databasePath(_ state: String) throws -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
        for file in files.sorted() where !file.hasSuffix("-wal") && !file.hasSuffix("-shm") {
            let path = state + "/" + file
            if let db = try? Database(path: path, readOnly: true),
                let statement = try? db.prepare("SELECT count(*) FROM events"), (try? statement.step()) == true
            {
                return path
            }
        }
        throw BenchError("no database with an events table in \(state): \(files)")
    }

    static func directoryBytes(_ path: String) -> Int {
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
}
