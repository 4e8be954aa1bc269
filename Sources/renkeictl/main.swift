// renkeictl: operate renkeid through its status socket. Parsing and formatting live in
// RenkeiSystem (Control/) where they are tested; this file only wires them to the process.
import Glibc
import RenkeiSystem

switch ControlInvocation.parse(Array(CommandLine.arguments.dropFirst())) {
case .help(let text):
    print(text, terminator: "")
    exit(0)
case .usage(let error):
    Output.error("renkeictl: \(error.message)\n\(ControlHelp.usage)")
    exit(2)
case .run(let invocation):
    switch invocation.resolveSocketPath(readFile: Output.readFile) {
    case .failure(let error):
        Output.error("renkeictl: \(error.message)")
        exit(2)
    case .success(let path):
        let runner = Runner(invocation: invocation, client: UnixHTTPClient(socketPath: path, timeout: .seconds(300)))
        exit(runner.run())
    }
}
