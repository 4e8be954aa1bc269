import Foundation
import Glibc

/// Talks to systemd for a `Type=notify` service: sd_notify(3) datagrams to `$NOTIFY_SOCKET`.
///
/// Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op, as with libsystemd.
public struct SystemdNotifier: Sendable {
    /// The socket path, or `@name` for an abstract socket; `nil` when not run by systemd.
    public let socketPath: String?
    /// How often systemd expects `WATCHDOG=1`: half of `WatchdogSec` is the usual ping interval.
    ///
    /// From `WATCHDOG_USEC`, and only when `WATCHDOG_PID` is absent or names this process
    /// (sd_watchdog_enabled(3)).
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the process environment.
    public init() {
        self.init(environment: ProcessInfo.processInfo.environment)
    }

    /// Reads the systemd variables from `environment` (tests pass their own).
    /// - Parameter environment: variables such as `NOTIFY_SOCKET`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        // sd_notify(3): only absolute paths and abstract '@' names are valid notification sockets.
        socketPath = path.flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
        var interval: Duration?
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
            if pidMatches { interval = .microseconds(Int64(clamping: usec)) }
        }
        watchdogInterval = interval
    }

    /// Whether systemd is listening for notifications.
    public var isEnabled: Bool { socketPath != nil }

    /// Sends one state string, e.g. `"READY=1"`, `"STATUS=serving 3 sources"`, `"STOPPING=1"`,
    /// `"RELOADING=1\nMONOTONIC_USEC=…"` (see ``reloading()``), `"WATCHDOG=1"`.
    /// - Parameter state: newline-separated `KEY=VALUE` assignments.
    ///
    /// Never blocks: if the notification socket's queue is full (a manager that stopped reading), the
    /// message is dropped and `false` returned, so a status update can never stall the caller.
    /// - Returns: whether the datagram was sent (`false` outside systemd or on error, which is not fatal).
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        do {
            let socket = try Socket.make(family: AF_UNIX, datagram: true)
            try socket.send(Array(state.utf8), to: .unix(socketPath))
            return true
        } catch {
            return false
        }
    }

    /// The `RELOADING=1` message with `MONOTONIC_USEC` that `Type=notify-reload` requires (systemd.service(5)).
    public static func reloading() -> String {
        var now = timespec()
        // clock_gettime(2): CLOCK_MONOTONIC is the clock systemd compares MONOTONIC_USEC against.
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return "RELOADING=1\nMONOTONIC_USEC=\(usec)"
    }
}
