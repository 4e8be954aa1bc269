import RenkeiSystem

/// `renkeictl` as a whole: parses the arguments, finds the socket, runs the command and says how it
/// ended. The executable only hands it `CommandLine.arguments` and exits with what it returns.
public enum ControlProgram {
    /// Runs `renkeictl` with `arguments` (without the program name), printing to stdout and stderr.
    /// - Returns: the exit status: 0 ok, 1 the daemon answered with an error (or `verify` found a
    ///   break, or `replay` had rejected lines), 2 a usage error, 3 the socket could not be reached.
    public static func run(_ arguments: [String]) -> Int32 {
        switch ControlInvocation.parse(arguments) {
        case .help(let text):
            print(text, terminator: "")
            return 0
        case .usage(let error):
            Output.error("renkeictl: \(error.message)\n\(ControlHelp.usage)")
            return 2
        case .run(let invocation):
            switch invocation.resolveSocketPath(readFile: Output.readFile) {
            case .failure(let error):
                Output.error("renkeictl: \(error.message)")
                return 2
            case .success(let path):
                let client = UnixHTTPClient(socketPath: path, timeout: .seconds(300))
                return Runner(invocation: invocation, client: client).run()
            }
        }
    }
}
