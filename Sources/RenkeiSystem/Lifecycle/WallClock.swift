public import Foundation

/// Where services read the wall time (timestamps in the log, the outbox and `/v1/status`):
/// ``system`` in the daemon, a ``ManualClock``'s ``ManualClock/wallClock`` in tests.
///
/// Sleeps and timeouts use a `Clock<Duration>` instead; this is only for "what time is it".
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    /// - Parameter now: returns the current wall time.
    public init(now: @escaping @Sendable () -> Date) {
        self.read = now
    }

    /// The system's wall time.
    public static let system = WallClock { Date() }

    /// Now.
    public func now() -> Date { read() }

    /// Now, in whole milliseconds since 1970.
    public func nowMs() -> Int64 { Int64(read().timeIntervalSince1970 * 1000) }
}
