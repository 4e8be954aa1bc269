import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 13: the status API refuses what its OpenAPI document does not allow. The Schemathesis API
/// fuzzer, driven by `Schemas/openapi.json`, runs against a real `renkeid` (the contract's sample
/// log replayed first) and must report no failure: no 5xx, only documented status codes, replies
/// matching their schemas, 4xx for whatever the document forbids, 405 with `Allow` for an
/// undeclared method.
///
/// Schemathesis speaks TCP, the status socket is a UNIX socket: `Tests/Fixtures/schemathesis/bridge.py`
/// forwards 127.0.0.1:<free port> to it byte for byte. The settings (fixed seed, examples per
/// operation, checks, which operations) are in `Tests/Fixtures/schemathesis/schemathesis.toml`.
/// `ops/test` installs the pinned Schemathesis into `.build/schemathesis` (ops/lib.sh
/// `ensure_schemathesis`); without python3 the test is skipped, without Schemathesis it fails
/// saying how to install it.
@Suite(.serialized) struct StatusAPIFuzzTests {
    static let python = "/usr/bin/python3"
    static let fixtures = TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/schemathesis")
    /// The whole run is bounded: 12-37 s with a release renkeid, 35-72 s with a debug one (2 cores, loaded).
    static let deadline: Duration = .seconds(240)

    /// `RENKEI_SCHEMATHESIS`, else the venv `ops/test` makes.
    static var schemathesis: String {
        if let path = ProcessInfo.processInfo.environment["RENKEI_SCHEMATHESIS"], !path.isEmpty { return path }
        return TestPaths.repoRoot.appendingPathComponent(".build/schemathesis/bin/schemathesis").path
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "needs /usr/bin/python3 (ops/test installs it)"))
    func schemathesisFindsNoFailureOnTheStatusSocket() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.schemathesis) else {
            Issue.record(
                Comment(rawValue: "Schemathesis is not installed at \(Self.schemathesis): run ops/test, or "
                    + "bash -c '. ops/lib.sh && ensure_schemathesis' (pinned version, from PyPI)"))
            return
        }
        try await withDaemon(subscriptions: DaemonHarness.unreachableSubscription) { daemon in
            try await daemon.start()
            let sample = jsonLines(try String(contentsOf: TestPaths.sampleLog, encoding: .utf8))
            let replayed = try await daemon.replay(sample)
            // 15 of its 17 lines are accepted (one is a duplicate, one a reading record the contract refuses).
            #expect(replayed.status == 200 && replayed.json["accepted"]?.integerValue == 15, "\(replayed.text)")

            let folder = daemon.root.appendingPathComponent("schemathesis")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let portFile = folder.appendingPathComponent("bridge.port").path
            let bridge = try Self.launch(
                Self.python, [Self.fixtures.appendingPathComponent("bridge.py").path, daemon.statusSocket, portFile, "600"],
                in: folder, output: folder.appendingPathComponent("bridge.log"))
            defer { Self.end(bridge) }
            let port = try await Self.waitForPort(portFile, bridge: bridge)

            let log = folder.appendingPathComponent("schemathesis.log")
            let arguments = [
                "--config-file", Self.fixtures.appendingPathComponent("schemathesis.toml").path,
                "run", TestPaths.schemasDir.appendingPathComponent("openapi.json").path,
                "--url", "http://127.0.0.1:\(port)",
            ]
            let started = ContinuousClock.now
            let fuzzer = try Self.launch(Self.schemathesis, arguments, in: folder, output: log)
            defer { Self.end(fuzzer) }
            while fuzzer.isRunning, ContinuousClock.now - started < Self.deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let elapsed = ContinuousClock.now - started
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            let command = ([Self.schemathesis] + arguments).joined(separator: " ")
            guard !fuzzer.isRunning else {
                Issue.record("schemathesis did not finish within \(Self.deadline) (\(command)); its output:\n\(text.suffix(6000))")
                return
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("StatusAPIFuzzTests: schemathesis ran \(String(format: "%.1f", seconds)) s")
            #expect(fuzzer.terminationStatus == 0, "schemathesis exited \(fuzzer.terminationStatus) (\(command)); its output:\n\(text.suffix(12000))")
            // The summary says how many cases ran and that none failed ("N generated, N passed").
            let summary = try #require(
                text.firstMatch(of: #/Test cases:\s+(\d+) generated, (\d+) passed/#),
                "no summary in the output:\n\(text.suffix(6000))")
            #expect(Int(summary.output.1) ?? 0 > 300 && summary.output.1 == summary.output.2, "\(summary.output.0)")
            #expect(!text.contains("FAILURES"), "\(text.suffix(12000))")
            #expect(await daemon.isRunning)
        }
    }

    // MARK: - Child processes

    /// Starts `executable` with stdin from /dev/null and stdout+stderr into `output`.
    static func launch(_ executable: String, _ arguments: [String], in folder: URL, output: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        return process
    }

    /// Waits (bounded) for the bridge to write the port it listens on.
    static func waitForPort(_ file: String, bridge: Process) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), let port = Int(text) { return port }
            guard bridge.isRunning else { throw HarnessError("bridge.py exited with \(bridge.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("bridge.py wrote no port within 20 s")
    }

    /// Ends a child that is still running (SIGKILL: nothing of it needs to be kept).
    static func end(_ process: Process) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
