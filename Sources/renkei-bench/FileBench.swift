// `renkei-bench file` (issue 17): file subscription throughput — deltas written durably into CSV
// CP932 files through an output mapping — beside a plain write+fsync loop of the same bytes.
//
// N registrations are replayed while the subscription is paused (so every delta is planned first),
// then it is resumed; deltas/s until `/v1/status` reports nothing undelivered (each file synced,
// journalled, renamed, the folder synced, the done marker written, the deltas marked delivered and
// the ledger written, durably). Baselines (same run, same disk): the published files' bytes written
// again, file by file, each with open + write + fsync + close — the cost of the bytes alone; and the
// same records each made durable on its own (write + fsync per record) — a writer without batching.
import Foundation
import Glibc
import RenkeiCore
import RenkeiDaemon
import RenkeiSystem

enum FileBench {
    /// The options `renkei-bench file` takes.
    static let options: [BenchOptions.Option] = [
        .number("--events", default: 100_000, "deltas queued, then written"),
        .number("--rows-per-file", default: 10_000, "the subscription's cut_every_rows"),
        .number("--per-record", default: 2000, "records of the write+fsync-per-record baseline"),
    ]

    static func run(_ arguments: [String]) {
        let options = BenchOptions.parseOrExit(arguments, command: "file", options: Self.options)
        let events = options.number("--events")
        let rowsPerFile = max(1, options.number("--rows-per-file"))
        let perRecord = max(1, options.number("--per-record"))
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await measure(events: events, rowsPerFile: rowsPerFile, perRecord: perRecord)
            } catch {
                FileHandle.standardError.write(Data("renkei-bench file: \(error)\n".utf8))
                exit(1)
            }
            done.signal()
        }
        done.wait()
    }

    static func measure(events: Int, rowsPerFile: Int, perRecord: Int) async throws {
        let root = "/tmp/renkei-file-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        let out = root + "/out"
        let baselineDir = root + "/baseline"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: baselineDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let mapping = repository.appendingPathComponent("Tests/Fixtures/file-subscription/out-town-life.json").path
        let socket = root + "/status.sock"
        let config: JSONValue = [
            "municipality": "131016", "state_dir": .string(root + "/state"), "status_socket": .string(socket),
            "log_level": "warning", "sources": ["resident": .object([:])],
            "secrets": ["at_rest_key_file": .string(try BenchKeyFile.ensure(in: root))],
            "subscriptions": [
                "bench": [
                    "kinds": ["person.created", "person.changed"],
                    "fields": ["uid", "status", "name", "name_kana", "birth_date", "sex", "address", "postal_code"],
                    "file": [
                        "dir": .string(out), "format": "csv", "encoding": "cp932", "mapping": .string(mapping),
                        "cut_every_rows": .integer(Int64(rowsPerFile)), "cut_every_s": 1, "done_marker": true,
                    ],
                ]
            ],
        ]
        let service = try await RenkeiService(
            configuration: try Configuration(json: config, file: "bench.json"),
            logger: Logger(label: "bench", minimumLevel: .warning))
        try service.start()
        let control = UnixHTTPClient(socketPath: socket, timeout: .seconds(120))

        _ = try await DeliverBench.blocking { try control.request(method: "POST", path: "/v1/subscriptions/bench/pause") }
        var lines: [String] = []
        for i in 0..<events { lines.append(DeliverBench.registered(i)) }
        for chunk in stride(from: 0, to: lines.count, by: 5000) {
            let body = Array((lines[chunk..<min(chunk + 5000, lines.count)].joined(separator: "\n") + "\n").utf8)
            _ = try await DeliverBench.blocking { try control.request(method: "POST", path: "/v1/replay", body: body) }
        }
        func counts() async throws -> JSONValue {
            let status = try await DeliverBench.blocking { try control.request(method: "GET", path: "/v1/status") }
            return (try? JSONParser.parse(status.body))?["subscriptions"]?["bench"] ?? .null
        }
        // Every delta planned before the clock starts.
        while try await counts()["backlog"]?.integerValue != Int64(events) { try await Task.sleep(for: .milliseconds(20)) }

        let load = DeliverBench.loadAverage()
        let start = ContinuousClock.now
        let cpuStart = DeliverBench.cpuSeconds()
        _ = try await DeliverBench.blocking { try control.request(method: "POST", path: "/v1/subscriptions/bench/resume") }
        while try await counts()["backlog"]?.integerValue != 0 { try await Task.sleep(for: .milliseconds(5)) }
        let elapsed = ContinuousClock.now - start
        let cpuPerDelta = (DeliverBench.cpuSeconds() - cpuStart) / Double(events) * 1e6
        let delivered = try await counts()["delivered"]?.integerValue ?? -1
        await service.stop(deadline: .seconds(5))

        // Baseline: the same bytes, file by file, open + write + fsync + close.
        let published = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".csv") }.sorted()
        var contents: [[UInt8]] = []
        for name in published { contents.append(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/" + name)))) }
        let bytes = contents.reduce(0) { $0 + $1.count }
        let baselineStart = ContinuousClock.now
        for (index, file) in contents.enumerated() {
            try DurableFile.writeSynced(file, dir: baselineDir, name: "plain-\(index).csv")
        }
        let baseline = ContinuousClock.now - baselineStart
        // Second baseline: each record made durable on its own (write + fsync per record, one file),
        // as a writer without batching would; the first `perRecord` records, as a rate.
        var records: [[UInt8]] = []
        for file in contents {
            var start = file.startIndex
            var index = file.startIndex
            while index < file.endIndex, records.count < perRecord {
                if file[index] == 0x0A {
                    records.append(Array(file[start...index]))
                    start = index + 1
                }
                index += 1
            }
        }
        let recordFile = try AppendingFile(dir: baselineDir, name: "per-record.csv")
        let perRecordStart = ContinuousClock.now
        for record in records {
            try recordFile.append(record)
            try recordFile.sync()
        }
        let perRecordElapsed = ContinuousClock.now - perRecordStart
        let perRecordRate = Double(records.count) / perRecordElapsed.seconds

        let renkeiRate = Double(events) / elapsed.seconds
        let baselineRate = Double(events) / baseline.seconds
        print("")
        print("deltas \(events) (delivered \(delivered)), \(published.count) files of ≤ \(rowsPerFile) rows, "
            + "\(bytes / 1000) kB CP932 CSV; load average \(load) at the start; CPU \(String(format: "%.0f", cpuPerDelta)) µs per delta")
        print("")
        print("| measure | Renkei | baseline (same run) | ratio |")
        print("|---|---:|---:|---:|")
        print(String(format: "| deltas/s written durably (file subscription) | %.0f | %.0f (write + fsync of the same bytes, file by file) | %.3f× |",
                     renkeiRate, baselineRate, renkeiRate / baselineRate))
        print(String(format: "| deltas/s written durably (file subscription) | %.0f | %.0f (write + fsync per record, first %d records) | %.2f× |",
                     renkeiRate, perRecordRate, records.count, renkeiRate / perRecordRate))
        print(String(format: "| wall time (s) | %.2f | %.3f (file by file) | |", elapsed.seconds, baseline.seconds))
    }
}
