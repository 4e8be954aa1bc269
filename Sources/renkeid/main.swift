// renkeid: the Renkei sync daemon. A systemd `Type=notify` service (contract §6).
import Foundation
import RenkeiCore
import RenkeiDaemon
import RenkeiSystem

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

let exitCode: Int32 = await {
    let service: RenkeiService
    do {
        service = try await RenkeiService(configuration: configuration, logger: logger)
        if checkOnly {
            print("renkeid: \(configPath) is fine")
            return 0
        }
        try service.start()
    } catch let error as RenkeiError {
        logger.error("cannot start: \(error.message)")
        return error.code == .invalidConfiguration ? 78 : 1
    } catch {
        logger.error("cannot start: \(error)")
        return 1
    }
    notifier.notify("READY=1\nSTATUS=serving")
    var watchdog: Task<Void, Never>?
    if let interval = notifier.watchdogInterval {
        watchdog = Task {
            while !Task.isCancelled {
                notifier.notify("WATCHDOG=1")
                try? await Task.sleep(for: interval / 2)
            }
        }
    }
    for await signal in signals.stream {
        switch signal {
        case .hangUp:
            notifier.notify("RELOADING=1")
            logger.notice("SIGHUP: reloading sources and subscriptions is not supported yet; restart to apply configuration changes")
            notifier.notify("READY=1\nSTATUS=serving")
        case .terminate, .interrupt:
            notifier.notify("STOPPING=1\nSTATUS=stopping")
            logger.notice("stopping on \(signal)")
            watchdog?.cancel()
            await service.stop(deadline: .seconds(10))
            return 0
        }
    }
    return 0
}()
watcher.cancel()
exit(exitCode)
