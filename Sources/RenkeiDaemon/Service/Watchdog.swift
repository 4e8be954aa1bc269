import Foundation
import RenkeiSystem
public import RenkeiCore
import RenkeiStore
import Synchronization

/// What one liveness check found: the systemd watchdog is fed only when ``isAlive``.
public struct LivenessReport: Sendable {
    /// The loops that did not answer in time, each with what was waited for.
    public var failures: [String]
    /// Whether every probed loop answered within the bound.
    public var isAlive: Bool { failures.isEmpty }
}

/// Decides whether renkeid may send `WATCHDOG=1` (sd_watchdog_enabled(3)): only while the loops that
/// do the work answer within a bound, so that systemd restarts a daemon whose writer thread or
/// delivery lanes are wedged instead of one whose timer task merely still runs.
///
/// Probes:
/// - the log writer: an empty ``LogWriter/perform(_:)`` must round-trip (it queues behind appends, so a
///   stuck fsync or a dead writer thread shows here);
/// - each delivery lane: its state must be readable (the lane's locks are not held forever), and the
///   cooperative pool that runs the lanes must schedule this probe at all.
///
/// A probe still outstanding from the previous check counts as failed without a second one being
/// queued, so a wedged writer never accumulates probes.
public final class Watchdog: Sendable {
    private let service: RenkeiService
    private let writerProbeOutstanding = Atomic<Bool>(false)

    /// - Parameter service: the running service whose loops are probed.
    public init(service: RenkeiService) {
        self.service = service
    }

    /// Probes every loop, waiting at most `bound` for the slowest.
    /// - Parameter bound: how long a loop may take to answer; keep it under half of `WatchdogSec`.
    /// - Returns: the loops that did not answer.
    public func check(within bound: Duration) async -> LivenessReport {
        var failures: [String] = []
        let boundMs = bound.components.seconds * 1000 + bound.components.attoseconds / 1_000_000_000_000_000
        if !(await probeWriter(within: bound)) && !rebuildIsAdvancing(now: service.wallClock.nowMs(), boundMs: boundMs) {
            failures.append("the log writer did not answer within \(bound)")
        }
        let now = service.wallClock.nowMs()
        for name in service.delivery.lanes.keys.sorted() {
            guard let lane = service.delivery.lanes[name] else { continue }
            // Taking the lane's locks proves no lane task holds them forever.
            _ = lane.queue.withLock { $0.sending }
            _ = lane.lastError.withLock { $0 }
            // The loop turns at least once a second (paused lanes too); a turn older than the bound
            // means it is stuck. 0 = not started yet (start-up), which is not a failure.
            let last = lane.lastLoopMs.load(ordering: .relaxed)
            if last > 0, now - last > max(boundMs, 2_000) {
                failures.append("delivery loop of subscription \(name) has not turned for \(now - last) ms")
            }
        }
        return LivenessReport(failures: failures)
    }

    /// A rebuild holds the writer thread for as long as it takes (minutes on a large log); it counts
    /// as alive while its heartbeat is more recent than the probe bound, so systemd does not kill a daemon
    /// that is busy rebuilding, only one that is stuck.
    private func rebuildIsAdvancing(now: Int64, boundMs: Int64) -> Bool {
        service.projection.lifecycle.withLock { $0.rebuildIsAdvancing(nowMs: now, boundMs: boundMs) }
    }

    private func probeWriter(within bound: Duration) async -> Bool {
        guard writerProbeOutstanding.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        let answered = IdleSignal(idle: false)
        let writer = service.writer
        let probe = self
        // Unstructured on purpose: `perform` cannot be cancelled, and a task group would wait for
        // it; a wedged writer is exactly what this must not wait for.
        Task {
            _ = try? await writer.perform { _ in true }
            answered.set(idle: true)
            probe.writerProbeOutstanding.store(false, ordering: .releasing)
        }
        return await answered.wait(upTo: bound)
    }
}

extension RenkeiService {
    /// The `STATUS=` sent with `READY=1`: no database query, so READY is never held up by it
    /// (``statusLine()`` counts the outbox, which takes seconds on a large one).
    public func startingStatusLine() -> String {
        let state = projection.readiness
        return state == .ready ? "serving" : "serving; views \(state.name.replacingOccurrences(of: "_", with: " ")) from lsn \(projection.lsn)"
    }

    /// A one-line summary for systemd's `STATUS=` (shown by `systemctl status renkeid`): head lsn,
    /// projection lsn, undelivered backlog and dead letters.
    public func statusLine() -> String {
        guard let status = try? statusJSON() else { return "serving (status unavailable: see the log)" }
        let head = status["head_lsn"]?.integerValue ?? 0
        let projected = status["projection_lsn"]?.integerValue ?? 0
        var backlog: Int64 = 0
        var dead: Int64 = 0
        var paused = 0
        for member in status["subscriptions"]?.objectValue ?? JSONObject() {
            backlog += member.value["backlog"]?.integerValue ?? 0
            dead += member.value["dead_letters"]?.integerValue ?? 0
            if member.value["state"]?.stringValue == "paused" { paused += 1 }
        }
        var line = "serving: head lsn \(head), projection lsn \(projected), backlog \(backlog), dead letters \(dead)"
        if paused > 0 { line += ", \(paused) subscription(s) paused" }
        if let rebuild = status["rebuild"], rebuild != .null {
            line += ", rebuilding \(rebuild["done_lsn"]?.integerValue ?? 0)/\(rebuild["target_lsn"]?.integerValue ?? 0)"
        }
        return line
    }
}
