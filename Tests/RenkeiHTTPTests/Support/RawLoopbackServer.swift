import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately crude HTTP/1.1 server on 127.0.0.1 for what `HTTPServer` cannot show: how many
/// TCP connections the client opened, and a peer that breaks the connection mid-response.
///
/// One accept thread, one thread per connection, blocking sockets with `poll` timeouts so that every
/// thread notices `stop()` within 50 ms. Requests are parsed only as far as these tests need
/// (`Content-Length` bodies, keep-alive).
final class RawLoopbackServer: Sendable {
    enum Reply: Sendable {
        /// A complete response with `Content-Length`.
        case respond(status: Int, body: [UInt8])
        /// Headers promising `promised` bytes, `sent` bytes of body, then close.
        case closeMidBody(promised: Int, sent: Int)
        /// Close without writing anything.
        case closeSilently
    }

    struct Received: Sendable {
        var head: String
        var body: [UInt8]
    }

    let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (Received) -> Reply
    private let greeting: [UInt8]?
    private let stopping = Atomic<Bool>(false)
    private let acceptCount = Atomic<Int>(0)
    private let threads = Atomic<Int>(0)
    private let requests = Mutex<[Received]>([])

    /// Binds 127.0.0.1 on a free port and starts accepting.
    /// - Parameters:
    ///   - greeting: If set, written to each connection as soon as it is accepted, which is then closed.
    ///   - handler: Decides the reply to each request.
    init(greeting: [UInt8]? = nil, handler: @escaping @Sendable (Received) -> Reply) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        self.handler = handler
        self.greeting = greeting
        let thread = Thread { [self] in acceptLoop() }
        threads.add(1, ordering: .relaxed)
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// How many TCP connections were accepted so far.
    var accepted: Int { acceptCount.load(ordering: .relaxed) }

    /// Every request received so far.
    var received: [Received] { requests.withLock { $0 } }

    /// Stops accepting and closes every connection; waits (at most 2 s) for the threads to end.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + .seconds(2)
        while threads.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            usleep(10_000)
        }
    }

    // MARK: - Threads

    private func acceptLoop() {
        defer {
            close(listener)
            threads.subtract(1, ordering: .relaxed)
        }
        while !stopping.load(ordering: .relaxed) {
            guard wait(listener, for: Int16(POLLIN)) else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            acceptCount.add(1, ordering: .relaxed)
            threads.add(1, ordering: .relaxed)
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            close(fd)
            threads.subtract(1, ordering: .relaxed)
        }
        if let greeting {
            _ = write(fd, greeting)
            return
        }
        var buffer: [UInt8] = []
        // A connection lives while requests keep coming: the limit restarts after each one, so a
        // slow (loaded) client is never cut off between requests it meant to send on it.
        var idleLimit = ContinuousClock.now + .seconds(30)
        while !stopping.load(ordering: .relaxed), ContinuousClock.now < idleLimit {
            guard let request = nextRequest(fd, &buffer) else { return }
            idleLimit = ContinuousClock.now + .seconds(30)
            requests.withLock { $0.append(request) }
            switch handler(request) {
            case .respond(let status, let body):
                let head = "HTTP/1.1 \(status) Test\r\nContent-Length: \(body.count)\r\nX-Test: raw\r\n\r\n"
                guard write(fd, Array(head.utf8) + body) else { return }
            case .closeMidBody(let promised, let sent):
                let head = "HTTP/1.1 200 OK\r\nContent-Length: \(promised)\r\n\r\n"
                _ = write(fd, Array(head.utf8) + [UInt8](repeating: 0x61, count: sent))
                return
            case .closeSilently:
                return
            }
        }
    }

    /// Reads one request (head + `Content-Length` body); `nil` on close, stop or garbage.
    private func nextRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Received? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = buffer.firstRange(of: terminator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                let total = end.upperBound + length
                if buffer.count >= total {
                    let request = Received(head: head, body: Array(buffer[end.upperBound..<total]))
                    buffer.removeFirst(total)
                    return request
                }
            }
            guard buffer.count < 1 << 20, !stopping.load(ordering: .relaxed) else { return nil }
            guard wait(fd, for: Int16(POLLIN)) else { continue }
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    /// Waits up to 50 ms for `events` on `fd`.
    private func wait(_ fd: Int32, for events: Int16) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        return poll(&entry, 1, 50) > 0
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on: bound to find a free one, then closed.
func closedLoopbackPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}
