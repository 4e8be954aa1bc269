import Foundation
import Glibc
import RenkeiCore
import RenkeiSystem

/// `renkeid` launched the way systemd launches it for the ops tests: `NOTIFY_SOCKET` bound by the
/// test, and (unlike ``DaemonHarness``) `WATCHDOG_USEC` set, with notifications time-stamped on arrival.
final class OpsDaemonProcess: @unchecked Sendable {
    /// The temp folder (config, state, sockets, stderr).
    let root: URL
    /// `status_socket`.
    let statusSocket: String
    /// The config file given to `--config`.
    let configFile: URL
    /// The daemon's stderr.
    var stderrFile: URL { root.appendingPathComponent("renkeid.stderr") }
    private let notify: NotifyListener
    private var process: Process?
    private let lock = NSLock()
    private var stamped: [(at: ContinuousClock.Instant, text: String)] = []
    private var seen = 0

    /// Writes a config with `sources` (spool folders) into a fresh temp folder.
    init(sources: [String] = ["resident", "library"], stateDirectory: String? = nil) throws {
        let root = URL(fileURLWithPath: "/tmp/renkei-ops-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("state"), withIntermediateDirectories: true)
        self.root = root
        statusSocket = root.appendingPathComponent("status.sock").path
        configFile = root.appendingPathComponent("renkei.json")
        notify = try NotifyListener(path: root.appendingPathComponent("notify.sock").path)
        try writeConfig(sources: sources, stateDirectory: stateDirectory)
    }

    /// Rewrites the config file with these sources (each with a spool folder).
    func writeConfig(sources: [String], stateDirectory: String? = nil, extra: JSONObject = [:]) throws {
        var sourceConfig = JSONObject()
        for source in sources {
            let spool = root.appendingPathComponent("spool/\(source)")
            try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
            sourceConfig[source] = ["spool": .string(spool.path)]
        }
        var config: JSONObject = [
            "municipality": "131016",
            "state_dir": .string(stateDirectory ?? root.appendingPathComponent("state").path),
            "schemas_dir": .string(TestPaths.schemasDir.path),
            "status_socket": .string(statusSocket),
            "sources": .object(sourceConfig),
            // One delivery lane, so the watchdog's lane check runs (its downstream is a closed
            // loopback port: the lane loops and retries, which must not stop WATCHDOG=1).
            "subscriptions": [
                "probe": ["url": "http://127.0.0.1:9/deltas", "fields": ["uid", "status"]],
            ],
        ]
        for member in extra { config[member.key] = member.value }
        try writeConfigText(String(decoding: JSONValue.object(config).serializedBytes, as: UTF8.self))
    }

    /// Writes `text` as the config file (tests write broken ones on purpose).
    func writeConfigText(_ text: String) throws {
        try Data(text.utf8).write(to: configFile)
    }

    /// Launches renkeid with `WATCHDOG_USEC` (when given) and waits for `READY=1`.
    func start(watchdogUSec: Int? = nil, timeout: Duration = .seconds(30)) async throws {
        let binary = TestPaths.renkeid
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw HarnessError("renkeid not found at \(binary.path): build it first (swift build)")
        }
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: stderrFile)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", configFile.path]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        environment.removeValue(forKey: "WATCHDOG_PID")
        if let watchdogUSec { environment["WATCHDOG_USEC"] = String(watchdogUSec) } else {
            environment.removeValue(forKey: "WATCHDOG_USEC")
        }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        guard try await waitFor("READY=1", count: 1, timeout: timeout) else {
            throw HarnessError("no READY=1 within \(timeout); stderr:\n\(stderrText())")
        }
    }

    /// The process id.
    var pid: Int32 { process?.processIdentifier ?? 0 }

    /// Sends `signal` to the daemon.
    func send(_ signal: Int32) { if let process { kill(process.processIdentifier, signal) } }

    /// Reads new datagrams, stamping each with the time it was first seen.
    func poll() -> [(at: ContinuousClock.Instant, text: String)] {
        let all = notify.poll()
        let now = ContinuousClock.now
        return lock.withLock {
            while seen < all.count {
                stamped.append((now, all[seen]))
                seen += 1
            }
            return stamped
        }
    }

    /// Every datagram assignment line received, in order.
    func lines() -> [String] { poll().flatMap { $0.text.split(separator: "\n").map(String.init) } }

    /// Arrival times of the datagrams carrying `line`.
    func times(of line: String) -> [ContinuousClock.Instant] {
        poll().filter { $0.text.split(separator: "\n").contains { $0 == line } }.map(\.at)
    }

    /// Keeps polling (every 5 ms) for `duration`, so arrival times are accurate to a few ms.
    func watch(for duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            _ = poll()
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Polls (every 5 ms) until `line` has arrived `count` times.
    func waitFor(_ line: String, count: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if times(of: line).count >= count { return true }
            if let process, !process.isRunning { return times(of: line).count >= count }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Waits for the process to exit; its exit status, or `nil` on timeout (then it is killed).
    func waitForExit(timeout: Duration) async throws -> Int32? {
        guard let process else { return nil }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                return nil
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    /// Whether the daemon still runs.
    var isRunning: Bool { process?.isRunning ?? false }

    /// The daemon's stderr so far.
    func stderrText() -> String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// One request on the status socket.
    func request(_ method: String, _ target: String, body: [UInt8] = []) async throws -> (status: Int, json: JSONValue) {
        let reply = try await StatusSocketClient.send(
            socketPath: statusSocket, method: method, target: target, headers: .init(), body: body)
        return (reply.status, (try? JSONParser.parse(reply.body)) ?? .null)
    }

    /// Kills a daemon still running and removes the folder (kept when `keep`, and its path printed).
    func cleanUp(keep: Bool = false) async {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = try? await waitForExit(timeout: .seconds(10))
        }
        if keep { print("ops test files kept in \(root.path)") } else { try? FileManager.default.removeItem(at: root) }
    }
}
