import Foundation
import Glibc
import RenkeiCore
import RenkeiSystem

/// Runs the built `renkeid` in a temp folder and talks to it only through the contract:
/// spool folders, the status socket, `NOTIFY_SOCKET` (as systemd would: with `WATCHDOG_USEC` when
/// asked, notifications time-stamped on arrival) and signals.
///
/// Each test makes its own harness; `stop()` or `kill9()` ends the process, and the temp folder is
/// removed at `cleanUp()` unless the test failed (`keepFiles`), so its stderr can be read.
actor DaemonHarness {
    /// One status-socket reply.
    struct Reply: Sendable {
        /// The HTTP status.
        var status: Int
        /// The body bytes.
        var body: [UInt8]
        /// The body as text.
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as JSON (`.null` when it is not JSON, so assertions fail readably).
        var json: JSONValue { JSONValue.parse(bytes: body) ?? .null }
    }

    /// The four sources of the contract, each with a spool folder in the temp dir.
    static let defaultSources = ["resident", "tax", "childcare", "library"]

    /// One subscription whose receiver is a closed loopback port: its delivery lane runs and keeps
    /// retrying (the watchdog checks every lane is turning; its outbox writes add load to the log).
    static let unreachableSubscription: JSONObject = [
        "probe": ["url": "http://127.0.0.1:9/deltas", "fields": ["uid", "status"]],
    ]

    /// The temp folder holding config, state, spools, sockets and the daemon's stderr.
    let root: URL
    /// `status_socket`.
    let statusSocket: String
    /// The written config file.
    let configFile: URL
    /// Every status-socket reply body so far (checked for leaked `my_number`s).
    private(set) var replyLog: [String] = []
    /// How many times the daemon was launched.
    private(set) var launches = 0

    private let notify: NotifyListener
    private var process: Process?
    private var stderrHandle: FileHandle?

    /// Creates the temp folder and writes the config.
    /// - Parameters:
    ///   - sources: source names; each gets `spool/<name>`.
    ///   - subscriptions: the `subscriptions` object of the config, as the test wants it.
    init(sources: [String] = DaemonHarness.defaultSources, subscriptions: JSONObject = [:]) throws {
        // A short path: status.sock must fit sun_path (108 bytes).
        let base = URL(fileURLWithPath: "/tmp", isDirectory: true)
        let root = base.appendingPathComponent("renkei-it-\(UUID().uuidString.prefix(8))", isDirectory: true)
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("state"), withIntermediateDirectories: true)
        var sourceConfig = JSONObject()
        for source in sources {
            let spool = root.appendingPathComponent("spool/\(source)")
            try fm.createDirectory(at: spool, withIntermediateDirectories: true)
            sourceConfig[source] = ["spool": .string(spool.path)]
        }
        self.root = root
        self.statusSocket = root.appendingPathComponent("status.sock").path
        self.configFile = root.appendingPathComponent("renkei.json")
        try Self.writeKeyFile(root.appendingPathComponent("at-rest.key").path)
        let config: JSONValue = [
            "municipality": "131016",
            "state_dir": .string(root.appendingPathComponent("state").path),
            "schemas_dir": .string(TestPaths.schemasDir.path),
            "status_socket": .string(statusSocket),
            "sources": .object(sourceConfig),
            "subscriptions": .object(subscriptions),
            "secrets": ["at_rest_key_file": .string(root.appendingPathComponent("at-rest.key").path)],
        ]
        try Data(config.serializedBytes).write(to: configFile)
        self.notify = try NotifyListener(path: root.appendingPathComponent("notify.sock").path)
    }

    // MARK: - Files

    /// The spool folder of `source`.
    nonisolated func spool(_ source: String) -> URL { root.appendingPathComponent("spool/\(source)") }

    /// The daemon's stderr so far (every launch appended).
    nonisolated var stderrFile: URL { root.appendingPathComponent("renkeid.stderr") }

    /// The daemon's stderr text so far.
    nonisolated func stderrText() -> String {
        (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
    }

    /// Writes a file for the daemon to pick up, as a source must: `.name.tmp`, then `rename(2)`.
    nonisolated func writeSpoolFile(source: String, name: String, text: String) throws {
        let dir = spool(source)
        let temp = dir.appendingPathComponent(".\(name).tmp")
        try Data(text.utf8).write(to: temp)
        guard rename(temp.path, dir.appendingPathComponent(name).path) == 0 else {
            throw HarnessError("rename \(temp.path): errno \(errno)")
        }
    }

    /// The at-rest key file the config names (`secrets.at_rest_key_file`), written by `init`.
    nonisolated var atRestKeyFile: String { root.appendingPathComponent("at-rest.key").path }

    /// Writes a new at-rest key file (32 random bytes as base64, mode 0600) at `path`, replacing any.
    nonisolated static func writeKeyFile(_ path: String) throws {
        var key = [UInt8](repeating: 0, count: 32)
        for i in key.indices { key[i] = UInt8.random(in: 0...255) }
        try Data((Data(key).base64EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// Writes a secret file `whsec_<base64 key>` and returns its path and text.
    nonisolated func writeSecret(name: String) throws -> (path: String, text: String) {
        var key = [UInt8](repeating: 0, count: 32)
        for i in key.indices { key[i] = UInt8.random(in: 0...255) }
        let text = "whsec_" + Data(key).base64EncodedString() + "\n"
        let url = root.appendingPathComponent("secret-\(name)")
        try Data(text.utf8).write(to: url)
        return (url.path, text)
    }

    /// Rewrites the config's `subscriptions` (before `start()`, or before a SIGHUP reload).
    func setSubscriptions(_ subscriptions: JSONObject) throws {
        try updateConfig { $0["subscriptions"] = .object(subscriptions) }
    }

    /// Rewrites the config's `sources`, each with a spool folder (created if missing).
    func setSources(_ sources: [String]) throws {
        var sourceConfig = JSONObject()
        for source in sources {
            try FileManager.default.createDirectory(at: spool(source), withIntermediateDirectories: true)
            sourceConfig[source] = ["spool": .string(spool(source).path)]
        }
        try updateConfig { $0["sources"] = .object(sourceConfig) }
    }

    /// Reads the config file, lets `edit` change it, and writes it back.
    func updateConfig(_ edit: (inout JSONObject) -> Void) throws {
        guard let data = FileManager.default.contents(atPath: configFile.path),
            var config = JSONValue.parse(bytes: Array(data))?.objectValue
        else { throw HarnessError("cannot read back \(configFile.path)") }
        edit(&config)
        try writeConfigText(JSONValue.object(config).serializedString)
    }

    /// Writes `text` as the config file as it is (tests write broken ones on purpose).
    nonisolated func writeConfigText(_ text: String) throws {
        try Data(text.utf8).write(to: configFile)
    }

    // MARK: - Process

    /// Whether the daemon process is running.
    var isRunning: Bool { process?.isRunning ?? false }

    /// Launches `renkeid --config …` and waits (bounded) for `READY=1` on the notify socket.
    /// - Parameters:
    ///   - watchdogUSec: `WATCHDOG_USEC` as systemd sets it for `WatchdogSec=`; nil: no watchdog.
    ///   - timeout: how long to wait for `READY=1`.
    ///   - umask: start the daemon under this file-creation mask (octal text, e.g. `"000"`), through
    ///     `sh -c 'umask …; exec renkeid …'`, so the same pid is the daemon; nil: the test's own.
    /// - Throws: when the binary is missing, the daemon exits, or it is not ready in `timeout`.
    func start(watchdogUSec: Int? = nil, timeout: Duration = .seconds(30), umask: String? = nil) async throws {
        guard process == nil || process?.isRunning == false else { throw HarnessError("renkeid is already running") }
        let binary = TestPaths.renkeid
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw HarnessError("renkeid not found at \(binary.path): build it (swift build) or set RENKEI_BIN_DIR")
        }
        notify.reset()
        if !FileManager.default.fileExists(atPath: stderrFile.path) {
            _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: stderrFile)
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", configFile.path]
        if let umask {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", binary.path, "--config", configFile.path]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        if let watchdogUSec { environment["WATCHDOG_USEC"] = String(watchdogUSec) } else {
            environment.removeValue(forKey: "WATCHDOG_USEC")
        }
        environment.removeValue(forKey: "WATCHDOG_PID")
        environment.removeValue(forKey: "LISTEN_FDS")
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        self.stderrHandle = handle
        launches += 1

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !notify.hasReceived("READY=1") {
            if !process.isRunning {
                throw HarnessError(
                    "renkeid exited with \(process.terminationStatus) before READY=1; stderr:\n\(stderrTail())")
            }
            if clock.now >= deadline {
                throw HarnessError("renkeid sent no READY=1 within \(timeout); stderr:\n\(stderrTail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status (0 expected), or throws on timeout.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) async throws -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        kill(process.processIdentifier, SIGTERM)
        try await waitForExit(process, timeout: timeout)
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        finishProcess()
        return status
    }

    /// Sends SIGKILL (a crash: no chance to clean up) and waits for the process to be gone.
    func kill9() async throws {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        try await waitForExit(process, timeout: .seconds(30))
        finishProcess()
    }

    /// `stop()` (asserting nothing) then `start()`.
    func restart() async throws {
        try await stop()
        try await start()
    }

    /// Sends `number` (e.g. `SIGHUP`) to the running daemon.
    func signal(_ number: Int32) {
        if let process, process.isRunning { kill(process.processIdentifier, number) }
    }

    // MARK: - Notifications (sd_notify)

    /// Whether the notify socket got `line` from the current launch (e.g. `STOPPING=1`).
    nonisolated func notified(_ line: String) -> Bool { notify.hasReceived(line) }

    /// Every assignment line the current launch sent (`READY=1`, `STATUS=…`), in order.
    nonisolated func notifications() -> [String] { notify.lines() }

    /// When each datagram of the current launch carrying `line` arrived, in order.
    nonisolated func notificationTimes(_ line: String) -> [ContinuousClock.Instant] { notify.times(of: line) }

    /// Keeps reading the notify socket (every 5 ms) for `duration`, so arrival times are accurate
    /// to a few ms.
    func watchNotifications(for duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            notify.poll()
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Reads the notify socket (every 5 ms) until `line` has arrived `count` times, the daemon
    /// exits, or `timeout` passes; returns whether it arrived `count` times.
    func waitForNotification(_ line: String, count: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if notify.times(of: line).count >= count { return true }
            if let process, !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return notify.times(of: line).count >= count
    }

    private func waitForExit(_ process: Process, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning {
            if clock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                throw HarnessError("renkeid did not exit within \(timeout) of the signal; stderr:\n\(stderrTail())")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func finishProcess() {
        try? stderrHandle?.close()
        stderrHandle = nil
    }

    /// The last lines of stderr, for failure messages.
    nonisolated func stderrTail(_ lines: Int = 30) -> String {
        jsonLines(stderrText()).suffix(lines).joined(separator: "\n")
    }

    /// Kills a still-running daemon and removes the temp folder unless `keepFiles`.
    func cleanUp(keepFiles: Bool = false) async {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            try? await waitForExit(process, timeout: .seconds(30))
        }
        finishProcess()
        if !keepFiles { try? FileManager.default.removeItem(at: root) }
    }

    // MARK: - Status socket

    /// One HTTP request over the status socket; the reply body is recorded in ``replyLog``.
    func request(_ method: String, _ target: String, body: [UInt8] = [], contentType: String? = nil)
        async throws -> Reply
    {
        var headers = HTTPHeaders()
        if let contentType { headers["Content-Type"] = contentType }
        let response = try await StatusSocketClient.send(
            socketPath: statusSocket, method: method, target: target, headers: headers, body: body)
        let reply = Reply(status: response.status, body: response.body)
        replyLog.append(reply.text)
        return reply
    }

    /// `GET target`, expecting JSON.
    func get(_ target: String) async throws -> Reply { try await request("GET", target) }

    /// `POST /v1/replay` with the given JSONL lines.
    func replay(_ lines: [String]) async throws -> Reply {
        try await request(
            "POST", "/v1/replay", body: (lines.joined(separator: "\n") + "\n").bytes,
            contentType: "application/x-ndjson")
    }

    /// `GET /v1/status` as JSON.
    func status() async throws -> JSONValue { try await get("/v1/status").json }

    /// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
    func waitUntil(
        timeout: Duration, interval: Duration = .milliseconds(100),
        _ condition: @Sendable () async throws -> Bool
    ) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)
        }
        return try await condition()
    }

    /// Polls `/v1/status` until the projection has caught up with the log (`projection_lsn` =
    /// `head_lsn`), no rebuild runs and no subscription has a delta pending or in flight (dead
    /// letters aside); returns that status, or `nil` after `timeout`. Every delta planned from the
    /// log so far has then had its outcome recorded: what a receiver got is all it will get until
    /// something new is logged, so a test can check what did not arrive without waiting a while.
    func settledStatus(timeout: Duration = .seconds(60)) async throws -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await status()
            let quiet = (status["subscriptions"]?.objectValue ?? JSONObject()).allSatisfy { member in
                member.value["in_flight"]?.integerValue == 0
                    && member.value["backlog"]?.integerValue == member.value["dead_letters"]?.integerValue
            }
            let caughtUp = status["head_lsn"]?.integerValue != nil
                && status["projection_lsn"]?.integerValue == status["head_lsn"]?.integerValue
                && (status["rebuild"] == nil || status["rebuild"]?.isNull == true)
            if quiet && caughtUp { return status }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// How many deltas the outboxes have ever held, over every subscription in a `/v1/status` reply:
/// `backlog` (dead letters included) + `delivered` + `skipped` + `shadowed`. Planning a delta adds one; sending,
/// skipping or dead-lettering it only moves it between the figures. Equal sums before and after a
/// step whose writes have committed are positive evidence that the step planned no delta.
func plannedDeltas(in status: JSONValue) -> Int64 {
    (status["subscriptions"]?.objectValue ?? JSONObject()).reduce(0) { sum, member in
        ["backlog", "delivered", "skipped", "shadowed"].reduce(sum) { $0 + (member.value[$1]?.integerValue ?? 0) }
    }
}

/// Runs `body` with a fresh harness, then kills any daemon still running and removes its temp
/// folder; the folder is kept when `body` throws or `RENKEI_KEEP_TEST_FILES` is set, and its path
/// is printed so stderr can be read.
func withDaemon<T: Sendable>(
    sources: [String] = DaemonHarness.defaultSources, subscriptions: JSONObject = [:],
    _ body: (DaemonHarness) async throws -> T
) async throws -> T {
    let daemon = try DaemonHarness(sources: sources, subscriptions: subscriptions)
    let keep = ProcessInfo.processInfo.environment["RENKEI_KEEP_TEST_FILES"] != nil
    do {
        let result = try await body(daemon)
        await daemon.cleanUp(keepFiles: keep)
        return result
    } catch {
        print("integration test files kept in \(daemon.root.path) (renkeid.stderr holds the daemon's log)")
        await daemon.cleanUp(keepFiles: true)
        throw error
    }
}
