/// One outbound HTTP request: a delta `POST` to a subscription or a pull source's `GET`.
public struct OutboundRequest: Sendable {
    /// The absolute `http://` or `https://` URL. Other schemes are refused.
    public var url: String
    /// The method, such as `"POST"` or `"GET"`; sent as written.
    public var method: String
    /// Request header fields, in order. `Expect: 100-continue` is never sent, and no `Content-Type`
    /// is sent unless given here.
    public var headers: OutboundHeaders
    /// The request body; sent with `Content-Length` (empty for a `GET`).
    public var body: [UInt8]
    /// The limit for the whole transfer, connecting and waiting included (contract §5 `timeout_s`).
    public var timeout: Duration
    /// The limit for connecting, TLS handshake included; the total `timeout` still applies.
    public var connectTimeout: Duration
    /// The TLS files to use for `https://`; verification is always on.
    public var tls: TLSOptions
    /// How much of the response body to keep; the rest is read, counted and discarded.
    public var maxResponseBytes: Int

    /// Creates a request.
    /// - Parameters:
    ///   - url: The absolute `http://` or `https://` URL.
    ///   - method: The method; `"POST"` by default.
    ///   - headers: Header fields to send.
    ///   - body: The body bytes.
    ///   - timeout: The total time limit; 10 seconds by default.
    ///   - connectTimeout: The connect time limit; 5 seconds by default.
    ///   - tls: TLS files; system defaults when omitted.
    ///   - maxResponseBytes: How much response body to keep; 64 KiB by default.
    public init(
        url: String,
        method: String = "POST",
        headers: OutboundHeaders = [:],
        body: [UInt8] = [],
        timeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        tls: TLSOptions = TLSOptions(),
        maxResponseBytes: Int = 64 * 1024
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.maxResponseBytes = maxResponseBytes
    }
}
