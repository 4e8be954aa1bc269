import Foundation
import Glibc
import Synchronization

/// A minimal HTTP/1.1 receiver on 127.0.0.1 for `renkei-bench deliver`: keep-alive,
/// `Content-Length` bodies, always `204`. It notes the arrival time of each body whose
/// `cause.event_id` starts with `L-` (the latency phase).
///
/// It shares the machine's CPUs with the daemon under test and with the raw baseline, so it is
/// built to cost little per request: `poll(2)` threads (one by default; Glibc's module has no
/// epoll) each serving many non-blocking connections, byte-level parsing (no `String` per
/// request), and one `send` for every reply owed after one read (pipelined requests included).
final class BenchReceiver: Sendable {
    let port: UInt16
    private let listener: Int32
    private let stopping = Atomic<Bool>(false)
    private let received = Atomic<Int>(0)
    private let times = Mutex<[String: (instant: ContinuousClock.Instant, wall: Double)]>([:])
    /// Per serving thread: connections accepted for it, and the pipe that wakes its `poll`.
    private let inboxes: Mutex<[[Int32]]>
    private let wakePipes: [(read: Int32, write: Int32)]

    /// - Parameter threads: serving threads (each polls its own connections).
    init(threads: Int = 1) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard fd >= 0, bound == 0, listen(fd, 1024) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let count = max(1, threads)
        inboxes = Mutex(Array(repeating: [], count: count))
        wakePipes = (0..<count).map { _ in
            var ends: [Int32] = [0, 0]
            _ = pipe(&ends)
            _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
            return (ends[0], ends[1])
        }
        for index in 0..<count {
            Thread { [self] in serve(index) }.start()
        }
        Thread { [self] in
            var next = 0
            while !stopping.load(ordering: .relaxed) {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                _ = fcntl(connection, F_SETFL, O_NONBLOCK)
                var one: Int32 = 1
                setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                let target = next % count
                next += 1
                inboxes.withLock { $0[target].append(connection) }
                var byte: UInt8 = 1
                _ = write(wakePipes[target].write, &byte, 1)
            }
        }.start()
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var count: Int { received.load(ordering: .relaxed) }
    var arrivals: [String: (instant: ContinuousClock.Instant, wall: Double)] { times.withLock { $0 } }
    var latencyCount: Int { times.withLock { $0.count } }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
    }

    /// One connection's unparsed bytes.
    private struct Connection {
        var buffer: [UInt8] = []
        var start = 0
    }

    private static let separator: [UInt8] = [13, 10, 13, 10]
    private static let contentLength = Array("content-length:".utf8)
    private static let marker = Array("\"event_id\":\"L-".utf8)
    private static let reply = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)

    private func serve(_ index: Int) {
        var connections: [Int32: Connection] = [:]
        var polled: [pollfd] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var replies: [UInt8] = []
        let wake = wakePipes[index].read
        while !stopping.load(ordering: .relaxed) {
            polled.removeAll(keepingCapacity: true)
            polled.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0))
            for fd in connections.keys { polled.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let ready = polled.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 200) }
            guard ready > 0 else { continue }
            if polled[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                _ = read(wake, &drain, drain.count)
                for fd in inboxes.withLock({ all in defer { all[index] = [] }; return all[index] }) {
                    connections[fd] = Connection()
                }
            }
            for entry in polled.dropFirst() where entry.revents != 0 {
                let fd = entry.fd
                guard var connection = connections[fd] else { continue }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    close(fd)
                    connections[fd] = nil
                    continue
                }
                guard n > 0 else { continue }
                connection.buffer.append(contentsOf: chunk[0..<n])
                replies.removeAll(keepingCapacity: true)
                while consumeRequest(&connection) {
                    received.add(1, ordering: .relaxed)
                    replies.append(contentsOf: Self.reply)
                }
                if connection.start > 0 {
                    connection.buffer.removeFirst(connection.start)
                    connection.start = 0
                }
                connections[fd] = connection
                // A few 27-byte replies never fill a loopback socket's send buffer, so one send suffices.
                if !replies.isEmpty {
                    _ = replies.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            }
        }
        for fd in connections.keys { close(fd) }
    }

    /// Consumes one complete request from `connection` if there is one, noting latency markers.
    private func consumeRequest(_ connection: inout Connection) -> Bool {
        let start = connection.start
        let end = connection.buffer.withUnsafeBufferPointer { bytes -> Int? in
            let available = bytes.count - start
            guard available >= 4, let headEnd = Self.find(Self.separator, in: bytes, from: start, to: bytes.count)
            else { return nil }
            let length = Self.contentLength(UnsafeBufferPointer(rebasing: bytes[start..<headEnd]))
            let bodyStart = headEnd + 4
            guard bytes.count >= bodyStart + length else { return nil }
            if length > 0, let hit = Self.find(Self.marker, in: bytes, from: bodyStart, to: bodyStart + length) {
                var cursor = hit + Self.marker.count
                let idStart = cursor
                while cursor < bodyStart + length, bytes[cursor] != UInt8(ascii: "\"") { cursor += 1 }
                let id = "L-" + String(decoding: bytes[idStart..<cursor], as: UTF8.self)
                let now = (ContinuousClock.now, Date().timeIntervalSince1970)
                times.withLock { $0[id] = now }
            }
            return bodyStart + length
        }
        guard let end else { return false }
        connection.start = end
        return true
    }

    /// The offset of the first `needle` in `bytes[from..<to]` (memchr for its first byte, then compare).
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard let base = bytes.baseAddress, let first = needle.first else { return nil }
        var cursor = from
        while to - cursor >= needle.count {
            guard let hit = memchr(base + cursor, Int32(first), to - cursor - needle.count + 1) else { return nil }
            let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + offset, needle, needle.count) == 0 { return offset }
            cursor = offset + 1
        }
        return nil
    }

    /// The `Content-Length` of a request head (0 when absent), matched case-insensitively.
    private static func contentLength(_ head: UnsafeBufferPointer<UInt8>) -> Int {
        let name = contentLength
        var lineStart = 0
        while lineStart < head.count {
            var lineEnd = lineStart
            while lineEnd < head.count, head[lineEnd] != 10 { lineEnd += 1 }
            if lineEnd - lineStart > name.count {
                var matches = true
                for k in 0..<name.count where head[lineStart + k] | 0x20 != name[k] {
                    matches = false
                    break
                }
                if matches {
                    var value = 0
                    for k in (lineStart + name.count)..<lineEnd where head[k] >= 48 && head[k] <= 57 {
                        value = value * 10 + Int(head[k] - 48)
                    }
                    return value
                }
            }
            lineStart = lineEnd + 1
        }
        return 0
    }
}
