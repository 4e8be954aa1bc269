/// A parsed request line and header block, with the framing decisions taken from them.
public struct HTTPRequestHead: Sendable {
    /// The method as sent.
    public var method: String
    /// The raw request target.
    public var target: String
    /// The percent-decoded path.
    public var path: String
    /// The percent-decoded query parameters.
    public var query: [String: String]
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    public var minorVersion: Int
    /// The header fields in order.
    public var headers: HTTPHeaders
    /// The declared body length, when framed by `Content-Length`.
    public var contentLength: Int?
    /// Whether the body uses `Transfer-Encoding: chunked`.
    public var isChunked: Bool
    /// Whether the connection may be reused after this request (HTTP/1.1 unless `Connection: close`).
    public var keepAlive: Bool
    /// Whether the client waits for `100 Continue` before sending the body.
    public var expectsContinue: Bool

    /// Whether a body follows the head.
    public var hasBody: Bool { isChunked || (contentLength ?? 0) > 0 }
}

/// Why a request could not be parsed, as the HTTP status and message to answer with.
public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 400, 413, 417, 431, 501 or 505.
    public var status: Int
    /// A message for the client's `{"error": …}` body.
    public var message: String

    /// Creates an error.
    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    /// `<status> <message>`.
    public var description: String { "\(status) \(message)" }

    static func bad(_ message: String) -> HTTPParseError { HTTPParseError(status: 400, message) }
}
