import Foundation
import Glibc
import RenkeiCore
import Testing

/// `kill -9` at random moments while ≥ 50,000 events are ingested from spool files, restarting
/// each time: every event exactly once in the log, the chain verifies, no spool file left unread.
@Suite("Crash during spool ingest")
struct CrashIngestTests {
    static let filesPerSource = 100
    static let linesPerFile = 500
    /// Resident events only: they link by key. Library patrons are scored against every person
    /// (matching), which made a debug build take over 5 minutes for 25,000 of them; matching speed
    /// is not what this test is about.
    static let sources = ["resident"]
    static var total: Int { sources.count * filesPerSource * linesPerFile }
    static let kills = 5
    /// How long the last run may take to drain the spools. A debug build of renkeid ingested about
    /// 300 events/s from spools at the time of writing (about 3 minutes for all 50,000); a release
    /// build is expected to be far faster. The test records its timings.
    static let finishTimeout: Duration = .seconds(300)

    /// One spool file's text: `linesPerFile` valid events of `source`, numbered from `first`.
    static func fileText(source: String, first: Int) -> String {
        var text = ""
        text.reserveCapacity(linesPerFile * 400)
        for n in first..<(first + linesPerFile) {
            let day = String(format: "%02d", n % 28 + 1)
            let month = String(format: "%02d", n % 12 + 1)
            if source == "resident" {
                text +=
                    #"{"source":"resident","event_id":"CR-R-\#(n)","type":"resident.registered","#
                    + #""occurred_at":"2026-04-01T09:00:00+09:00","subject":"9\#(String(format: "%08d", n))","#
                    + #""data":{"reason":"move_in","name":"試験 太郎\#(n)","name_kana":"シケン タロウ","#
                    + #""birth_date":"1970-\#(month)-\#(day)","sex":"male","address":"東京都千代田区九段南1丁目\#(n)番","#
                    + #""household_no":"HC\#(String(format: "%07d", n))","relationship":"世帯主"}}"# + "\n"
            } else {
                text +=
                    #"{"source":"library","event_id":"CR-L-\#(n)","type":"library.patron_registered","#
                    + #""occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-C\#(n)","#
                    + #""data":{"name":"Patron \#(n)","birth_date":"2001-\#(month)-\#(day)","#
                    + #""address":"神奈川県横浜市中区本町\#(n)番地"}}"# + "\n"
            }
        }
        return text
    }

    /// The spool files not yet processed (anything but `done/`, `rejected/` and dot-files).
    static func pendingFiles(_ daemon: DaemonHarness) -> [String] {
        sources.flatMap { source -> [String] in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: daemon.spool(source).path)) ?? []
            return names.filter { !$0.hasPrefix(".") && $0 != "done" && $0 != "rejected" }.map { "\(source)/\($0)" }
        }
    }

    @Test(.timeLimit(.minutes(7)))
    func crashDuringSpoolIngest() async throws {
        try await withDaemon(sources: Self.sources) { daemon in
            // Every file, in name order per source; 60 % written before the first start, the rest
            // dropped in between crashes, as a source keeps sending while the daemon restarts.
            var files: [(source: String, name: String, first: Int)] = []
            for source in Self.sources {
                for f in 0..<Self.filesPerSource {
                    files.append((source, String(format: "crash-%04d.jsonl", f), f * Self.linesPerFile + 1))
                }
            }
            files.sort { ($0.name, $0.source) < ($1.name, $1.source) }
            let upfront = files.count * 6 / 10
            for file in files[..<upfront] {
                try daemon.writeSpoolFile(
                    source: file.source, name: file.name, text: Self.fileText(source: file.source, first: file.first))
            }
            var later = Array(files[upfront...])

            var generator = SystemRandomNumberGenerator()
            for round in 1...Self.kills {
                try await daemon.start()
                let delay = Int.random(in: 200...1500, using: &generator)
                try await Task.sleep(for: .milliseconds(delay))
                try await daemon.kill9()
                let batch = later.prefix(later.count / (Self.kills - round + 1) + 1)
                for file in batch {
                    try daemon.writeSpoolFile(
                        source: file.source, name: file.name,
                        text: Self.fileText(source: file.source, first: file.first))
                }
                later.removeFirst(batch.count)
            }
            #expect(later.isEmpty)

            let drainStart = ContinuousClock.now
            try await daemon.start()
            let finished = try await daemon.waitUntil(timeout: Self.finishTimeout, interval: .milliseconds(500)) {
                guard Self.pendingFiles(daemon).isEmpty else { return false }
                // Drained, and the views caught up with the log (after the last start they catch up in
                // the background, and person reads answer 503 until then).
                let status = try await daemon.status()
                return status["head_lsn"]?.integerValue == Int64(Self.total)
                    && status["projection_lsn"]?.integerValue == Int64(Self.total)
                    && (status["projection_state"]?.stringValue ?? "ready") == "ready"
            }
            let status = try await daemon.status()
            print("crashDuringSpoolIngest: after \(Self.kills) kills, the last run drained the spools in \(ContinuousClock.now - drainStart)")
            #expect(
                finished,
                "not finished after \(Self.finishTimeout): pending \(Self.pendingFiles(daemon).prefix(5)), status \(status.serializedString)"
            )
            #expect(status["head_lsn"]?.integerValue == Int64(Self.total), "status: \(status.serializedString)")
            guard finished else {
                // The rest would only repeat the same failure, slowly.
                try await daemon.stop()
                return
            }
            for source in Self.sources {
                let counts = status.at("sources", source) ?? .null
                #expect(
                    counts["events"]?.integerValue == Int64(Self.filesPerSource * Self.linesPerFile),
                    "\(source) counts: \(counts.serializedString)")
                let rejectedDir = daemon.spool(source).appendingPathComponent("rejected").path
                let rejected = (try? FileManager.default.contentsOfDirectory(atPath: rejectedDir)) ?? []
                #expect(rejected.isEmpty, "no line of these files is bad, yet rejected/ holds \(rejected)")
                let done =
                    (try? FileManager.default.contentsOfDirectory(
                        atPath: daemon.spool(source).appendingPathComponent("done").path)) ?? []
                #expect(done.count == Self.filesPerSource, "\(source)/done holds \(done.count) files")
            }
            #expect(Self.pendingFiles(daemon).isEmpty, "unread spool files: \(Self.pendingFiles(daemon))")

            let verify = try await daemon.get("/v1/verify").json
            #expect(verify["ok"]?.boolValue == true, "verify: \(verify.serializedString)")
            #expect(verify["checked"]?.integerValue == Int64(Self.total), "verify: \(verify.serializedString)")

            // Spot checks: a sample of subjects each resolve to a person.
            for n in (0..<40).map({ _ in Int.random(in: 1...(Self.filesPerSource * Self.linesPerFile)) }) {
                for source in Self.sources {
                    let subject = source == "resident" ? "9\(String(format: "%08d", n))" : "LIB-C\(n)"
                    let person = try await daemon.get("/v1/persons?source=\(source)&subject=\(subject)")
                    #expect(person.status == 200, "\(source) subject \(subject): \(person.status) \(person.text)")
                }
            }
            let exit = try await daemon.stop()
            #expect(exit == 0, "renkeid exit status after SIGTERM")
        }
    }
}
