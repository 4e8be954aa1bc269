import Foundation

/// The at-rest key file of a bench daemon (`secrets.at_rest_key_file`): every daemon refuses to start
/// without one.
enum BenchKeyFile {
    /// `root/at-rest.key`, created once (32 random bytes as base64, mode 0600) and shared by every
    /// daemon started over `root`, so one that reopens another's state unwraps its data key.
    static func ensure(in root: String) throws -> String {
        let path = root + "/at-rest.key"
        if FileManager.default.fileExists(atPath: path) { return path }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data((Data(key).base64EncodedString() + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }
}
