import RenkeiSystem
import Synchronization

/// systemd's watchdog and `STATUS=`: every half `WatchdogSec` (or every 10 s without a watchdog),
/// probes the writer and delivery loops (``Watchdog``), sends `WATCHDOG=1` only if they answered,
/// and refreshes `STATUS=`. Ticks run on `clock`.
struct HeartbeatService: Service {
    let notifier: SystemdNotifier
    let clock: any Clock<Duration>
    let logger: Logger
    /// The service now running; `nil` between the old and the new during a reload.
    let current: ServiceSlot

    var name: String { "heartbeat" }

    func run() async {
        await run(on: clock)
    }

    private func run<C: Clock>(on clock: C) async where C.Duration == Duration {
        let watchdogInterval = notifier.watchdogInterval
        let tick = watchdogInterval.map { $0 / 2 } ?? .seconds(10)
        // A probe may take up to 40% of the interval, so a ping is never later than ~0.9 × WatchdogSec.
        let bound = watchdogInterval.map { $0 * 0.4 } ?? .seconds(5)
        if watchdogInterval != nil { notifier.notify("WATCHDOG=1") }
        var schedule = TickSchedule(tick: tick, start: .zero)
        let start = clock.now
        while !Task.isCancelled {
            let elapsed = start.duration(to: clock.now)
            let wait = schedule.next(now: elapsed)
            do {
                try await clock.sleep(for: wait)
            } catch {
                return
            }
            guard let service = current.service else {
                // Between the old and the new service during a reload, which is bounded by stop deadlines.
                if watchdogInterval != nil { notifier.notify("WATCHDOG=1") }
                continue
            }
            let report = await Watchdog(service: service).check(within: bound)
            if Task.isCancelled { return }
            if report.isAlive {
                notifier.notify((watchdogInterval != nil ? "WATCHDOG=1\n" : "") + "STATUS=\(service.statusLine())")
            } else {
                let problem = report.failures.joined(separator: "; ")
                logger.error("watchdog: \(problem); not telling systemd we are alive (it restarts renkeid after WatchdogSec)")
                notifier.notify("STATUS=unhealthy: \(problem)")
            }
        }
    }
}

/// A fixed-rate tick that never catches up in a burst: a loop that fell a whole tick behind (a busy
/// machine) starts again from now, so ticks stay about a tick apart.
struct TickSchedule {
    let tick: Duration
    /// When the next tick is due, measured from the loop's start.
    private(set) var due: Duration

    init(tick: Duration, start: Duration) {
        self.tick = tick
        self.due = start
    }

    /// Moves to the next tick.
    /// - Parameter now: the time since the loop's start.
    /// - Returns: how long to sleep until it.
    mutating func next(now: Duration) -> Duration {
        due += tick
        if due < now { due = now }
        return due - now
    }
}
