// `renkei-bench deliver`: delivery throughput and latency against a loopback receiver (issue 4).
//
// Phase 1, throughput: N deltas queued while the subscription is paused, then resumed; deltas/s
// until the outbox reports nothing pending (every 2xx recorded in the ledger, durably).
// Phase 2, latency: a steady R events/s for S seconds; per event, the time from the log commit to
// the receiver's 2xx. The commit lies between the replay request being sent and its answer, so both
// bounds are printed. Baseline (same run, same receiver): raw HTTPClient POSTs with the same
// concurrency and no outbox, and the unloaded round trip of one POST.
import Foundation
import Glibc
import RenkeiCore
import RenkeiDaemon
import RenkeiHTTP
import RenkeiStore
import RenkeiSystem
import Synchronization

enum DeliverBench {
    /// The options `renkei-bench deliver` takes.
    static let options: [BenchOptions.Option] = [
        .number("--events", default: 20_000, "deltas queued, then delivered, in the throughput phase"),
        .number("--in-flight", default: 64, "the subscription's max_in_flight and the baseline's concurrency"),
        .number("--rate", default: 1000, "events per second in the latency phase"),
        .number("--seconds", default: 10, "length of the latency phase"),
        // For profiling one phase: the wait is announced on stderr.
        .number("--hold", default: 0, "seconds to wait before the throughput phase and the baseline (perf record -p)"),
        .number("--receiver-threads", default: 1, "threads of the loopback receiver"),
    ]

    static func run(_ arguments: [String]) {
        let options = BenchOptions.parseOrExit(arguments, command: "deliver", options: Self.options)
        let events = options.number("--events")
        let inFlight = options.number("--in-flight")
        let rate = options.number("--rate")
        let seconds = options.number("--seconds")
        let hold = options.number("--hold")
        let receiverThreads = options.number("--receiver-threads")
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await measure(
                    events: events, inFlight: inFlight, rate: rate, seconds: seconds, hold: hold,
                    receiverThreads: receiverThreads)
            } catch {
                FileHandle.standardError.write(Data("renkei-bench deliver: \(error)\n".utf8))
                exit(1)
            }
            done.signal()
        }
        done.wait()
    }

    static func measure(
        events: Int, inFlight: Int, rate: Int, seconds: Int, hold: Int, receiverThreads: Int
    ) async throws {
        let receiver = try BenchReceiver(threads: receiverThreads)
        let root = "/tmp/renkei-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let socket = root + "/status.sock"
        let config: JSONValue = [
            "municipality": "131016", "state_dir": .string(root + "/state"), "status_socket": .string(socket),
            "log_level": "warning", "sources": ["resident": .object([:])],
            "secrets": ["at_rest_key_file": .string(try BenchKeyFile.ensure(in: root))],
            "subscriptions": [
                "bench": [
                    "url": .string(receiver.url), "fields": ["uid", "name", "name_kana", "address", "status"],
                    "max_in_flight": .integer(Int64(inFlight)), "timeout_s": 10,
                ]
            ],
        ]
        let service = try await RenkeiService(
            configuration: try Configuration(json: config, file: "bench.json"),
            logger: Logger(label: "bench", minimumLevel: .warning))
        try service.start()
        let control = UnixHTTPClient(socketPath: socket, timeout: .seconds(120))

        // Phase 1: throughput.
        _ = try await blocking { try control.request(method: "POST", path: "/v1/subscriptions/bench/pause") }
        var lines: [String] = []
        for i in 0..<events { lines.append(registered(i)) }
        for chunk in stride(from: 0, to: lines.count, by: 5000) {
            let body = Array((lines[chunk..<min(chunk + 5000, lines.count)].joined(separator: "\n") + "\n").utf8)
            _ = try await blocking { try control.request(method: "POST", path: "/v1/replay", body: body) }
        }
        try await announce("throughput", hold: hold)
        let start = ContinuousClock.now
        let cpuStart = cpuSeconds()
        _ = try await blocking { try control.request(method: "POST", path: "/v1/subscriptions/bench/resume") }
        while receiver.count < events { try await Task.sleep(for: .milliseconds(5)) }
        while true {
            let status = try await blocking { try control.request(method: "GET", path: "/v1/status") }
            let backlog = (try? JSONParser.parse(status.body))?["subscriptions"]?["bench"]?["backlog"]?.integerValue ?? -1
            if backlog == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - start
        let cpuPerDelta = (cpuSeconds() - cpuStart) / Double(events) * 1e6
        announceEnd("throughput", hold: hold)
        let throughput = Double(events) / elapsed.seconds
        let received = receiver.count

        // Phase 2: latency at a steady rate (renames of the persons above, 10 ms batches).
        let timing = Mutex<[String: (sent: ContinuousClock.Instant, acked: ContinuousClock.Instant)]>([:])
        let perTick = max(1, rate / 100)
        let ticks = seconds * 100
        let feederStart = ContinuousClock.now
        try await blocking {
            for tick in 0..<ticks {
                let due = feederStart + .milliseconds(tick * 10)
                let wait = due - ContinuousClock.now
                if wait > .zero { usleep(UInt32(wait.seconds * 1_000_000)) }
                var batch: [String] = []
                var ids: [String] = []
                for k in 0..<perTick {
                    let n = tick * perTick + k
                    ids.append("L-\(n)")
                    batch.append(renamed(n, subject: n % events))
                }
                let sent = ContinuousClock.now
                _ = try control.request(method: "POST", path: "/v1/replay", body: Array((batch.joined(separator: "\n") + "\n").utf8))
                let acked = ContinuousClock.now
                timing.withLock { for id in ids { $0[id] = (sent, acked) } }
            }
        }
        let total = ticks * perTick
        let deadline = ContinuousClock.now + .seconds(30)
        while receiver.latencyCount < total, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let arrivals = receiver.arrivals
        var fromAck: [Double] = []
        var fromSend: [Double] = []
        for (id, times) in timing.withLock({ $0 }) {
            guard let at = arrivals[id] else { continue }
            fromAck.append(max(0, (at.instant - times.acked).seconds * 1000))
            fromSend.append((at.instant - times.sent).seconds * 1000)
        }
        await service.stop(deadline: .seconds(5))
        // recorded_at is read just before the commit's fsync (ms precision): arrival − recorded_at is
        // commit→2xx plus the fsync, without the ingest request around it.
        var fromRecorded: [Double] = []
        let log = try Database(path: root + "/state/renkei.db", readOnly: true)
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var after = Int64(events)
        while true {
            let chunk = try EventLog.read(in: log, after: after, limit: 5000)
            guard let last = chunk.last else { break }
            for logged in chunk {
                guard let at = arrivals[logged.event.eventID], let recorded = parser.date(from: logged.recordedAt) else { continue }
                fromRecorded.append((at.wall - recorded.timeIntervalSince1970) * 1000)
            }
            after = last.lsn
        }

        // Baseline: the same receiver, raw HTTPClient POSTs (no outbox, no ledger).
        let client = HTTPClient(maxConnections: inFlight)
        let body = Array(lines[0].utf8)
        try await announce("baseline", hold: hold)
        let rawStart = ContinuousClock.now
        let rawCPUStart = cpuSeconds()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    for _ in stride(from: worker, to: events, by: inFlight) {
                        _ = await client.send(OutboundRequest(url: receiver.url, body: body))
                    }
                }
            }
        }
        let raw = Double(events) / (ContinuousClock.now - rawStart).seconds
        let rawCPUPerRequest = (cpuSeconds() - rawCPUStart) / Double(events) * 1e6
        announceEnd("baseline", hold: hold)
        var single: [Double] = []
        for _ in 0..<2000 {
            let t = ContinuousClock.now
            _ = await client.send(OutboundRequest(url: receiver.url, body: body))
            single.append((ContinuousClock.now - t).seconds * 1000)
        }
        await client.shutdown()
        receiver.stop()

        print("deliver — loopback receiver, max_in_flight \(inFlight), one subscription")
        print(String(format: "  throughput: %d deltas in %.2f s = %.0f deltas/s (target ≥ 10000); receiver saw %d", events, elapsed.seconds, throughput, received))
        print(String(format: "  baseline raw HTTPClient POST loop: %.0f req/s; ratio outbox/raw = %.2f", raw, throughput / raw))
        print(String(format: "  CPU per delta (whole process: daemon, curl, receiver, kernel): outbox %.0f µs, raw %.0f µs; machine load %@", cpuPerDelta, rawCPUPerRequest, loadAverage()))
        print("  latency at \(rate) events/s for \(seconds) s, \(fromAck.count)/\(total) delivered:")
        print(String(format: "    commit→2xx, from recorded_at (commit start):  p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 ≤ 50 ms; %d events)", pct(fromRecorded, 50), pct(fromRecorded, 99), fromRecorded.max() ?? 0, fromRecorded.count))
        print(String(format: "    2xx after the replay answer (lower bound):     p50 %.1f ms, p99 %.1f ms, max %.1f ms", pct(fromAck, 50), pct(fromAck, 99), fromAck.max() ?? 0))
        print(String(format: "    ingest request sent→2xx (upper bound):         p50 %.1f ms, p99 %.1f ms, max %.1f ms", pct(fromSend, 50), pct(fromSend, 99), fromSend.max() ?? 0))
        print(String(format: "    baseline one POST round trip, unloaded:        p50 %.2f ms, p99 %.2f ms", pct(single, 50), pct(single, 99)))
    }

    /// With `--hold S`: says on stderr that `phase` starts in S seconds, then waits.
    static func announce(_ phase: String, hold: Int) async throws {
        guard hold > 0 else { return }
        FileHandle.standardError.write(Data("renkei-bench: pid \(getpid()): \(phase) starts in \(hold) s\n".utf8))
        try await Task.sleep(for: .seconds(hold))
    }

    static func announceEnd(_ phase: String, hold: Int) {
        guard hold > 0 else { return }
        FileHandle.standardError.write(Data("renkei-bench: pid \(getpid()): \(phase) ended\n".utf8))
    }

    /// User + system CPU seconds of this process so far (every thread: daemon, curl, receiver).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The 1-minute load average, which says how much the other users of the machine took.
    static func loadAverage() -> String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "?" }
        return String(format: "%.1f", loads[0])
    }

    static func pct(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p / 100).rounded(.up)) - 1)]
    }

    static func registered(_ i: Int) -> String {
        "{\"source\":\"resident\",\"event_id\":\"B-\(i)\",\"type\":\"resident.registered\",\"occurred_at\":\"2026-04-01T09:00:00+09:00\",\"subject\":\"\(100_000_000 + i)\",\"data\":{\"reason\":\"move_in\",\"name\":\"配信 \(i)\",\"name_kana\":\"ハイシン\",\"birth_date\":\"1980-01-01\",\"sex\":\"unknown\",\"address\":\"東京都千代田区九段南1丁目\(i % 50 + 1)番\",\"postal_code\":\"102-0074\",\"household_no\":\"H\(i)\",\"relationship\":\"世帯主\"}}"
    }

    static func renamed(_ n: Int, subject: Int) -> String {
        "{\"source\":\"resident\",\"event_id\":\"L-\(n)\",\"type\":\"resident.name_changed\",\"occurred_at\":\"2026-04-02T09:00:00+09:00\",\"subject\":\"\(100_000_000 + subject)\",\"data\":{\"name\":\"改名 \(n)\"}}"
    }

    /// Runs blocking work on its own thread (the cooperative pool has only two here).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
