import Glibc

/// An operating-system failure: which operation failed, the `errno` it reported, its `strerror` text,
/// and a message that tells an operator what to do about it.
///
/// Shaped like FlyingFox's `SocketError` and swift-nio's `IOError`: the errno is kept so callers can
/// branch on ``code`` (for example `renkeictl` turns ``Code/notFound`` into "is renkeid running?").
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, derived from errno or the protocol step that failed.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case notFound, permissionDenied, connectionRefused, addressInUse, timedOut, invalidArgument
            case protocolError, other
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A path does not exist (`ENOENT`).
        public static let notFound = Code(.notFound)
        /// The caller may not use the file or socket (`EACCES`, `EPERM`).
        public static let permissionDenied = Code(.permissionDenied)
        /// Nobody is listening (`ECONNREFUSED`).
        public static let connectionRefused = Code(.connectionRefused)
        /// The address is already taken (`EADDRINUSE`).
        public static let addressInUse = Code(.addressInUse)
        /// An operation did not finish in time (`ETIMEDOUT`, `EAGAIN` after a socket timeout).
        public static let timedOut = Code(.timedOut)
        /// A parameter was rejected before or by the kernel (`EINVAL`, a too-long socket path, …).
        public static let invalidArgument = Code(.invalidArgument)
        /// The peer spoke something that is not the expected protocol.
        public static let protocolError = Code(.protocolError)
        /// Any other failure.
        public static let other = Code(.other)

        /// The code for an errno value.
        static func from(errno value: Int32) -> Code {
            switch value {
            case ENOENT: return .notFound
            case EACCES, EPERM: return .permissionDenied
            case ECONNREFUSED: return .connectionRefused
            case EADDRINUSE: return .addressInUse
            case ETIMEDOUT, EAGAIN: return .timedOut
            case EINVAL, ENAMETOOLONG: return .invalidArgument
            default: return .other
            }
        }

        /// The code's name.
        public var description: String { "\(value)" }
    }

    /// The kind of failure.
    public var code: Code
    /// The operation that failed, e.g. `"bind(/run/renkei/status.sock)"`.
    public var operation: String
    /// The errno the kernel reported, if the failure came from a system call.
    public var errorNumber: Int32?
    /// What went wrong and what to do about it.
    public var message: String

    /// Creates an error for a failed system call from its errno.
    /// - Parameters:
    ///   - operation: the call and its main argument, e.g. `"connect(/run/renkei/status.sock)"`.
    ///   - errorNumber: the errno value the call left.
    ///   - hint: what an operator should do; a generic hint is derived from errno when absent.
    public init(operation: String, errorNumber: Int32, hint: String? = nil) {
        self.code = Code.from(errno: errorNumber)
        self.operation = operation
        self.errorNumber = errorNumber
        let text = String(cString: strerror(errorNumber))
        self.message = "\(operation) failed: \(text) (errno \(errorNumber))"
            + (hint ?? Self.defaultHint(errorNumber)).map { "; \($0)" }.orEmpty
    }

    /// Creates an error that did not come from errno (a protocol violation, a bad argument).
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - operation: what was being done.
    ///   - message: what went wrong and what to do.
    public init(_ code: Code, operation: String, message: String) {
        self.code = code
        self.operation = operation
        self.errorNumber = nil
        self.message = "\(operation) failed: \(message)"
    }

    /// The message, for logs and operators.
    public var description: String { message }

    private static func defaultHint(_ value: Int32) -> String? {
        switch value {
        case EACCES, EPERM: return "check the file's owner, group and mode, and the user the process runs as"
        case EADDRINUSE: return "another process is listening there; stop it or choose another address"
        case ENOENT: return "check that the path exists"
        case ECONNREFUSED: return "nothing is listening there; is the service running?"
        case EMFILE, ENFILE: return "too many open files; raise LimitNOFILE or close idle connections"
        default: return nil
        }
    }
}

extension Optional where Wrapped == String {
    fileprivate var orEmpty: String { self ?? "" }
}
