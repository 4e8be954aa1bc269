import Foundation
import RenkeiCrypto
@testable import RenkeiDaemon

/// The at-rest key file (`secrets.at_rest_key_file`) of a test daemon: renkeid refuses to start without one.
enum TestKeyFile {
    /// `folder/at-rest.key`, created once (32 random bytes as base64, mode 0600): a daemon started
    /// again over the same folder unwraps the data key its predecessor made.
    static func ensure(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("at-rest.key").path
        if !FileManager.default.fileExists(atPath: path) { try write(to: path) }
        return path
    }

    /// Writes a new random key to `path` (replacing what is there), mode 0600.
    static func write(to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try Data((Data(SecureRandom.bytes(32)).base64EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// A vault with a fresh data key, for tests that build an ``Ingestor`` without a service.
    static func vault() -> MyNumberVault { MyNumberVault(cipher: .generate()) }
}
