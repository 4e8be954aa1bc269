public import RenkeiCore
import Foundation
import Glibc
import Synchronization

/// A small HTTP/1.1 server over a UNIX socket or TCP (optionally TLS), for the status socket, the
/// ingest listener and test receivers.
///
/// Threads, not the cooperative pool, do the blocking work: one accept thread, and one thread per
/// connection that does the TLS handshake, reads with `poll(2)` deadlines (``HTTPServerLimits``)
/// and waits for the async handler through a semaphore. Shared state is behind a `Mutex`.
public final class HTTPServer: Sendable {
    struct State {
        var listener: Socket?
        var connections: [Int: Socket] = [:]
        /// Each open connection's peer (``peerKey(_:)``), and how many connections each peer holds.
        var connectionPeers: [Int: String] = [:]
        var peerConnections: [String: Int] = [:]
        var nextConnectionID = 0
        var boundPort: Int?
        var acceptThreadRunning = false
        /// Per kind of client-caused log line: when one was last logged, and how many were left out since.
        var throttledLines: [String: (last: ContinuousClock.Instant, leftOut: Int)] = [:]
    }

    /// Looks at a request head before its body is read (and before `100 Continue` is sent); a
    /// response it returns is sent with `Connection: close` and the body is never read.
    public typealias HeadCheck = @Sendable (HTTPRequestHead) -> HTTPResponse?

    /// The address given at creation.
    public let address: ListenAddress
    /// The limits given at creation.
    public let limits: HTTPServerLimits
    /// TLS settings: when set, every connection starts with a TLS handshake.
    let tls: TLSContext?
    let headCheck: HeadCheck?
    let logger: Logger
    let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    /// Set once the accept thread has ended and every connection is closed: ``stop(deadline:)`` waits on it.
    private let idle = IdleSignal()
    /// Where handler tasks run; `nil`: the cooperative pool.
    let handlerExecutor: (any TaskExecutor)?
    let state = Mutex(State())
    let stopping = Atomic<Bool>(false)

    /// Creates a server; nothing is bound until ``start()``.
    /// - Parameters:
    ///   - address: where to listen.
    ///   - limits: sizes, timeouts and connection counts.
    ///   - tls: serve HTTPS with these settings (`nil`: plain HTTP).
    ///   - headCheck: refuses requests from their head alone (authentication), before any body is read.
    ///   - logger: for connection errors and rejected requests.
    ///   - handlerExecutor: where handler tasks run (``DispatchTaskExecutor``); `nil`, the default: the
    ///     cooperative pool.
    ///   - handler: answers each request, one request per connection at a time.
    public init(
        address: ListenAddress, limits: HTTPServerLimits = HTTPServerLimits(), tls: TLSContext? = nil,
        headCheck: HeadCheck? = nil, logger: Logger, handlerExecutor: (any TaskExecutor)? = nil,
        handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) {
        self.address = address
        self.limits = limits
        self.tls = tls
        self.headCheck = headCheck
        self.logger = logger
        self.handlerExecutor = handlerExecutor
        self.handler = handler
    }

    /// The TCP port actually bound (useful with port 0); `nil` for UNIX sockets or before ``start()``.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// The number of connections being served right now.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Binds, listens and starts accepting on a background thread.
    ///
    /// For a UNIX socket: a stale socket file (nobody accepting) is removed first, a live one is
    /// an error; the file is then chmod'ed to `mode` and chgrp'ed to `group`. For TCP: `SO_REUSEADDR`.
    /// - Throws: ``SystemError`` naming the failed step and what to do.
    public func start() throws(SystemError) {
        let listener: Socket
        switch address {
        case .unix(let path, let mode, let group):
            listener = try UnixSocketFile.bindListener(path: path, mode: mode, group: group)
        case .tcp(let host, let port):
            let socketAddress = try SocketAddress.resolve(host: host, port: port)
            listener = try Socket.make(family: socketAddress.family)
            // socket(7): SO_REUSEADDR lets a restarted daemon bind while old connections sit in TIME_WAIT.
            try listener.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, 1, "SO_REUSEADDR")
            try listener.bind(socketAddress)
        }
        try listener.listen(backlog: 128)
        let port = listener.localPort()
        state.withLock {
            $0.listener = listener
            $0.boundPort = port
            $0.acceptThreadRunning = true
        }
        idle.set(idle: false)
        let thread = Thread { [self] in self.acceptLoop(listener) }
        thread.name = "renkei-accept"
        thread.start()
        logger.info("listening on \(address)\(port.map { " (port \($0))" } ?? "")\(tls.map { " with TLS (\($0.minimumProtocolVersion) or later)" } ?? "")")
    }

    /// Stops accepting, lets in-flight requests finish until `deadline` passes, then closes what is left.
    /// - Parameter deadline: how long in-flight requests may still take.
    public func stop(deadline: Duration) async {
        stopping.store(true, ordering: .sequentiallyConsistent)
        let listener = state.withLock { state -> Socket? in
            defer { state.listener = nil }
            return state.listener
        }
        listener?.shutdown()
        _ = await idle.wait(upTo: deadline)
        // Past the deadline: wake every connection thread; each then closes its own socket.
        let left = state.withLock { Array($0.connections.values) }
        for socket in left { socket.shutdown() }
        _ = await idle.wait(upTo: .seconds(2))
        if case .unix(let path, _, _) = address {
            // unlink(2): remove our socket file so a later start does not find a stale one.
            _ = unlink(path)
        }
        if !left.isEmpty { logger.notice("closed \(left.count) connection(s) still open at the stop deadline") }
    }

    // MARK: - Accepting

    private func acceptLoop(_ listener: Socket) {
        defer {
            let drained = state.withLock { state -> Bool in
                state.acceptThreadRunning = false
                return state.connections.isEmpty
            }
            if drained { idle.set(idle: true) }
        }
        while !stopping.load(ordering: .relaxed) {
            do {
                // Poll in slices so stop() is noticed even if shutdown(2) on a listener does not wake accept.
                guard try listener.waitReadable(timeout: .milliseconds(200)) else { continue }
                if stopping.load(ordering: .relaxed) { break }
                let connection = try listener.accept()
                try? connection.setTimeout(send: true, limits.writeTimeout)
                let peer = peerKey(connection)
                let admitted: Result<Int, Refusal> = state.withLock { state in
                    guard state.connections.count < limits.maxConnections else { return .failure(.serverFull) }
                    if let cap = limits.maxConnectionsPerPeer, state.peerConnections[peer, default: 0] >= cap {
                        return .failure(.peerFull)
                    }
                    let id = state.nextConnectionID
                    state.nextConnectionID += 1
                    state.connections[id] = connection
                    state.connectionPeers[id] = peer
                    state.peerConnections[peer, default: 0] += 1
                    return .success(id)
                }
                let id: Int
                switch admitted {
                case .success(let admittedID): id = admittedID
                case .failure(let refusal):
                    refuse(connection, peer: peer, refusal)
                    continue
                }
                let thread = Thread { [self] in
                    defer { release(id) }
                    ConnectionHandler(server: self, socket: connection).run()
                }
                thread.name = "renkei-http-\(id)"
                thread.stackSize = 1 << 20
                thread.start()
            } catch {
                if stopping.load(ordering: .relaxed) { break }
                switch error.errorNumber {
                case ECONNABORTED, EAGAIN:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // accept(2): resource exhaustion; back off instead of spinning.
                    logger.error("\(error)")
                    Thread.sleep(forTimeInterval: 0.1)
                default:
                    logger.error("\(error); no longer accepting on \(address)")
                    return
                }
            }
        }
    }

    // MARK: - Connection caps

    enum Refusal: Error { case serverFull, peerFull }

    /// Who a connection comes from, for the per-peer cap: the client's IP address on TCP (any
    /// port), its uid on a UNIX socket.
    private func peerKey(_ connection: Socket) -> String {
        switch address {
        case .tcp: return connection.peerSocketAddress()?.host ?? "unknown"
        case .unix: return connection.peerCredentials().map { "uid \($0.uid)" } ?? "unknown"
        }
    }

    private func release(_ id: Int) {
        let drained = state.withLock { state -> Bool in
            state.connections.removeValue(forKey: id)
            if let peer = state.connectionPeers.removeValue(forKey: id) {
                let left = state.peerConnections[peer, default: 1] - 1
                state.peerConnections[peer] = left > 0 ? left : nil
            }
            return state.connections.isEmpty && !state.acceptThreadRunning
        }
        if drained { idle.set(idle: true) }
    }

    /// Turns a connection away at once on the accept thread: a short 503 (plain HTTP only: a TLS
    /// client gets its connection closed before the handshake), then close. Never blocks: the answer
    /// fits the socket buffer, and what the client already sent is drained without waiting so the
    /// close is a FIN rather than a reset that could destroy the answer.
    private func refuse(_ connection: Socket, peer: String, _ refusal: Refusal) {
        let message: String
        switch refusal {
        case .serverFull:
            message = "too many connections (\(limits.maxConnections) open); retry shortly"
        case .peerFull:
            message = "too many connections from \(peer) (\(limits.maxConnectionsPerPeer ?? 0) open); "
                + "reuse a kept-alive connection or retry shortly"
        }
        logThrottled("refused connection", .warning, "refusing a connection on \(address): \(message)")
        if tls == nil {
            try? connection.write(HTTPResponse.error(503, message).serialized(close: true))
        }
        connection.shutdown(reading: false, writing: true)
        connection.drainWithoutWaiting()
    }

    // MARK: - Logging what clients cause

    /// Logs `message` at `level` unless a line of the same `kind` was logged in the last 5 s; then it
    /// is only counted, and the next line of that kind says how many were left out. Clients can cause
    /// these lines (refusals, failed handshakes) as fast as they like; the journal should not fill up.
    func logThrottled(_ kind: String, _ level: Logger.Level, _ message: @autoclosure () -> String) {
        let leftOut: Int? = state.withLock { state in
            let now = ContinuousClock.now
            if var entry = state.throttledLines[kind], entry.last.duration(to: now) < .seconds(5) {
                entry.leftOut += 1
                state.throttledLines[kind] = entry
                return nil
            }
            defer { state.throttledLines[kind] = (now, 0) }
            return state.throttledLines[kind]?.leftOut ?? 0
        }
        guard let leftOut else { return }
        logger.log(level, message() + (leftOut > 0 ? " (\(leftOut) more like this since the last report)" : ""))
    }
}
