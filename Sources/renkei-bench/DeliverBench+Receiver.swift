import Foundation
import Glibc
import Synchronization

/// A minimal HTTP/1.1 receiver on 127.0.0.1 for `renkei-bench deliver`: one thread per
/// connection, keep-alive, `Content-Length` bodies, always `204`. It notes the arrival time of
/// each body whose `cause.event_id` starts with `L-` (the latency phase).
final class BenchReceiver: Sendable {
    let port: UInt16
    private let listener: Int32
    private let stopping = Atomic<Bool>(false)
    private let received = Atomic<Int>(0)
    private let times = Mutex<[String: (instant: ContinuousClock.Instant, wall: Double)]>([:])

    init() throws {
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
        Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                var one: Int32 = 1
                setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                Thread { [self] in serve(connection) }.start()
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

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let separator: [UInt8] = [13, 10, 13, 10]
        let reply = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        let marker = Array("\"event_id\":\"L-".utf8)
        while !stopping.load(ordering: .relaxed) {
            guard let range = buffer.firstRange(of: separator) else {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
                continue
            }
            let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self).lowercased()
            var length = 0
            if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            while buffer.count < range.upperBound + length {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            let body = buffer[range.upperBound..<(range.upperBound + length)]
            if let found = body.firstRange(of: marker) {
                var end = found.upperBound
                while end < body.endIndex, body[end] != UInt8(ascii: "\"") { end += 1 }
                let id = "L-" + String(decoding: body[found.upperBound..<end], as: UTF8.self)
                let now = (ContinuousClock.now, Date().timeIntervalSince1970)
                times.withLock { $0[id] = now }
            }
            buffer.removeFirst(range.upperBound + length)
            received.add(1, ordering: .relaxed)
            guard reply.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == reply.count else { return }
        }
    }
}
