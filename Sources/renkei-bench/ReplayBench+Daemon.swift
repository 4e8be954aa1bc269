import Foundation
import Glibc
import RenkeiCore
import RenkeiSystem

extension ReplayBench {
    /// A `renkeid` child process over a bench folder: config, status socket, `NOTIFY_SOCKET`.
    final class BenchDaemon {
        let root: String
        let socket: String
        private let notifyPath: String
        private let notifyFD: Int32
        private var process: Process?

        init(root: String) throws {
            self.root = root
            socket = root + "/status.sock"
            notifyPath = root + "/notify.sock"
            let config: JSONValue = [
                "municipality": "131016", "state_dir": .string(root + "/state"), "status_socket": .string(socket),
                "log_level": "warning", "sources": ["resident": [:], "tax": [:], "childcare": [:], "library": [:]],
                "subscriptions": [:],
            ]
            try Data(config.serializedBytes).write(to: URL(fileURLWithPath: root + "/renkei.json"))
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
        }

        deinit {
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            close(notifyFD)
        }

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
            // Drain old datagrams.
            var buffer = [UInt8](repeating: 0, count: 4096)
            while recv(notifyFD, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {}
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try Self.binary())
            process.arguments = ["--config", root + "/renkei.json"]
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notifyPath
            process.environment = environment
            let log = FileHandle(forWritingAtPath: root + "/renkeid.stderr")
                ?? { FileManager.default.createFile(atPath: root + "/renkeid.stderr", contents: nil)
                    return FileHandle(forWritingAtPath: root + "/renkeid.stderr")! }()
            log.seekToEndOfFile()
            process.standardError = log
            process.standardOutput = log
            let clock = ContinuousClock()
            let start = clock.now
            try process.run()
            self.process = process
            while clock.now - start < .seconds(600) {
                var poller = pollfd(fd: notifyFD, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 50) > 0 {
                    let count = recv(notifyFD, &buffer, buffer.count, 0)
                    if count > 0,
                        String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").contains("READY=1")
                    {
                        return clock.now - start
                    }
                }
                guard process.isRunning else { throw BenchError("renkeid exited early; see \(root)/renkeid.stderr") }
            }
            throw BenchError("renkeid sent no READY=1")
        }

        /// SIGTERM and wait.
        func stop() throws {
            guard let process, process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }

        /// VmHWM of the running daemon, in KiB.
        func peakRSS() -> Int {
            guard let pid = process?.processIdentifier,
                let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
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

        /// Polls `/v1/status` until `projection_lsn == head_lsn` (and no rebuild runs); returns head_lsn.
        func waitUntilCaughtUp(timeout: Duration, rebuild: Bool = false) throws -> Int64 {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            while clock.now < deadline {
                let status = try JSONParser.parse(try request("GET", "/v1/status").body)
                let head = status["head_lsn"]?.integerValue ?? -1
                if status["projection_lsn"]?.integerValue == head, status["rebuild"]?.isNull ?? true {
                    return head
                }
                usleep(20_000)
            }
            throw BenchError("the projection did not catch up within \(timeout)")
        }
    }
}

/// `socket(2)`, named apart from the stored property.
private func socket_(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 { Glibc.socket(domain, type, proto) }
