import Foundation
import Glibc

/// Temporary system users and groups (`groupadd`/`useradd`, removed again by ``remove()``), so a test
/// running as root can run `renkeictl` as an operator, an administrator or a stranger through
/// `setpriv(1)` and see what the daemon allows each of them.
final class SystemAccounts: @unchecked Sendable {
    /// Whether accounts can be made here: root, with shadow-utils' and util-linux's tools.
    static var available: Bool {
        geteuid() == 0
            && ["/usr/sbin/groupadd", "/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/groupdel", "/usr/bin/setpriv"]
                .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A short random prefix, so parallel runs and leftovers of a killed run never collide.
    let prefix = "rk" + String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
    private var groups: [String] = []
    private var users: [String] = []

    /// One finished command.
    struct Outcome: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Creates group `<prefix>-<suffix>` and returns its name.
    func addGroup(_ suffix: String) throws -> String {
        let name = "\(prefix)-\(suffix)"
        try Self.check(Self.run("/usr/sbin/groupadd", ["--system", name]), "groupadd \(name)")
        groups.append(name)
        return name
    }

    /// Creates system user `<prefix>-<suffix>` (primary group `nogroup`, no home) in `supplementary` groups.
    /// - Returns: its name and uid.
    func addUser(_ suffix: String, groups supplementary: [String]) throws -> (name: String, uid: UInt32) {
        let name = "\(prefix)-\(suffix)"
        var arguments = ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                         "--gid", "nogroup"]
        if !supplementary.isEmpty { arguments += ["--groups", supplementary.joined(separator: ",")] }
        try Self.check(Self.run("/usr/sbin/useradd", arguments + [name]), "useradd \(name)")
        users.append(name)
        guard let entry = getpwnam(name) else { throw HarnessError("useradd made \(name), but getpwnam finds no such user") }
        return (name, entry.pointee.pw_uid)
    }

    /// Removes every user, then every group, made here.
    func remove() {
        for user in users.reversed() { _ = try? Self.run("/usr/sbin/userdel", [user]) }
        for group in groups.reversed() { _ = try? Self.run("/usr/sbin/groupdel", [group]) }
        users = []
        groups = []
    }

    /// Runs `executable` as `user` (group `nogroup`): with the user's groups from the group database
    /// (`--init-groups`, as a login does), or with exactly `processGroups` instead.
    static func runAs(
        _ user: String, processGroups: [String]? = nil, _ executable: String, _ arguments: [String]
    ) async throws -> Outcome {
        var setpriv = ["--reuid=\(user)", "--regid=nogroup"]
        if let processGroups {
            setpriv.append("--groups=\(processGroups.map { String(getgrnam($0)?.pointee.gr_gid ?? 0) }.joined(separator: ","))")
        } else {
            setpriv.append("--init-groups")
        }
        let all = setpriv + ["--", executable] + arguments
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try run("/usr/bin/setpriv", all)) } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs a program to its end and collects its output.
    static func run(_ executable: String, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both before waiting, so a full pipe never blocks the child.
        let errData = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    private static func check(_ outcome: Outcome, _ what: String) throws {
        guard outcome.status == 0 else { throw HarnessError("\(what) failed (\(outcome.status)): \(outcome.stderr)") }
    }
}

/// A locked `Data` box for a reader thread.
private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
