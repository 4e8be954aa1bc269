import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem
import Synchronization

/// The console's staff accounts (issue 18): added, reset and disabled through the status socket
/// (`renkeictl console user …`), checked at login with scrypt and locked after repeated failures.
/// Writes run on the log writer's thread; password hashing never does (it is slow on purpose).
struct ConsoleAccountBook: Sendable {
    let writer: LogWriter
    let store: StoreExecutor
    let wallClock: WallClock
    /// Failed logins under names that have no account, in memory: they lock exactly as an account
    /// would, so a run of guesses cannot tell which names exist from the answers.
    let unknownNames = UnknownNames()

    /// Failure counts of names without an account.
    final class UnknownNames: Sendable {
        let state = Mutex<[String: (failures: Int, lockedUntil: Int64?)]>([:])

        /// Counts one failure; the lock-out time once `max` is reached (as for an account).
        func fail(_ name: String, now: Int64, max: Int, lockout: Int) -> Int64? {
            state.withLock { all in
                if all.count > 10_000 { all = all.filter { ($0.value.lockedUntil ?? 0) > now } }
                var entry = all[name] ?? (0, nil)
                if let until = entry.lockedUntil, until > now { return until }
                entry.failures += 1
                var locked: Int64?
                if entry.failures >= max {
                    locked = now + Int64(lockout)
                    entry = (0, locked)
                }
                all[name] = entry
                return locked
            }
        }
    }

    /// What a login came to.
    enum LoginOutcome: Sendable, Equatable {
        case success(role: ConsoleRole, generation: Int64, mustChange: Bool)
        /// Wrong name or password (never says which), or a disabled account.
        case refused
        /// Too many failures: locked until this Unix time.
        case locked(until: Int64)
    }

    /// The characters of one-time passwords: no 0/O, 1/l/I, so they can be read out over the phone.
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    /// A fresh one-time password of 16 characters (about 93 bits).
    static func oneTimePassword() -> String {
        String(SecureRandom.bytes(16).map { alphabet[Int($0) % alphabet.count] })
    }

    /// Whether `name` is a valid account name.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
            && name.first.map { $0 != "." && $0 != "-" } == true
    }

    /// Adds an account with a one-time password, returned once.
    /// - Throws: ``DecisionRefusal`` 409 when the name exists, 400 for a bad name.
    func add(_ name: String, role: ConsoleRole) async throws -> String {
        guard Self.isValidName(name) else {
            throw DecisionRefusal(400, "name: use lowercase letters, digits, '.', '_' or '-' (at most 32), e.g. tanaka.h")
        }
        let password = Self.oneTimePassword()
        let hash = PasswordHash.make(password)
        let now = Timestamp.rfc3339(wallClock.now())
        try await writer.perform { db in
            if try ConsoleAccounts.account(name, in: db) != nil {
                throw DecisionRefusal(409, "the account \(name) exists: use `renkeictl console user reset \(name)` for a new password")
            }
            try ConsoleAccounts.put(
                ConsoleAccounts.Account(
                    name: name, role: role.rawValue, passwordHash: hash, mustChange: true, createdAt: now, updatedAt: now),
                in: db)
        }
        return password
    }

    /// A new one-time password (and optionally a new role) for `name`; unlocks and re-enables the
    /// account and ends its sessions.
    /// - Throws: ``DecisionRefusal`` 404 for an unknown account.
    func reset(_ name: String, role: ConsoleRole?) async throws -> (password: String, role: ConsoleRole) {
        let password = Self.oneTimePassword()
        let hash = PasswordHash.make(password)
        let now = Timestamp.rfc3339(wallClock.now())
        let role = try await writer.perform { db -> ConsoleRole in
            guard var account = try ConsoleAccounts.account(name, in: db) else {
                throw DecisionRefusal(404, "no console account \(name): add it with `renkeictl console user add \(name) --role …`")
            }
            if let role { account.role = role.rawValue }
            account.passwordHash = hash
            account.mustChange = true
            account.disabled = false
            account.failures = 0
            account.lockedUntil = nil
            account.generation += 1
            account.updatedAt = now
            try ConsoleAccounts.put(account, in: db)
            return ConsoleRole(rawValue: account.role) ?? .viewer
        }
        return (password, role)
    }

    /// Disables `name`: no more logins, and its sessions end at their next request.
    func disable(_ name: String) async throws {
        let now = Timestamp.rfc3339(wallClock.now())
        try await writer.perform { db in
            guard var account = try ConsoleAccounts.account(name, in: db) else {
                throw DecisionRefusal(404, "no console account \(name)")
            }
            account.disabled = true
            account.generation += 1
            account.updatedAt = now
            try ConsoleAccounts.put(account, in: db)
        }
    }

    /// The account, read on a store thread.
    func account(_ name: String) async throws -> ConsoleAccounts.Account? {
        try await store.read { db in try ConsoleAccounts.account(name, in: db) }
    }

    /// Checks a login. The password is hashed on the caller's thread (the console's executor), the
    /// failure count is kept on the writer's.
    func login(_ name: String, password: String, maxFailures: Int, lockoutSeconds: Int) async throws -> LoginOutcome {
        let now = Int64(wallClock.now().timeIntervalSince1970)
        guard let account = try await account(name) else {
            _ = PasswordHash.verify(password, against: PasswordHash.decoy)  // the same time as a real account
            if let until = unknownNames.fail(name, now: now, max: maxFailures, lockout: lockoutSeconds) {
                return .locked(until: until)
            }
            return .refused
        }
        if let until = account.lockedUntil, until > now { return .locked(until: until) }
        let good = PasswordHash.verify(password, against: account.passwordHash)
        if good, !account.disabled, let role = ConsoleRole(rawValue: account.role) {
            if account.failures > 0 || account.lockedUntil != nil {
                try await writer.perform { db in
                    guard var fresh = try ConsoleAccounts.account(name, in: db) else { return }
                    fresh.failures = 0
                    fresh.lockedUntil = nil
                    try ConsoleAccounts.put(fresh, in: db)
                }
            }
            return .success(role: role, generation: account.generation, mustChange: account.mustChange)
        }
        let stamp = Timestamp.rfc3339(wallClock.now())
        return try await writer.perform { db -> LoginOutcome in
            guard var fresh = try ConsoleAccounts.account(name, in: db) else { return .refused }
            fresh.failures += 1
            var outcome = LoginOutcome.refused
            if fresh.failures >= maxFailures {
                fresh.lockedUntil = now + Int64(lockoutSeconds)
                fresh.failures = 0
                outcome = .locked(until: now + Int64(lockoutSeconds))
            }
            fresh.updatedAt = stamp
            try ConsoleAccounts.put(fresh, in: db)
            return outcome
        }
    }

    /// Sets a new password chosen by the staff member; returns the account's new generation.
    func changePassword(_ name: String, to password: String) async throws -> Int64 {
        let hash = PasswordHash.make(password)
        let now = Timestamp.rfc3339(wallClock.now())
        return try await writer.perform { db -> Int64 in
            guard var account = try ConsoleAccounts.account(name, in: db) else {
                throw DecisionRefusal(404, "no console account \(name)")
            }
            account.passwordHash = hash
            account.mustChange = false
            account.generation += 1
            account.updatedAt = now
            try ConsoleAccounts.put(account, in: db)
            return account.generation
        }
    }
}
