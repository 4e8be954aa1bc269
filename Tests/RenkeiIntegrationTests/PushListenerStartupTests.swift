import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 13: `renkeid` refuses to start plain-HTTP push on an address other hosts can reach (exit
/// 78, EX_CONFIG, with the key and the fix named), and starts once the file says
/// `ingest_allow_plaintext: true`.
@Suite("Push listener start-up rule")
struct PushListenerStartupTests {
    @Test(.timeLimit(.minutes(2)))
    func plaintextOnAReachableAddressExits78UnlessAllowed() async throws {
        try await withDaemon { daemon in
            try await daemon.updateConfig { $0["ingest_listen"] = "0.0.0.0:0" }
            let (status, stderr) = try await Self.runToExit(config: daemon.configFile, root: daemon.root)
            #expect(status == 78, "\(stderr)")
            #expect(stderr.contains("ingest_listen: 0.0.0.0:0 can be reached from other hosts"), "\(stderr)")
            #expect(stderr.contains("\"ingest_tls\"") && stderr.contains("\"ingest_allow_plaintext\": true"), "\(stderr)")

            try await daemon.updateConfig { $0["ingest_allow_plaintext"] = true }
            try await daemon.start()
            #expect(daemon.stderrText().contains("listening on 0.0.0.0:0"), "\(daemon.stderrTail())")
            #expect(try await daemon.stop() == 0)
        }
    }

    /// Runs `renkeid --config FILE` until it exits by itself (within 30 s); returns its status and output.
    static func runToExit(config: URL, root: URL) async throws -> (Int32, String) {
        let output = root.appendingPathComponent("refused.stderr")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = TestPaths.renkeid
        process.arguments = ["--config", config.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        process.environment = environment
        try process.run()
        let end = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
