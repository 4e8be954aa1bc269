/// The answer to an `OutboundRequest` that reached the server, whatever its status.
public struct OutboundResponse: Sendable {
    /// The HTTP status code, such as 200 or 503.
    public var status: Int
    /// The header fields of the final response (not of any `1xx` before it).
    public var headers: OutboundHeaders
    /// The body, cut at the request's `maxResponseBytes`.
    public var body: [UInt8]
    /// Whether the server sent more body than was kept.
    public var bodyTruncated: Bool
    /// How many body bytes the server sent, kept or not.
    public var bodyBytesReceived: Int
    /// The protocol version used: `"1.0"`, `"1.1"`, `"2"` or `"3"`.
    public var httpVersion: String
    /// The time the whole transfer took, from start to the last byte.
    public var totalTime: Duration

    /// Creates a response; the client builds these, tests and fakes may too.
    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - headers: The response header fields.
    ///   - body: The kept body bytes.
    ///   - bodyTruncated: Whether body bytes were discarded.
    ///   - bodyBytesReceived: The body size as sent; defaults to `body.count`.
    ///   - httpVersion: The protocol version.
    ///   - totalTime: The transfer time.
    public init(
        status: Int,
        headers: OutboundHeaders = [:],
        body: [UInt8] = [],
        bodyTruncated: Bool = false,
        bodyBytesReceived: Int? = nil,
        httpVersion: String = "1.1",
        totalTime: Duration = .zero
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.bodyBytesReceived = bodyBytesReceived ?? body.count
        self.httpVersion = httpVersion
        self.totalTime = totalTime
    }
}
