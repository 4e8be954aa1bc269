import Foundation

/// Where the integration tests find the repository, the contract's sample log and the built binaries.
enum TestPaths {
    /// The repository root (this file is `Tests/RenkeiIntegrationTests/Support/TestPaths.swift`).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The JSON Schemas folder of the source tree.
    static var schemasDir: URL { repoRoot.appendingPathComponent("Schemas") }

    /// `../shared/contract/examples/sample.jsonl` beside the repository.
    static var sampleLog: URL {
        repoRoot.deletingLastPathComponent().appendingPathComponent("shared/contract/examples/sample.jsonl")
    }

    /// The folder holding `renkeid`: `RENKEI_BIN_DIR` if set, else the folder of the test bundle
    /// (SwiftPM builds executables and the test bundle into the same `.build/<triple>/debug`),
    /// else `.build/debug` of the repository.
    static var binDir: URL {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["RENKEI_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        var candidates: [URL] = []
        if let first = CommandLine.arguments.first {
            var url = URL(fileURLWithPath: first).resolvingSymlinksInPath()
            // Walk up from the test binary (inside `X.xctest/` on some platforms) to a folder with renkeid.
            for _ in 0..<4 {
                url = url.deletingLastPathComponent()
                candidates.append(url)
            }
        }
        var bundle = Bundle.main.bundleURL
        for _ in 0..<3 {
            candidates.append(bundle)
            bundle = bundle.deletingLastPathComponent()
        }
        candidates.append(repoRoot.appendingPathComponent(".build/debug"))
        for dir in candidates where fm.isExecutableFile(atPath: dir.appendingPathComponent("renkeid").path) {
            return dir
        }
        return repoRoot.appendingPathComponent(".build/debug")
    }

    /// The built `renkeid`.
    static var renkeid: URL { binDir.appendingPathComponent("renkeid") }
}
