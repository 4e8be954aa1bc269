import Foundation
import Glibc
import RenkeiCore
import Synchronization

/// A webhook receiver on 127.0.0.1 for delivery fault tests, on plain threads (never the
/// cooperative pool): it parses just enough HTTP/1.1 (Content-Length bodies, keep-alive) to
/// answer each delta as a script says — a status (with headers), a connection reset, or silence
/// past the client's timeout — and records every request with what it did.
final class DeliveryReceiver: Sendable {
    /// What to do with one request.
    enum Action: Sendable {
        case status(Int, headers: [String: String] = [:], body: String = "")
        /// Close with SO_LINGER 0: the client sees a reset.
        case reset
        /// Say nothing for this long, then close.
        case hang(Duration)
    }

    /// One request and what was done with it.
    struct Request: Sendable {
        var id: String
        var headers: [String: String]
        var body: [UInt8]
        var action: String
        var at: ContinuousClock.Instant
        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
        var delivered: Bool { action.hasPrefix("2") }
    }

    let port: UInt16
    private let listener: Int32
    private let script: @Sendable (_ id: String, _ attempt: Int, _ body: JSONValue) -> Action
    private let stopping = Atomic<Bool>(false)
    private let threads = Atomic<Int>(0)
    private let log = Mutex<[Request]>([])

    /// Binds 127.0.0.1 on a free port. `script` gets the `webhook-id`, the attempt number (1 for
    /// the first request with that id) and the parsed body.
    init(script: @escaping @Sendable (_ id: String, _ attempt: Int, _ body: JSONValue) -> Action = { _, _, _ in .status(204) }) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard fd >= 0, bound == 0, listen(fd, 256) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        self.script = script
        threads.add(1, ordering: .relaxed)
        Thread { [self] in acceptLoop() }.start()
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Every request so far, in arrival order.
    var requests: [Request] { log.withLock { $0 } }

    /// The requests answered 2xx.
    var delivered: [Request] { requests.filter(\.delivered) }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + .seconds(3)
        while threads.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline { usleep(5_000) }
    }

    private func acceptLoop() {
        defer { close(listener); threads.subtract(1, ordering: .relaxed) }
        while !stopping.load(ordering: .relaxed) {
            guard Self.readable(listener, ms: 50) else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            threads.add(1, ordering: .relaxed)
            Thread { [self] in serve(connection) }.start()
        }
    }

    private static func readable(_ fd: Int32, ms: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, ms) > 0
    }

    private func serve(_ fd: Int32) {
        var closed = false
        defer { if !closed { close(fd) }; threads.subtract(1, ordering: .relaxed) }
        var buffer: [UInt8] = []
        while !stopping.load(ordering: .relaxed) {
            guard let (head, body) = readRequest(fd, &buffer) else { return }
            var headers: [String: String] = [:]
            for line in head.split(separator: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let id = headers["webhook-id"] ?? ""
            let json = (try? JSONParser.parse(body)) ?? .null
            let attempt = log.withLock { log in log.filter { $0.id == id }.count } + 1
            let action = script(id, attempt, json)
            var record = Request(id: id, headers: headers, body: body, action: "", at: .now)
            switch action {
            case .status(let status, let extra, let text):
                record.action = String(status)
                log.withLock { $0.append(record) }
                var response = "HTTP/1.1 \(status) X\r\nContent-Length: \(text.utf8.count)\r\n"
                for (name, value) in extra { response += "\(name): \(value)\r\n" }
                response += "\r\n" + text
                let bytes = Array(response.utf8)
                guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return }
            case .reset:
                record.action = "reset"
                log.withLock { $0.append(record) }
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(fd)
                closed = true
                return
            case .hang(let duration):
                record.action = "hang"
                log.withLock { $0.append(record) }
                let end = ContinuousClock.now + duration
                while ContinuousClock.now < end, !stopping.load(ordering: .relaxed) { usleep(10_000) }
                return
            }
        }
    }

    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> (String, [UInt8])? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let deadline = ContinuousClock.now + .seconds(30)
            while !stopping.load(ordering: .relaxed), ContinuousClock.now < deadline {
                guard Self.readable(fd, ms: 50) else { continue }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return false }
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            return false
        }
        while true {
            if let range = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
                while buffer.count < range.upperBound + length { if !fill() { return nil } }
                let body = Array(buffer[range.upperBound..<(range.upperBound + length)])
                buffer.removeFirst(range.upperBound + length)
                return (head, body)
            }
            if !fill() { return nil }
        }
    }
}
