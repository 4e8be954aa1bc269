/// Why an outbound request got no HTTP response.
///
/// A response with any status, 5xx included, is not a transport failure. Delivery retries
/// `timeout`, `couldNotResolve`, `couldNotConnect` and `connectionReset` (contract §4); it should not
/// count `cancelled` as an attempt, and `invalidRequest` will fail again however often it is tried.
public struct TransportFailure: Error, Sendable, CustomStringConvertible {
    /// The class of failure, to branch on.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case timeout, couldNotResolve, couldNotConnect, tls, connectionReset, invalidRequest, cancelled, other
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The total or connect time limit passed before the response was complete.
        public static let timeout = Kind(.timeout)
        /// The host name did not resolve.
        public static let couldNotResolve = Kind(.couldNotResolve)
        /// No TCP connection could be made (refused, unreachable).
        public static let couldNotConnect = Kind(.couldNotConnect)
        /// The TLS handshake or certificate verification failed, or a TLS file is unusable.
        public static let tls = Kind(.tls)
        /// The connection broke or closed before a complete response arrived.
        public static let connectionReset = Kind(.connectionReset)
        /// The request itself is unusable (bad URL, scheme, method or header); retrying will not help.
        public static let invalidRequest = Kind(.invalidRequest)
        /// The request was cancelled: its task was cancelled or the client shut down.
        public static let cancelled = Kind(.cancelled)
        /// Anything else; the message has curl's explanation.
        public static let other = Kind(.other)

        /// The kind's name, such as `couldNotConnect`.
        public var description: String { "\(value)" }
    }

    /// The class of failure.
    public var kind: Kind
    /// What went wrong, in curl's words where it gave any, and what to do about it.
    public var message: String
    /// libcurl's `CURLcode`, or 0 when the failure did not come from libcurl.
    public var curlCode: Int

    /// Creates a failure.
    /// - Parameters:
    ///   - kind: The class of failure.
    ///   - message: What went wrong and what to do.
    ///   - curlCode: libcurl's result code, or 0.
    public init(kind: Kind, message: String, curlCode: Int = 0) {
        self.kind = kind
        self.message = message
        self.curlCode = curlCode
    }

    /// The kind, the message and the curl code.
    public var description: String {
        curlCode == 0 ? "\(kind): \(message)" : "\(kind): \(message) (curl error \(curlCode))"
    }
}
