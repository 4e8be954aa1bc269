/// Hard limits that keep one client from holding the server: sizes, times and connection count.
public struct HTTPServerLimits: Sendable {
    /// The most bytes a request line plus headers (and chunked trailers) may take; more is answered 431.
    public var maxHeaderBytes: Int
    /// The largest request body; a larger `Content-Length` is answered 413 before the body is read.
    public var maxBodyBytes: Int
    /// The time to receive a whole request head once its first byte arrived; a client that dribbles
    /// bytes is answered 408 and cut off when it passes.
    public var headerTimeout: Duration
    /// The longest wait for any body bytes, and the grace added to the minimum-rate deadline.
    public var bodyTimeout: Duration
    /// The slowest acceptable body upload in bytes a second, averaged over the body
    /// (the deadline is `bodyTimeout + received / minimumBodyBytesPerSecond`).
    public var minimumBodyBytesPerSecond: Int
    /// How long a kept-alive connection may sit idle between requests.
    public var idleTimeout: Duration
    /// The longest a blocked write of a response may take (`SO_SNDTIMEO`).
    public var writeTimeout: Duration
    /// The most connections served at once; more are answered 503 and closed.
    public var maxConnections: Int
    /// The most connections one peer (an IP address on TCP, a uid on a UNIX socket) may hold at
    /// once; more from it are answered 503 and closed at once, so one client cannot take every slot
    /// of ``maxConnections``. `nil`: no per-peer cap.
    public var maxConnectionsPerPeer: Int?

    /// Creates limits; the defaults suit the status socket and the ingest listener.
    /// - Parameters:
    ///   - maxHeaderBytes: 16 KiB.
    ///   - maxBodyBytes: 64 MiB.
    ///   - headerTimeout: 10 s.
    ///   - bodyTimeout: 30 s.
    ///   - minimumBodyBytesPerSecond: 64 KiB/s (a 64 MiB body then has about 17 minutes).
    ///   - idleTimeout: 30 s.
    ///   - writeTimeout: 30 s.
    ///   - maxConnections: 64.
    ///   - maxConnectionsPerPeer: none.
    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int = 64 * 1024 * 1024,
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        minimumBodyBytesPerSecond: Int = 64 * 1024,
        idleTimeout: Duration = .seconds(30),
        writeTimeout: Duration = .seconds(30),
        maxConnections: Int = 64,
        maxConnectionsPerPeer: Int? = nil
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.minimumBodyBytesPerSecond = max(1, minimumBodyBytesPerSecond)
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerPeer = maxConnectionsPerPeer
    }
}
