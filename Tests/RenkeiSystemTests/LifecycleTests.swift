import Synchronization
import Testing
@testable import RenkeiSystem

/// Records the order in which test services start and stop.
private final class Journal: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// Runs until cancelled, noting its start and its stop.
private struct Recording: Service {
    let name: String
    let journal: Journal
    let started: Latch

    func run() async throws {
        journal.add("start \(name)")
        started.open()
        await waitUntilCancelled()
        journal.add("stop \(name)")
    }
}

private struct Broken: Error, Equatable {}

@Suite struct ServiceGroupTests {
    @Test func gracefulShutdownCancelsInReverseOrderOneAtATime() async throws {
        let journal = Journal()
        let names = ["status", "lane", "projector", "spool"]
        let latches = names.map { _ in Latch() }
        let group = ServiceGroup(services: zip(names, latches).map { Recording(name: $0, journal: journal, started: $1) })
        async let run: Void = group.run()
        for latch in latches { await latch.wait() }
        group.triggerGracefulShutdown()
        try await run
        let stops = journal.all.filter { $0.hasPrefix("stop") }
        #expect(stops == ["stop spool", "stop projector", "stop lane", "stop status"])
    }

    @Test func aServiceThatThrowsStopsTheOthersAndTheGroupThrowsItsError() async throws {
        let journal = Journal()
        let started = Latch()
        let other = Recording(name: "other", journal: journal, started: started)
        let failing = ClosureService(name: "failing") {
            await started.wait()
            throw Broken()
        }
        let group = ServiceGroup(services: [other, failing])
        do {
            try await group.run()
            Issue.record("the group returned without an error")
        } catch let error as ServiceGroupError {
            #expect(error.service == "failing")
            #expect(error.cause as? Broken == Broken())
        }
        #expect(journal.all == ["start other", "stop other"])
    }

    @Test func aServiceThatReturnsOnItsOwnStopsTheGroup() async throws {
        let journal = Journal()
        let started = Latch()
        let group = ServiceGroup(services: [
            Recording(name: "other", journal: journal, started: started),
            ClosureService(name: "quitter") { await started.wait() },
        ])
        await #expect(throws: ServiceGroupError.self) { try await group.run() }
        #expect(journal.all == ["start other", "stop other"])
    }

    @Test func runReturnsWhenItsTaskIsCancelled() async throws {
        let journal = Journal()
        let started = Latch()
        let group = ServiceGroup(services: [Recording(name: "only", journal: journal, started: started)])
        let task = Task { try await group.run() }
        await started.wait()
        task.cancel()
        try await task.value
        #expect(journal.all == ["start only", "stop only"])
    }

    @Test func aShutdownRequestedBeforeRunStopsAtOnce() async throws {
        let journal = Journal()
        let group = ServiceGroup(services: [Recording(name: "only", journal: journal, started: Latch())])
        group.triggerGracefulShutdown()
        try await group.run()
        // The service may or may not have started before its stop; it never outlives the group.
        #expect(journal.all.last == "stop only" || journal.all.isEmpty)
    }
}

@Suite struct ManualClockTests {
    @Test func advanceResumesOnlyTheSleepersItReaches() async throws {
        let clock = ManualClock()
        let woke = Journal()
        async let short: Void = { try await clock.sleep(for: .seconds(1)); woke.add("short") }()
        async let long: Void = { try await clock.sleep(for: .seconds(5)); woke.add("long") }()
        await clock.sleepUntilSleepers(2)
        clock.advance(by: .seconds(1))
        try await short
        #expect(woke.all == ["short"])
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(4))
        try await long
        #expect(woke.all == ["short", "long"])
    }

    @Test func aCancelledSleepThrows() async throws {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.sleepUntilSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func wallTimeFollowsTheClock() {
        let clock = ManualClock()
        let before = clock.wallClock.nowMs()
        clock.advance(by: .milliseconds(1500))
        #expect(clock.wallClock.nowMs() - before == 1500)
    }
}
