// renkeid: the Renkei sync daemon. A systemd `Type=notify` service (contract §6).
// Parses its arguments, builds the daemon, runs it, and maps what ended it to an exit code.
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
let daemon = Daemon(configuration: configuration, configPath: configPath, logger: logger, notifier: SystemdNotifier())
let watcher = SignalWatcher(signals: [.terminate, .interrupt, .hangUp]) { signal in daemon.handle(signal) }
let exitCode: Int32
do {
    try await daemon.run()
    exitCode = 0
} catch {
    exitCode = error.exitCode
}
watcher.cancel()
exit(exitCode)
