import Glibc

/// The uid, gid and pid of the process at the other end of a UNIX socket, from `SO_PEERCRED`.
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    /// The peer's effective user ID when it connected.
    public var uid: UInt32
    /// The peer's effective group ID when it connected.
    public var gid: UInt32
    /// The peer's process ID when it connected.
    public var pid: Int32

    /// Creates credentials (for tests and fakes).
    public init(uid: UInt32, gid: UInt32, pid: Int32) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }

    /// `uid=… gid=… pid=…`, for the access log.
    public var description: String { "uid=\(uid) gid=\(gid) pid=\(pid)" }
}

/// Owns one socket descriptor and closes it in `deinit` (the GRDB `Statement` pattern).
///
/// Only the owning thread reads, writes and closes; other threads may call ``shutdown()`` to wake
/// it, which is safe because the descriptor number stays allocated until `deinit`.
final class Socket: Sendable {
    let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { Syscall.close(descriptor) }

    /// Creates a close-on-exec stream or datagram socket.
    static func make(family: Int32, datagram: Bool = false) throws(SystemError) -> Socket {
        let type = Int32(datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        // socket(2): SOCK_CLOEXEC so the daemon never leaks sockets into children.
        let fd = try Syscall.call("socket") { Glibc.socket(family, type, 0) }
        return Socket(descriptor: fd)
    }

    // MARK: - Options

    func setOption(level: Int32, name: Int32, _ value: Int32, _ label: String) throws(SystemError) {
        var value = value
        // setsockopt(2): an int option; returns -1 and sets errno on failure.
        _ = try Syscall.call("setsockopt(\(label))") {
            setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Sets `SO_SNDTIMEO`/`SO_RCVTIMEO`: socket(7) says a blocked call then fails with EAGAIN.
    func setTimeout(send: Bool, _ duration: Duration) throws(SystemError) {
        let (seconds, attoseconds) = duration.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        let name = send ? SO_SNDTIMEO : SO_RCVTIMEO
        _ = try Syscall.call("setsockopt(SO_SNDTIMEO/SO_RCVTIMEO)") {
            setsockopt(descriptor, SOL_SOCKET, name, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// The peer's credentials; unix(7): `SO_PEERCRED` returns the `struct ucred` of the peer at connect time.
    func peerCredentials() -> PeerCredentials? {
        // Glibc's `struct ucred` is hidden behind _GNU_SOURCE, so mirror its layout: pid_t, uid_t, gid_t.
        var raw: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: raw))
        let ok = (try? Syscall.call("getsockopt(SO_PEERCRED)") {
            getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &raw, &length)
        }) != nil
        guard ok, length == socklen_t(MemoryLayout.size(ofValue: raw)) else { return nil }
        return PeerCredentials(uid: raw.1, gid: raw.2, pid: raw.0)
    }

    /// The locally bound port of a TCP socket (getsockname(2)).
    func localPort() -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) }
        default:
            return nil
        }
    }

    /// The peer's address as text, for TCP sockets (getpeername(2)).
    func peerAddress() -> String? { peerSocketAddress()?.description }

    /// The peer's IP address and port, for TCP sockets (getpeername(2)).
    func peerSocketAddress() -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { raw in
                let port = UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
                return SocketAddress.ipv4(raw.load(fromByteOffset: 4, as: in_addr_t.self), port: port)
            }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { raw in
                let port = UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
                return SocketAddress.ipv6(Array(raw[8..<24]), port: port)
            }
        default:
            return nil
        }
    }

    // MARK: - Connection set-up

    func bind(_ address: SocketAddress) throws(SystemError) {
        try address.withSockAddr { (pointer, length) throws(SystemError) in
            // bind(2): EADDRINUSE when the address (or UNIX path) is taken.
            _ = try Syscall.call("bind(\(address))") { Glibc.bind(descriptor, pointer, length) }
        }
    }

    func listen(backlog: Int32) throws(SystemError) {
        // listen(2): backlog is silently capped at net.core.somaxconn.
        _ = try Syscall.call("listen") { Glibc.listen(descriptor, backlog) }
    }

    func connect(_ address: SocketAddress) throws(SystemError) {
        try address.withSockAddr { (pointer, length) throws(SystemError) in
            // connect(2): ENOENT/ECONNREFUSED/EACCES for UNIX paths are what renkeictl explains.
            _ = try Syscall.call("connect(\(address))") { Glibc.connect(descriptor, pointer, length) }
        }
    }

    /// Accepts one connection and marks it close-on-exec.
    ///
    /// Glibc's Swift overlay hides `accept4` behind _GNU_SOURCE, so this is accept(2) + fcntl(2)
    /// FD_CLOEXEC; renkeid does not fork children, so the short window does not leak anything.
    func accept() throws(SystemError) -> Socket {
        let fd = try Syscall.call("accept") { Glibc.accept(descriptor, nil, nil) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return Socket(descriptor: fd)
    }

    /// Wakes any thread blocked on this socket: shutdown(2) makes pending reads return 0.
    func shutdown(reading: Bool = true, writing: Bool = true) {
        let how = reading && writing ? Int32(SHUT_RDWR) : (reading ? Int32(SHUT_RD) : Int32(SHUT_WR))
        _ = Glibc.shutdown(descriptor, how)
    }

    // MARK: - I/O

    /// Waits until the socket is readable or `timeout` passes (poll(2); `nil` waits forever).
    /// - Returns: `true` when readable (or hung up / errored, which the next read reports).
    func waitReadable(timeout: Duration?) throws(SystemError) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds: Int32
        if let timeout {
            let (s, a) = timeout.components
            milliseconds = Int32(clamping: max(0, s * 1000 + a / 1_000_000_000_000_000))
        } else {
            milliseconds = -1
        }
        // poll(2): returns the number of ready descriptors, 0 on timeout.
        let ready = try Syscall.call("poll") { poll(&entry, 1, milliseconds) }
        return ready > 0
    }

    /// Reads up to `maximum` bytes and appends them; returns the count, 0 at end of stream.
    func read(appendingTo buffer: inout [UInt8], maximum: Int = 65536) throws(SystemError) -> Int {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: maximum))
        let result = buffer.withUnsafeMutableBytes { (raw) -> Result<Int, SystemError> in
            // recv(2): returns 0 when the peer has shut down its write side.
            Result { () throws(SystemError) in try Syscall.call("recv") { recv(descriptor, raw.baseAddress! + start, maximum, 0) } }
        }
        let count = (try? result.get()) ?? 0
        buffer.removeLast(maximum - count)
        return try result.get()
    }

    /// Discards what the peer has already sent, without ever waiting (recv(2) with MSG_DONTWAIT, at
    /// most 64 KiB): closing a socket with unread input sends a reset, which can destroy an answer
    /// the peer has not read yet.
    func drainWithoutWaiting() {
        var sink = [UInt8](repeating: 0, count: 16384)
        var total = 0
        while total < 65536 {
            let count = sink.withUnsafeMutableBytes { raw in
                (try? Syscall.call("recv") { recv(descriptor, raw.baseAddress!, raw.count, Int32(MSG_DONTWAIT)) }) ?? 0
            }
            guard count > 0 else { return }
            total += count
        }
    }

    /// Writes every byte, or throws.
    func write(_ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { (raw) -> Result<Int, SystemError> in
                // send(2): MSG_NOSIGNAL turns a write to a closed peer into EPIPE instead of SIGPIPE.
                Result { () throws(SystemError) in
                    try Syscall.call("send") {
                        Glibc.send(descriptor, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                    }
                }
            }
            offset += try result.get()
        }
    }

    /// Sends one datagram to `address` (sendto(2)) without ever blocking: when the receiver's queue
    /// is full the datagram is not sent and the call throws (`EAGAIN`).
    func send(_ bytes: [UInt8], to address: SocketAddress) throws(SystemError) {
        try address.withSockAddr { (pointer, length) throws(SystemError) in
            let result = bytes.withUnsafeBytes { (raw) -> Result<Int, SystemError> in
                Result { () throws(SystemError) in
                    // sendto(2): one datagram; sd_notify(3) messages are small enough to never be split.
                    // MSG_DONTWAIT: a receiver that stops reading (its queue holds net.unix.max_dgram_qlen
                    // datagrams, 10 by default) must not block the caller, which may be one of the two
                    // threads of Swift's cooperative pool. unix(7), "EAGAIN".
                    try Syscall.call("sendto(\(address))") {
                        sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), pointer, length)
                    }
                }
            }
            _ = try result.get()
        }
    }
}
