// renkeid: the Renkei sync daemon. A systemd `Type=notify` service (contract §6).
import Foundation
import RenkeiCore
import RenkeiDaemon
import RenkeiSystem
import Synchronization

let usage = """
    usage: renkeid [--config FILE] [--check-config] [--version]

      --config FILE     configuration file (default \(Configuration.defaultPath))
      --check-config    read and check the configuration and schemas, then exit (0 = fine)
      --version         print the version and exit
    """

var configPath = Configuration.defaultPath
var checkOnly = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--config":
        guard let value = arguments.popFirst() else {
            FileHandle.standardError.write(Data("renkeid: --config needs a file name\n\(usage)\n".utf8))
            exit(2)
        }
        configPath = value
    case "--check-config": checkOnly = true
    case "--version":
        print("renkeid \(RenkeiService.version)")
        exit(0)
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        FileHandle.standardError.write(Data("renkeid: unknown argument '\(argument)'\n\(usage)\n".utf8))
        exit(2)
    }
}

RenkeiService.prepareProcess()
let bootLogger = Logger(label: "renkeid")
let configuration: Configuration
do {
    configuration = try Configuration.load(path: configPath)
} catch {
    bootLogger.error("\(error.message)")
    exit(78)  // EX_CONFIG: systemd does not restart-loop on a broken configuration
}
if checkOnly {
    // Checks and writes nothing: no state folder, no database, no socket (a whole service would
    // create and migrate them).
    do {
        try RenkeiService.check(configuration)
    } catch {
        bootLogger.error("\(error.message)")
        exit(78)
    }
    print("renkeid: \(configPath) is fine")
    exit(0)
}
let level: Logger.Level = switch configuration.logLevel {
case "debug": .debug
case "notice": .notice
case "warning": .warning
case "error": .error
default: .info
}
let logger = Logger(label: "renkeid", minimumLevel: level)
let notifier = SystemdNotifier()

/// Signals arrive here from the watcher's queue.
let signals = AsyncStream<Signal>.makeStream()
let watcher = SignalWatcher(signals: [.terminate, .interrupt, .hangUp]) { signal in signals.continuation.yield(signal) }

/// The service now running; replaced by a SIGHUP reload.
let current = Mutex<RenkeiService?>(nil)

let exitCode: Int32 = await {
    var running = configuration
    do {
        let service = try await RenkeiService(configuration: configuration, logger: logger)
        try service.start()
        current.withLock { $0 = service }
    } catch let error as RenkeiError {
        logger.error("cannot start: \(error.message)")
        return error.code == .invalidConfiguration ? 78 : 1
    } catch {
        logger.error("cannot start: \(error)")
        return 1
    }
    // A cheap STATUS= with READY=1 (the full line counts the outbox); the heartbeat refreshes it.
    notifier.notify("READY=1\nSTATUS=\(current.withLock { $0 }?.startingStatusLine() ?? "serving")")
    let heartbeat = Task { await heartbeatLoop() }
    for await signal in signals.stream {
        switch signal {
        case .hangUp:
            notifier.notify(SystemdNotifier.reloading() + "\nSTATUS=reloading \(configPath)")
            if let reloaded = await reload(from: running, path: configPath) {
                running = reloaded
            } else if current.withLock({ $0 }) == nil {
                heartbeat.cancel()
                return 1
            }
            notifier.notify("READY=1\nSTATUS=\(current.withLock { $0 }?.startingStatusLine() ?? "serving")")
        case .terminate, .interrupt:
            notifier.notify("STOPPING=1\nSTATUS=stopping")
            logger.notice("stopping on \(signal)")
            heartbeat.cancel()
            let service = current.withLock { service in
                defer { service = nil }
                return service
            }
            await service?.stop(deadline: .seconds(10))
            return 0
        }
    }
    return 0
}()
watcher.cancel()
exit(exitCode)

// MARK: - Watchdog and STATUS=

/// Every half `WatchdogSec` (or every 10 s without a watchdog): probe the writer and delivery loops,
/// send `WATCHDOG=1` only if they answered, and refresh `STATUS=`.
func heartbeatLoop() async {
    let watchdogInterval = notifier.watchdogInterval
    let tick = watchdogInterval.map { $0 / 2 } ?? .seconds(10)
    // A probe may take up to 40% of the interval, so a ping is never later than ~0.9 × WatchdogSec.
    let bound = watchdogInterval.map { $0 * 0.4 } ?? .seconds(5)
    let clock = ContinuousClock()
    var next = clock.now
    if watchdogInterval != nil { notifier.notify("WATCHDOG=1") }
    while !Task.isCancelled {
        next = next.advanced(by: tick)
        // Fixed rate, but never catching up in a burst: a loop that fell a whole tick behind (a busy
        // machine) starts again from now, so pings stay about a tick apart.
        if next < clock.now { next = clock.now }
        try? await Task.sleep(until: next, clock: clock)
        if Task.isCancelled { return }
        guard let service = current.withLock({ $0 }) else {
            // Between the old and the new service during a reload, which is bounded by stop deadlines.
            if watchdogInterval != nil { notifier.notify("WATCHDOG=1") }
            continue
        }
        let report = await Watchdog(service: service).check(within: bound)
        if report.isAlive {
            notifier.notify((watchdogInterval != nil ? "WATCHDOG=1\n" : "") + "STATUS=\(service.statusLine())")
        } else {
            let problem = report.failures.joined(separator: "; ")
            logger.error("watchdog: \(problem); not telling systemd we are alive (it restarts renkeid after WatchdogSec)")
            notifier.notify("STATUS=unhealthy: \(problem)")
        }
    }
}

// MARK: - SIGHUP

/// Reloads sources and subscriptions: the new configuration is checked first and refused (the old
/// one keeps running) when wrong; an accepted one replaces the service on the same state.
/// - Returns: the configuration now running, or `nil` when it did not change (refused, or fell back).
func reload(from running: Configuration, path configPath: String) async -> Configuration? {
    let next: Configuration
    do {
        next = try RenkeiService.loadForReload(path: configPath, current: running)
    } catch {
        logger.error("SIGHUP: \(configPath) refused, still running the previous configuration: \(error.message)")
        return nil
    }
    logger.notice("SIGHUP: reloading \(configPath): \(next.sources.count) source(s), \(next.subscriptions.count) subscription(s)")
    let old = current.withLock { service in
        defer { service = nil }
        return service
    }
    await old?.stop(deadline: .seconds(5))
    do {
        let service = try await RenkeiService(configuration: next, logger: logger)
        try service.start()
        current.withLock { $0 = service }
        logger.notice("SIGHUP: reloaded")
        return next
    } catch {
        logger.error("SIGHUP: the new configuration did not start (\(error)); starting the previous one again")
    }
    do {
        let service = try await RenkeiService(configuration: running, logger: logger)
        try service.start()
        current.withLock { $0 = service }
    } catch {
        logger.error("SIGHUP: the previous configuration did not start again either (\(error)); exiting so systemd restarts renkeid")
    }
    return nil
}
