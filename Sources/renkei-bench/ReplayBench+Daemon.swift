import Foundation
import Glibc
import RenkeiCore
import RenkeiSystem
import Synchronization

extension ReplayBench {
    /// A `renkeid` child process over a bench folder: config with three subscriptions (paused, so
    /// deltas are planned and queued but nothing is sent), status socket, and a `NOTIFY_SOCKET` that
    /// a thread of this process reads all the time, as systemd does.
    final class BenchDaemon: @unchecked Sendable {
        let root: String
        let socket: String
        private let notifyPath: String
        private let notifyFD: Int32
        private var process: Process?
        private let notices = Notices()
        private var reader: Thread?
        static let subscriptions = ["benefits", "library-sync", "resident-mirror"]

        private let name: String

        /// - Parameters:
        ///   - root: the bench folder (configuration, sockets, the daemon's stderr).
        ///   - stateDirectory: `state_dir` (default `root/state`).
        ///   - name: names this daemon's files in `root`, so two can share it.
        init(root: String, stateDirectory: String? = nil, name: String = "renkeid") throws {
            self.root = root
            self.name = name
            socket = root + "/\(name).sock"
            notifyPath = root + "/\(name)-notify.sock"
            // A well-formed signing secret (32 bytes of zeros, base64); nothing is ever sent.
            let secret = root + "/secret"
            try Data("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".utf8).write(to: URL(fileURLWithPath: secret))
            // The example configuration's three subscriptions (Deploy/renkei.example.json).
            let config: JSONValue = [
                "municipality": "131016", "state_dir": .string(stateDirectory ?? root + "/state"), "status_socket": .string(socket),
                "log_level": "notice", "sources": ["resident": [:], "tax": [:], "childcare": [:], "library": [:]],
                "secrets": ["at_rest_key_file": .string(try BenchKeyFile.ensure(in: root))],
                "subscriptions": [
                    "library-sync": [
                        "url": "http://127.0.0.1:9/library", "linked_to": "library",
                        "kinds": ["person.changed", "person.merged"],
                        "fields": ["uid", "name", "name_kana", "address", "status", "library"],
                        "secret_file": .string(secret),
                    ],
                    "benefits": [
                        "url": "http://127.0.0.1:9/benefits", "fields": ["uid", "my_number", "tax"],
                        "legal_basis": "番号法 第9条第1項 別表 (bench)", "secret_file": .string(secret),
                    ],
                    "resident-mirror": [
                        "url": "http://127.0.0.1:9/mirror",
                        "fields": ["uid", "status", "name", "name_kana", "birth_date", "address", "household_no"],
                        "secret_file": .string(secret),
                    ],
                ],
            ]
            try Data(config.serializedBytes).write(to: URL(fileURLWithPath: root + "/\(name).json"))
            // A datagram socket playing systemd's part (sd_notify(3)).
            notifyFD = socket_(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard notifyFD >= 0 else { throw BenchError("socket: errno \(errno)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(notifyPath.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(notifyFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { throw BenchError("bind \(notifyPath): errno \(errno)") }
            let fd = notifyFD
            let thread = Thread { [notices] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while notices.reading.load(ordering: .relaxed) {
                    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&poller, 1, 50) > 0 else { continue }
                    let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    guard count > 0 else { continue }
                    let now = ContinuousClock.now
                    let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n")
                    notices.lines.withLock { list in for line in lines { list.append((now, String(line))) } }
                }
            }
            thread.name = "bench-notify"
            thread.start()
            reader = thread
        }

        deinit {
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            notices.reading.store(false, ordering: .relaxed)
            usleep(100_000)
            close(notifyFD)
        }

        private var stderrPath: String { root + "/\(name).stderr" }

        /// The release `renkeid` beside this executable, built first if it is missing.
        static func binary() throws -> String {
            let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            let beside = own.appendingPathComponent("renkeid").path
            if !FileManager.default.isExecutableFile(atPath: beside) {
                let scratch = ProcessInfo.processInfo.environment["RENKEI_BENCH_SCRATCH"] ?? ".build"
                note("building renkeid (swift build -c release --product renkeid --scratch-path \(scratch))")
                let build = Process()
                build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                build.arguments = ["swift", "build", "-c", "release", "--product", "renkeid", "--scratch-path", scratch]
                try build.run()
                build.waitUntilExit()
            }
            guard FileManager.default.isExecutableFile(atPath: beside) else {
                throw BenchError("no release renkeid at \(beside): swift build -c release --product renkeid")
            }
            return beside
        }

        /// Spawns `renkeid` and returns the time until `READY=1` arrives.
        @discardableResult
        func start() throws -> Duration {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try Self.binary())
            process.arguments = ["--config", root + "/\(name).json"]
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notifyPath
            process.environment = environment
            let log = FileHandle(forWritingAtPath: stderrPath)
                ?? { FileManager.default.createFile(atPath: stderrPath, contents: nil)
                    return FileHandle(forWritingAtPath: stderrPath)! }()
            log.seekToEndOfFile()
            process.standardError = log
            process.standardOutput = log
            let clock = ContinuousClock()
            let start = clock.now
            try process.run()
            self.process = process
            while clock.now - start < .seconds(600) {
                if let ready = notices.lines.withLock({ $0.first { $0.at >= start && $0.line == "READY=1" } }) {
                    return ready.at - start
                }
                guard process.isRunning else { throw BenchError("renkeid exited early; see \(stderrPath)") }
                usleep(1000)
            }
            throw BenchError("renkeid sent no READY=1 within 600 s; see \(stderrPath)")
        }

        /// SIGTERM, and wait for exit status 0 (at most `timeout`); returns how long it took.
        @discardableResult
        func stop(timeout: Duration = .seconds(120)) throws -> Duration {
            guard let process, process.isRunning else { return .zero }
            let clock = ContinuousClock()
            let start = clock.now
            kill(process.processIdentifier, SIGTERM)
            while process.isRunning {
                if clock.now - start > timeout {
                    kill(process.processIdentifier, SIGKILL)
                    throw BenchError("renkeid did not stop within \(timeout) of SIGTERM (killed); see \(stderrPath)")
                }
                usleep(5000)
            }
            guard process.terminationStatus == 0 else {
                throw BenchError("renkeid exited with \(process.terminationStatus) after SIGTERM; see \(stderrPath)")
            }
            return clock.now - start
        }

        /// VmHWM (peak resident set) of the running daemon, in KiB.
        func peakRSS() -> Int { statusField("VmHWM:") }

        /// VmRSS (current resident set) of the running daemon, in KiB.
        func currentRSS() -> Int { statusField("VmRSS:") }

        private func statusField(_ name: String) -> Int {
            guard let pid = process?.processIdentifier,
                let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) })
            else { return 0 }
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }

        /// One status-socket request.
        func request(_ method: String, _ path: String, body: [UInt8] = []) throws -> (status: Int, body: [UInt8], text: String) {
            var headers = HTTPHeaders()
            if !body.isEmpty { headers["Content-Type"] = "application/x-ndjson" }
            let reply = try UnixHTTPClient(socketPath: socket, timeout: .seconds(3600))
                .request(method: method, path: path, headers: headers, body: body)
            return (reply.status, reply.body, String(decoding: reply.body, as: UTF8.self))
        }

        /// `GET /v1/status` as JSON.
        func status() throws -> JSONValue {
            let reply = try request("GET", "/v1/status")
            guard reply.status == 200 else { throw BenchError("GET /v1/status answered \(reply.status): \(reply.text)") }
            return try JSONParser.parse(reply.body)
        }

        /// How far the daemon's stderr has been written (a mark for ``waitForLine(_:after:timeout:)``).
        /// How many lines of the daemon's stderr so far contain `text`.
        func countLines(containing text: String) -> Int {
            guard let log = try? String(contentsOfFile: stderrPath, encoding: .utf8) else { return 0 }
            return log.split(separator: "\n").filter { $0.contains(text) }.count
        }

        func logMark() -> Int { (try? FileManager.default.attributesOfItem(atPath: stderrPath)[.size] as? Int) ?? 0 }

        /// Waits until a line containing `text` appears in the daemon's stderr after `mark`.
        ///
        /// The bench waits on log lines rather than polling `/v1/status`: with a large outbox each status
        /// request counts it (seconds of the daemon's CPU), which would distort what is measured.
        func waitForLine(_ text: String, after mark: Int, timeout: Duration = .seconds(7200)) throws {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            while clock.now < deadline {
                if let handle = FileHandle(forReadingAtPath: stderrPath) {
                    handle.seek(toFileOffset: UInt64(mark))
                    let tail = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
                    try? handle.close()
                    if tail.contains(text) { return }
                }
                guard process?.isRunning ?? false else { throw BenchError("renkeid exited; see \(stderrPath)") }
                usleep(20_000)
            }
            throw BenchError("no log line with '\(text)' within \(timeout); see \(stderrPath)")
        }

        /// Polls `/v1/status` until `projection_lsn == head_lsn` and no rebuild runs; returns head_lsn.
        func waitUntilCaughtUp(timeout: Duration) throws -> Int64 {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            while clock.now < deadline {
                let status = try status()
                let head = status["head_lsn"]?.integerValue ?? -1
                if status["projection_lsn"]?.integerValue == head, status["rebuild"]?.isNull ?? true,
                    status["projection_state"]?.stringValue ?? "ready" == "ready"
                {
                    return head
                }
                usleep(250_000)
            }
            throw BenchError("the projection did not catch up within \(timeout); see \(stderrPath)")
        }
    }
}

/// What the bench's stand-in for systemd heard.
private final class Notices: Sendable {
    /// Every notification received: (monotonic time, one `KEY=VALUE` line).
    let lines = Mutex<[(at: ContinuousClock.Instant, line: String)]>([])
    /// Cleared to stop the reading thread.
    let reading = Atomic<Bool>(true)
}

/// `socket(2)`, named apart from the stored property.
private func socket_(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 { Glibc.socket(domain, type, proto) }
