import Foundation
import Glibc
import RenkeiCore
@testable import RenkeiDaemon
@testable import RenkeiSystem
import Testing

/// The projection's lifecycle state machine: each transition and the action it returns.
@Suite struct ProjectionLifecycleTests {
    @Test func aFreshStateIsLiveAtOnceAndLoadsNothing() {
        var machine = ProjectionLifecycle(readiness: .ready)
        #expect(machine.start() == .none)
        #expect(machine.isLive)
        #expect(machine.checkpointWhileLoading == nil)
    }

    @Test func loadingThenCatchingUpThenLive() {
        var machine = ProjectionLifecycle(readiness: .loading(checkpoint: 80))
        #expect(machine.checkpointWhileLoading == 80)
        #expect(machine.start() == .startLoader(checkpoint: 80))
        #expect(machine.loaded(readable: true) == .install)
        machine.installed()
        #expect(machine.readiness == .catchingUp)
        #expect(!machine.isLive)
        #expect(machine.caughtUpChunk(reachedHead: false) == .continueCatchingUp)
        #expect(machine.caughtUpChunk(reachedHead: true) == .announceLive)
        #expect(machine.readiness == .ready)
    }

    @Test func unreadableStoredViewsAreRebuiltFromTheLog() {
        var machine = ProjectionLifecycle(readiness: .loading(checkpoint: 5))
        _ = machine.start()
        #expect(machine.loaded(readable: false) == .rebuildFromLog)
    }

    @Test func stoppingWhileLoadingCancelsTheLoaderAndDiscardsWhatItRead() {
        var machine = ProjectionLifecycle(readiness: .loading(checkpoint: 5))
        _ = machine.start()
        #expect(machine.stop() == .cancelLoader)
        #expect(machine.isStopping)
        #expect(machine.loaded(readable: true) == .discard)
        #expect(machine.stop() == .none, "a second stop has nothing left to cancel")
    }

    @Test func stoppingWhileCatchingUpStopsAtTheNextChunk() {
        var machine = ProjectionLifecycle(readiness: .loading(checkpoint: 5))
        _ = machine.start()
        _ = machine.loaded(readable: true)
        machine.installed()
        #expect(machine.stop() == .none)
        #expect(machine.caughtUpChunk(reachedHead: false) == .stop)
    }

    @Test func aRebuildIsRefusedWhileLoadingAndWhileOneRuns() {
        var loading = ProjectionLifecycle(readiness: .loading(checkpoint: 5))
        #expect(loading.rebuildRequested(nowMs: 1) == .refuseLoading(state: "loading"))

        var machine = ProjectionLifecycle(readiness: .ready)
        #expect(machine.rebuildRequested(nowMs: 1) == .start)
        #expect(machine.rebuildRequested(nowMs: 2) == .refuseRunning)
        machine.rebuildAbandoned()
        #expect(machine.rebuildRequested(nowMs: 3) == .start)
    }

    @Test func aRebuildReportsProgressAndItsHeartbeatKeepsItAlive() {
        var machine = ProjectionLifecycle(readiness: .ready)
        _ = machine.rebuildRequested(nowMs: 1_000)
        machine.rebuildBegan(target: 500, nowMs: 1_000)
        #expect(machine.rebuild == .init(done: 0, target: 500, heartbeatMs: 1_000))
        machine.rebuildProgressed(done: 200, nowMs: 4_000)
        #expect(machine.rebuild?.done == 200)
        #expect(machine.rebuildIsAdvancing(nowMs: 5_000, boundMs: 2_000))
        #expect(!machine.rebuildIsAdvancing(nowMs: 7_000, boundMs: 2_000), "no beat for 3 s: stuck")
        machine.beat(nowMs: 6_500)
        #expect(machine.rebuildIsAdvancing(nowMs: 7_000, boundMs: 2_000))
        machine.rebuildSucceeded()
        machine.rebuildEnded()
        #expect(machine.rebuild == nil)
        #expect(machine.isLive)
        #expect(!machine.rebuildIsAdvancing(nowMs: 7_000, boundMs: 2_000), "no rebuild runs")
    }

    @Test func aFailedRebuildWithoutStoredViewsGoesBackToLoading() {
        var machine = ProjectionLifecycle(readiness: .ready)
        machine.rebuildBegan(target: 10, nowMs: 0)
        machine.rebuildLeftNoViews(checkpoint: 7)
        machine.rebuildEnded()
        #expect(machine.readiness == .loading(checkpoint: 7))
        #expect(machine.checkpointWhileLoading == 7)
        #expect(!machine.isLive)
    }
}

/// SIGHUP and SIGTERM as actions of the daemon's group.
@Suite struct ReloadStateMachineTests {
    func configuration(_ municipality: String) throws -> Configuration {
        let root = URL(fileURLWithPath: "/tmp/renkei-reload-\(municipality)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let config: JSONObject = [
            "municipality": .string(municipality), "state_dir": .string(root.appendingPathComponent("state").path),
            "status_socket": .string(root.appendingPathComponent("s.sock").path),
            "sources": ["resident": ["spool": .string(root.appendingPathComponent("spool").path)]],
            "secrets": ["at_rest_key_file": .string(try TestKeyFile.ensure(in: root))],
        ]
        return try Configuration(json: .object(config), file: "test.json")
    }

    @Test func aRefusedReloadKeepsTheRunningServices() throws {
        var machine = ReloadStateMachine(running: try configuration("131016"))
        let action = machine.hangUp(checked: .failure(RenkeiError(.invalidConfiguration, "broken")))
        #expect(action == .refuse("broken"))
        guard case .running = machine.state else { Issue.record("not running: \(machine.state)"); return }
    }

    @Test func anAcceptedReloadStopsThenStartsTheNewConfiguration() throws {
        let old = try configuration("131016")
        let new = try configuration("131024")
        var machine = ReloadStateMachine(running: old)
        #expect(machine.hangUp(checked: .success(new)) == .stopForReload(deadline: .seconds(5)))
        #expect(machine.hangUp(checked: .success(new)) == .ignore, "one reload at a time")
        guard case .start(let next) = machine.servicesStopped() else { Issue.record("no start"); return }
        #expect(next.municipality == "131024")
        #expect(machine.servicesStarted() == .announceReady(reloaded: true))
        #expect(machine.configuration?.municipality == "131024")
    }

    @Test func aNewConfigurationThatDoesNotStartFallsBackThenFails() throws {
        var machine = ReloadStateMachine(running: try configuration("131016"))
        _ = machine.hangUp(checked: .success(try configuration("131024")))
        _ = machine.servicesStopped()
        guard case .fallBack(let previous) = machine.startFailed() else { Issue.record("no fallback"); return }
        #expect(previous.municipality == "131016")
        guard case .fail = machine.startFailed() else { Issue.record("a second failure must end renkeid"); return }
    }

    @Test func terminateStopsOnceAndFinishes() throws {
        var machine = ReloadStateMachine(running: try configuration("131016"))
        #expect(machine.terminate() == .stop(deadline: .seconds(10)))
        #expect(machine.terminate() == .ignore)
        #expect(machine.hangUp(checked: .success(try configuration("131024"))) == .ignore)
        guard case .finish = machine.servicesStopped() else { Issue.record("not finished"); return }
    }
}

@Suite struct TickScheduleTests {
    @Test func keepsAFixedRateButNeverBursts() {
        var schedule = TickSchedule(tick: .seconds(10), start: .zero)
        #expect(schedule.next(now: .zero) == .seconds(10))
        #expect(schedule.next(now: .seconds(11)) == .seconds(9), "a late tick keeps the rate")
        // 35 s late: starts again from now instead of sending the missed ticks at once.
        #expect(schedule.next(now: .seconds(55)) == .zero)
        #expect(schedule.next(now: .seconds(55)) == .seconds(10))
    }
}

/// The pull interval and backoff run on the service's clock: driven here by a manual clock,
/// with no sleep in the test.
@Suite struct PullClockTests {
    @Test(.timeLimit(.minutes(5)))
    func failuresBackOffOnTheServiceClock() async throws {
        let fixture = try await IngestFixture(push: false, start: false)
        defer { Task { await fixture.stop() } }
        let clock = ManualClock()
        // Nothing listens on port 1 of loopback: every attempt fails at once (connection refused).
        let pull = try PullSource(
            source: "tax", pull: Configuration.Pull(url: "http://127.0.0.1:1/changes", intervalSeconds: 10, headers: [:]),
            rejectedFolder: fixture.root.appendingPathComponent("rejected").path, ingestor: fixture.service.ingestor,
            client: fixture.service.client, logger: Logger(label: "pull", minimumLevel: .error, sink: LogSink { _ in }),
            clock: clock, wallClock: clock.wallClock)
        let group = ServiceGroup(services: [pull])
        async let running: Void = group.run()

        func failures() -> Int64? {
            fixture.service.ingestor.statistics.statusJSON(now: clock.wallClock.now())["tax"]?["pull"]?["consecutive_failures"]?
                .integerValue
        }
        await clock.sleepUntilSleepers(1)
        #expect(failures() == 1)
        // First retry after interval · 2^0 = 10 s, ±20 %.
        let first = try #require(clock.sleeperDeadlines.first)
        #expect(first.offset >= .seconds(8) && first.offset <= .seconds(12))

        clock.advance(by: first.offset)
        await clock.sleepUntilSleepers(1)
        #expect(failures() == 2)
        // Then 10 s · 2 = 20 s, ±20 %, from the second failure.
        let second = try #require(clock.sleeperDeadlines.first)
        let gap = first.duration(to: second)
        #expect(gap >= .seconds(16) && gap <= .seconds(24))

        group.triggerGracefulShutdown()
        try await running
    }
}

/// The heartbeat's ticks run on the daemon's clock: with a manual clock, each advance by half
/// `WatchdogSec` sends one `WATCHDOG=1`, and nothing waits for real time.
@Suite struct HeartbeatClockTests {
    @Test(.timeLimit(.minutes(5)))
    func eachTickOfTheClockSendsOneWatchdogPing() async throws {
        let folder = "/tmp/rkh-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/notify"
        let receiver = try Socket.make(family: AF_UNIX, datagram: true)
        try receiver.bind(.unix(path))
        func nextMessage() async throws -> String {
            // Bounded wait for a datagram that is due now (never used to prove that none came),
            // polled so that the wait holds no thread of the cooperative pool: the heartbeat that
            // sends the datagram needs one (with two cores there are two).
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while try !receiver.waitReadable(timeout: .zero) {
                guard ContinuousClock.now < deadline else { return "(nothing)" }
                try await Task.sleep(for: .milliseconds(20))
            }
            var buffer: [UInt8] = []
            _ = try receiver.read(appendingTo: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"])
        let clock = ManualClock()
        // No service runs (as between two during a reload): each tick is a bare WATCHDOG=1.
        let heartbeat = HeartbeatService(
            notifier: notifier, clock: clock, logger: Logger(label: "t", minimumLevel: .error, sink: LogSink { _ in }),
            current: ServiceSlot())
        let group = ServiceGroup(services: [heartbeat])
        async let running: Void = group.run()

        #expect(try await nextMessage() == "WATCHDOG=1", "one ping at start")
        for _ in 0..<3 {
            await clock.sleepUntilSleepers(1)
            #expect(clock.sleeperDeadlines.first.map { clock.now.duration(to: $0) } == .seconds(10), "a tick is half WatchdogSec")
            clock.advance(by: .seconds(10))
            #expect(try await nextMessage() == "WATCHDOG=1")
        }
        group.triggerGracefulShutdown()
        try await running
    }
}
