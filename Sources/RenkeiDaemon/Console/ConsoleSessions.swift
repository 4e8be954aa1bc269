import RenkeiCrypto
import Synchronization

/// The console's sessions (issue 18), in memory: a restart of renkeid logs every staff member out.
///
/// A session id is 32 random bytes (hex) and lives in an `HttpOnly; Secure; SameSite=Strict` cookie;
/// each session has its own CSRF token, which every form carries. A session unused for
/// `idleTimeout` ends. A login always makes a new session (the id a browser brought is dropped:
/// no fixation); a login form gets an anonymous session first, so the login form has a CSRF token too.
final class ConsoleSessions: Sendable {
    /// One session.
    struct Session: Sendable {
        var id: String
        var csrf: String
        /// The staff account; `nil` for the anonymous session of a login form.
        var name: String?
        var role: ConsoleRole
        /// The account's generation at login: a reset or disable bumps it and ends the session.
        var generation: Int64
        /// Must change the one-time password before anything else.
        var mustChange: Bool
        var lastSeenMs: Int64
    }

    /// Why a cookie found no session.
    enum Lookup: Sendable {
        case found(Session)
        /// The cookie named a session that ended by idle expiry.
        case expired
        case none
    }

    private let sessions = Mutex<[String: Session]>([:])
    let idleTimeoutMs: Int64
    /// At most this many sessions (anonymous ones are dropped first when full).
    static let capacity = 10_000

    init(idleTimeoutSeconds: Int) {
        idleTimeoutMs = Int64(idleTimeoutSeconds) * 1000
    }

    static func token() -> String { SecureRandom.bytes(32).hexString }

    /// A new session (anonymous when `name` is nil).
    func create(name: String?, role: ConsoleRole, generation: Int64, mustChange: Bool, nowMs: Int64) -> Session {
        let session = Session(
            id: Self.token(), csrf: Self.token(), name: name, role: role, generation: generation, mustChange: mustChange,
            lastSeenMs: nowMs)
        sessions.withLock { all in
            if all.count >= Self.capacity {
                all = all.filter { nowMs - $0.value.lastSeenMs < idleTimeoutMs && $0.value.name != nil }
            }
            all[session.id] = session
        }
        return session
    }

    /// The session of `id`, touched; an idle one is removed and reported `expired`.
    func lookup(_ id: String?, nowMs: Int64) -> Lookup {
        guard let id, !id.isEmpty else { return .none }
        return sessions.withLock { all in
            guard var session = all[id] else { return .none }
            if nowMs - session.lastSeenMs >= idleTimeoutMs {
                all[id] = nil
                return .expired
            }
            session.lastSeenMs = nowMs
            all[id] = session
            return .found(session)
        }
    }

    /// Ends one session.
    func remove(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    /// Ends every session of `name` (reset, disable).
    func removeAll(of name: String) { sessions.withLock { all in all = all.filter { $0.value.name != name } } }

    /// Marks the password changed in a session.
    func passwordChanged(_ id: String, generation: Int64) {
        sessions.withLock { all in
            all[id]?.mustChange = false
            all[id]?.generation = generation
        }
    }
}
