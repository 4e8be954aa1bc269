import Foundation

/// One subcommand's command line, parsed strictly: `--name N` numbers and `--name` flags, each with
/// a line of help that states its default. `--help` or `-h` prints the usage and exits 0; an unknown
/// option, or a number missing or not a whole number, prints what is wrong and the usage to stderr
/// and exits 2, so a typo never starts a benchmark that runs for minutes.
struct BenchOptions {
    /// An option a subcommand takes.
    struct Option {
        /// `--name`.
        let name: String
        /// Whether a whole number follows it (`--name N`); otherwise it is a flag.
        let takesNumber: Bool
        /// The number used when the option is not given (`nil`: the subcommand works it out, and
        /// `help` says how).
        let fallback: Int?
        /// What it sets.
        let help: String

        /// `--name N`: a whole number, 0 or more.
        static func number(_ name: String, default fallback: Int?, _ help: String) -> Option {
            Option(name: name, takesNumber: true, fallback: fallback, help: help)
        }

        /// `--name`: on when given.
        static func flag(_ name: String, _ help: String) -> Option {
            Option(name: name, takesNumber: false, fallback: nil, help: help)
        }

        /// The usage line's text: the help, and the default when there is one.
        var helpWithDefault: String { fallback.map { help + " (default \($0))" } ?? help }
    }

    /// What is wrong with a command line (one line, naming the option).
    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    /// The subcommand (`link`, `deliver`, `replay`).
    let command: String
    /// The options it takes, in the order the usage lists them.
    let options: [Option]
    /// The numbers given, by option name.
    private(set) var numbers: [String: Int] = [:]
    /// The flags given.
    private(set) var flags: Set<String> = []

    /// The usage: one line for the command, then one per option.
    var usage: String {
        let rows = options.map { ($0.name + ($0.takesNumber ? " N" : ""), $0.helpWithDefault) }
            + [("-h, --help", "print this and exit")]
        let width = rows.map(\.0.count).max() ?? 0
        let lines = rows.map { "  " + $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }
        return (["usage: renkei-bench \(command) [options]"] + lines).joined(separator: "\n")
    }

    /// The number given for `name`, else the option's default.
    func number(_ name: String) -> Int {
        guard let value = numbers[name] ?? options.first(where: { $0.name == name })?.fallback else {
            preconditionFailure("\(name) is not an option of \(command) with a default: read it with given(_:)")
        }
        return value
    }

    /// The number given for `name`, if it was.
    func given(_ name: String) -> Int? { numbers[name] }

    /// Whether the flag `name` was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Parses `arguments` (what follows the subcommand).
    /// - Returns: `nil` when they ask for help.
    /// - Throws: ``UsageError`` for an unknown option or argument, or a number missing or malformed.
    static func parse(_ arguments: [String], command: String, options: [Option]) throws(UsageError) -> BenchOptions? {
        if arguments.contains("--help") || arguments.contains("-h") { return nil }
        var parsed = BenchOptions(command: command, options: options)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard let option = options.first(where: { $0.name == argument }) else {
                let what = argument.hasPrefix("-") ? "unknown option" : "unexpected argument"
                throw UsageError(description: "\(what) '\(argument)'")
            }
            index += 1
            guard option.takesNumber else {
                parsed.flags.insert(option.name)
                continue
            }
            guard index < arguments.count else { throw UsageError(description: "\(option.name) needs a number") }
            let text = arguments[index]
            guard let value = Int(text), value >= 0 else {
                throw UsageError(description: "\(option.name) needs a whole number (0 or more), not '\(text)'")
            }
            parsed.numbers[option.name] = value
            index += 1
        }
        return parsed
    }

    /// ``parse(_:command:options:)`` for `main`: on `--help`/`-h` prints the usage and exits 0; on a
    /// usage error prints it and the usage to stderr and exits 2.
    static func parseOrExit(_ arguments: [String], command: String, options: [Option]) -> BenchOptions {
        do {
            if let parsed = try parse(arguments, command: command, options: options) { return parsed }
            print(BenchOptions(command: command, options: options).usage)
            exit(0)
        } catch {
            let usage = BenchOptions(command: command, options: options).usage
            FileHandle.standardError.write(Data("renkei-bench \(command): \(error)\n\(usage)\n".utf8))
            exit(2)
        }
    }
}
