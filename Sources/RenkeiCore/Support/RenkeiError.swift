/// An error from Renkei's domain layer: a code to branch on and a message that says what to do.
///
/// Shaped like swift-nio's `FileSystemError`: `Code` is a struct over a private enum so that codes
/// can be added without breaking callers.
public struct RenkeiError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case invalidConfiguration, invalidEvent, notFound, conflict, io, database, transport, internalError
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The configuration file is wrong; the message names the key.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// An event failed validation; the message names the field.
        public static let invalidEvent = Code(.invalidEvent)
        /// The thing asked for does not exist.
        public static let notFound = Code(.notFound)
        /// The request conflicts with what is already recorded.
        public static let conflict = Code(.conflict)
        /// A file or socket operation failed.
        public static let io = Code(.io)
        /// The database reported an error.
        public static let database = Code(.database)
        /// An HTTP transfer failed.
        public static let transport = Code(.transport)
        /// A bug: something that should not happen did.
        public static let internalError = Code(.internalError)

        public var description: String { "\(value)" }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to do about it, for an operator.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// Where the error was raised.
    public var location: String

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}
