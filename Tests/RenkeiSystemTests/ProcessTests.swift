import Foundation
import Glibc
import Testing
@testable import RenkeiSystem

@Suite struct SystemdNotifierTests {
    @Test func sendsReadyToTheNotifySocket() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/notify"
        let receiver = try Socket.make(family: AF_UNIX, datagram: true)
        try receiver.bind(.unix(path))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.isEnabled)
        #expect(notifier.notify("READY=1"))
        #expect(try receiver.waitReadable(timeout: .seconds(2)))
        var buffer: [UInt8] = []
        _ = try receiver.read(appendingTo: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "READY=1")
    }

    @Test func abstractSocket() throws {
        let name = "@renkei-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try Socket.make(family: AF_UNIX, datagram: true)
        try receiver.bind(.unix(name))
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": name]).notify("STOPPING=1"))
        var buffer: [UInt8] = []
        #expect(try receiver.waitReadable(timeout: .seconds(2)))
        _ = try receiver.read(appendingTo: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "STOPPING=1")
    }

    /// A receiver that never reads fills its queue (net.unix.max_dgram_qlen, 10 by default); renkeid
    /// then used to block in sendto(2) on the cooperative pool, which stalled every task (stop hung).
    @Test func neverBlocksWhenTheReceiverStopsReading() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/notify"
        let receiver = try Socket.make(family: AF_UNIX, datagram: true)
        try receiver.bind(.unix(path))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        let results = Mutex<[Bool]>([])
        let finished = DispatchSemaphore(value: 0)
        // On a dedicated thread, so that a regression fails the test instead of hanging it.
        let thread = Thread {
            for number in 0..<200 { results.withLock { $0.append(notifier.notify("STATUS=update \(number)")) } }
            finished.signal()
        }
        thread.start()
        #expect(finished.wait(timeout: .now() + 60) == .success, "notify blocked on a full notification socket")
        let sent = results.withLock { $0 }
        #expect(sent.count == 200)
        #expect(sent.first == true)
        #expect(sent.contains(false), "200 unread datagrams cannot all fit the receiver's queue")
        var buffer: [UInt8] = []
        _ = try receiver.read(appendingTo: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "STATUS=update 0")
    }

    @Test func disabledWithoutNotifySocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.notify("READY=1"))
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func watchdogIntervalHonoursWatchdogPid() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "20000000"]).watchdogInterval == .seconds(20))
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "\(getpid())"])
                .watchdogInterval == .seconds(20))
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        #expect(SystemdNotifier.reloading().hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
    }
}

@Suite struct LoggerTests {
    @Test func lineFormatAndLevels() {
        let lines = LogLines()
        let logger = Logger(label: "renkeid", minimumLevel: .info, sink: lines.sink)
        logger.error("disk full")
        logger.warning("slow")
        logger.notice("started")
        logger.info("hello")
        logger.debug("hidden")
        #expect(lines.all == ["<3>renkeid: disk full", "<4>renkeid: slow", "<5>renkeid: started", "<6>renkeid: hello"])
    }

    @Test func newlinesAreEscapedSoEachMessageIsOneLine() {
        let lines = LogLines()
        Logger(label: "x", sink: lines.sink).error("line one\nline two\r\n\u{7}end 日本\ttab")
        #expect(lines.all == ["<3>x: line one\\nline two\\r\\n\\u{7}end 日本\ttab"])
        #expect(!lines.all[0].contains("\n"))
    }

    @Test func debugMessagesAreNotBuiltWhenFiltered() {
        let lines = LogLines()
        let logger = Logger(label: "x", minimumLevel: .warning, sink: lines.sink)
        logger.info({ () -> String in Issue.record("evaluated"); return "" }())
        #expect(lines.all.isEmpty)
    }
}

@Suite struct SignalWatcherTests {
    @Test func deliversHangUp() async throws {
        let received = Mutex<[RenkeiSystem.Signal]>([])
        let watcher = SignalWatcher(signals: [.hangUp]) { signal in received.withLock { $0.append(signal) } }
        defer { watcher.cancel() }
        kill(getpid(), SIGHUP)
        let deadline = ContinuousClock.now + .seconds(20)
        while received.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(received.withLock { $0 } == [.hangUp])
    }
}

import Synchronization
