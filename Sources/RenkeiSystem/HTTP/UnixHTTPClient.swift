import Glibc

/// A minimal blocking HTTP/1.1 client over a UNIX socket, for `renkeictl` and tests.
///
/// One request per connection (`Connection: close`); the reply is framed by `Content-Length`,
/// `chunked`, or end of stream. Call it from a thread that may block, not from the cooperative pool.
public final class UnixHTTPClient: Sendable {
    /// The socket file.
    public let socketPath: String
    /// The longest the whole exchange may take (connect, send, receive).
    public let timeout: Duration

    /// Creates a client.
    /// - Parameters:
    ///   - socketPath: the UNIX socket, e.g. `/run/renkei/status.sock`.
    ///   - timeout: the longest a request may take (default 60 s).
    public init(socketPath: String, timeout: Duration = .seconds(60)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// Sends one request and reads the whole reply.
    /// - Parameters:
    ///   - method: e.g. `GET`.
    ///   - path: the request target, e.g. `/v1/status` (already percent-encoded).
    ///   - headers: extra header fields; `Host`, `Content-Length` and `Connection` are added.
    ///   - body: the request body.
    /// - Returns: the status, headers and body of the reply.
    /// - Throws: ``SystemError``: `.notFound` / `.connectionRefused` / `.permissionDenied` when the
    ///   socket cannot be reached, `.timedOut`, or `.protocolError` for a malformed reply.
    public func request(
        method: String, path: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) throws(SystemError) -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        let socket = try Socket.make(family: AF_UNIX)
        try socket.connect(.unix(socketPath))
        try socket.setTimeout(send: true, timeout)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: renkei\r\n"
        for field in headers where !["host", "content-length", "connection"].contains(field.name.lowercased()) {
            head += "\(field.name): \(field.value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try socket.write(Array(head.utf8) + body)

        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var parser = HTTPResponseParser()
        while true {
            if let reply = try parser.parse(atEndOfStream: false) { return reply }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero, try socket.waitReadable(timeout: remaining) else {
                throw SystemError(
                    .timedOut, operation: "\(method) \(path) on \(socketPath)",
                    message: "no complete reply within \(timeout); the daemon may be busy, try again")
            }
            let count = try socket.read(appendingTo: &parser.buffer)
            if count == 0 {
                guard let reply = try parser.parse(atEndOfStream: true) else {
                    throw SystemError(
                        .protocolError, operation: "\(method) \(path) on \(socketPath)",
                        message: "the connection closed before a complete reply")
                }
                return reply
            }
        }
    }
}

/// Parses one HTTP/1.1 response (status line, headers, body) for ``UnixHTTPClient``.
struct HTTPResponseParser {
    var buffer: [UInt8] = []

    func parse(atEndOfStream: Bool) throws(SystemError) -> (status: Int, headers: HTTPHeaders, body: [UInt8])? {
        var start = 0
        while true {
            guard let headEnd = findHeadEnd(from: start) else { return nil }
            // Split on bytes: as Characters, "\r\n" is one grapheme and would not split on "\n".
            let lines = buffer[start..<headEnd].split(separator: 0x0A)
                .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
                .filter { !$0.isEmpty }
            guard let statusLine = lines.first else { throw malformed("empty reply") }
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                throw malformed("bad status line")
            }
            var headers = HTTPHeaders()
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { throw malformed("bad header line") }
                headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingSpaces)
            }
            if (100..<200).contains(status) {
                start = headEnd
                continue
            }
            let bodyStart = headEnd
            if let lengthText = headers["Content-Length"] {
                guard let length = Int(lengthText.trimmingSpaces), length >= 0 else { throw malformed("bad Content-Length") }
                guard buffer.count - bodyStart >= length else {
                    if atEndOfStream { throw malformed("reply body shorter than its Content-Length") }
                    return nil
                }
                return (status, headers, Array(buffer[bodyStart..<bodyStart + length]))
            }
            if headers["Transfer-Encoding"]?.lowercased().contains("chunked") == true {
                var parser = HTTPRequestParser(maxHeaderBytes: 1 << 16, maxBodyBytes: Int.max >> 1)
                parser.state = .chunkSize
                parser.append(buffer[bodyStart...])
                do {
                    if case .end(let body) = try parser.next() { return (status, headers, body) }
                } catch {
                    throw malformed("bad chunked body")
                }
                if atEndOfStream { throw malformed("chunked body cut short") }
                return nil
            }
            guard atEndOfStream else { return nil }
            return (status, headers, Array(buffer[bodyStart...]))
        }
    }

    private func findHeadEnd(from start: Int) -> Int? {
        var index = start
        while index < buffer.count {
            if buffer[index] == 0x0A {
                if index + 1 < buffer.count, buffer[index + 1] == 0x0A { return index + 2 }
                if index + 2 < buffer.count, buffer[index + 1] == 0x0D, buffer[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    private func malformed(_ what: String) -> SystemError {
        SystemError(.protocolError, operation: "read HTTP reply", message: "\(what); is this socket really renkeid's?")
    }
}
