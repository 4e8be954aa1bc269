import Foundation
import RenkeiCore
import RenkeiSystem
import Testing

/// `renkeid --check-config` checks and writes nothing (issue 15): no state folder, no database, no
/// socket — it used to build a whole service, creating and migrating the state it promised to leave alone.
@Suite("renkeid --check-config")
struct CheckConfigTests {
    /// Runs `renkeid --check-config --config FILE`; returns the exit status and stdout + stderr.
    static func checkConfig(_ file: URL) async throws -> (status: Int32, output: String) {
        let binary = TestPaths.renkeid.path
        return try await BlockingThread.run { () throws(any Error) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--check-config", "--config", file.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: output, as: UTF8.self))
        }
    }

    @Test func checksAndWritesNothing() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            let state = daemon.root.appendingPathComponent("fresh-state")
            let socket = daemon.root.appendingPathComponent("check.sock")
            try await daemon.updateConfig {
                $0["state_dir"] = .string(state.path)
                $0["status_socket"] = .string(socket.path)
            }
            let fine = try await Self.checkConfig(daemon.configFile)
            #expect(fine.status == 0 && fine.output.contains("is fine"), "\(fine)")
            #expect(!FileManager.default.fileExists(atPath: state.path), "--check-config created the state folder")
            #expect(!FileManager.default.fileExists(atPath: socket.path))

            // A broken secret file is found without any state either.
            try await daemon.setSubscriptions([
                "mirror": ["url": "http://127.0.0.1:9/d", "fields": ["uid"], "secret_file": "/nonexistent/secret"]
            ])
            let broken = try await Self.checkConfig(daemon.configFile)
            #expect(broken.status == 78 && broken.output.contains("subscriptions.mirror.secret_file"), "\(broken)")
            #expect(!FileManager.default.fileExists(atPath: state.path))
        }
    }
}
