// renkei-bench: Renkei's benchmarks, run by `ops/bench` in a release build.
// Each subcommand prints a table with a same-run baseline and the ratio (see BENCHMARKS.md).
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: renkei-bench <link|deliver|replay|snapshot|file|reconcile> [options]   (renkei-bench <benchmark> --help lists its options)"
guard let command = arguments.first else {
    FileHandle.standardError.write(Data("\(usage)\n".utf8))
    exit(2)
}
if command == "--help" || command == "-h" {
    print(usage)
    exit(0)
}
let options = Array(arguments.dropFirst())
switch command {
// Each area adds its case here and its code in its own file (LinkBench.swift, DeliverBench.swift, …).
case "deliver": DeliverBench.run(options)
case "link": LinkBench.run(options)
case "replay": ReplayBench.run(options)
case "snapshot": SnapshotBench.run(options)
case "file": FileBench.run(options)  // issue 17
case "reconcile": ReconcileBench.run(options)
default:
    FileHandle.standardError.write(Data("renkei-bench: unknown benchmark '\(command)'\n\(usage)\n".utf8))
    exit(2)
}
