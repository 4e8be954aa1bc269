/// Where log lines go: standard error (journald reads it) or a closure (tests collect lines).
public struct LogSink: Sendable {
    let write: @Sendable (String) -> Void

    /// A sink that hands each finished line (without newline) to `write`.
    /// - Parameter write: called once per message, possibly from several threads at once.
    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    /// Standard error, one `write(2)` per line so lines from different threads never interleave.
    public static let standardError = LogSink { line in
        StandardError.write(line + "\n")
    }
}

/// A logger value shaped like swift-log's: passed in, never built inside a library.
///
/// Each message becomes one line `"<N>label: message"`, where `<N>` is the sd-daemon priority prefix
/// journald understands (sd-daemon(3)). Newlines, carriage returns and other control characters in
/// the message are escaped (`\n`, `\r`, `\u{7}`) so that one message is always one line.
public struct Logger: Sendable {
    /// Syslog priorities, as sd-daemon(3) prefixes use them.
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        /// `<3>` something failed and needs attention.
        case error = 3
        /// `<4>` something is wrong but the daemon carries on.
        case warning = 4
        /// `<5>` a normal but significant event (start, stop, reload).
        case notice = 5
        /// `<6>` routine information.
        case info = 6
        /// `<7>` detail for debugging.
        case debug = 7

        /// More severe levels compare smaller, as in syslog.
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The label written before each message, e.g. `renkeid` or `renkeid.delivery`.
    public var label: String
    /// Messages less severe than this are dropped.
    public var minimumLevel: Level
    /// Where lines go.
    public var sink: LogSink

    /// Creates a logger.
    /// - Parameters:
    ///   - label: written before each message.
    ///   - minimumLevel: the least severe level written (default `.info`).
    ///   - sink: where lines go (default standard error).
    public init(label: String, minimumLevel: Level = .info, sink: LogSink = .standardError) {
        self.label = label
        self.minimumLevel = minimumLevel
        self.sink = sink
    }

    /// The same logger with another label, e.g. `logger.labelled("renkeid.http")`.
    public func labelled(_ label: String) -> Logger {
        var copy = self
        copy.label = label
        return copy
    }

    /// Writes `message` at `level` if the level passes ``minimumLevel``.
    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard level <= minimumLevel else { return }
        sink.write(Self.format(level: level, label: label, message: message()))
    }

    /// Logs at `.error` (`<3>`).
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    /// Logs at `.warning` (`<4>`).
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    /// Logs at `.notice` (`<5>`).
    public func notice(_ message: @autoclosure () -> String) { log(.notice, message()) }
    /// Logs at `.info` (`<6>`).
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    /// Logs at `.debug` (`<7>`).
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    /// The line for one message: `<N>label: message` with control characters escaped.
    public static func format(level: Level, label: String, message: String) -> String {
        "<\(level.rawValue)>\(escape(label)): \(escape(message))"
    }

    /// Escapes what would break a line: `\n`, `\r`, other C0/C1 controls, and U+2028/U+2029.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case _ where needsEscape(scalar):
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (v < 0x20 && v != 0x09) || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029
    }
}
