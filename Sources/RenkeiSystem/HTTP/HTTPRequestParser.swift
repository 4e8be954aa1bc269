/// An incremental HTTP/1.1 request parser: pure, no I/O, safe to feed any bytes (it is fuzzed).
///
/// Feed bytes with ``append(_:)`` and pull ``Event``s with ``next()`` until it returns `nil`
/// (more bytes needed). Every request yields `.head` and then `.end(body:)`; bytes after a complete
/// request stay buffered for the next one. After an error the parser stays failed.
///
/// Accepted: CRLF or bare-LF line ends (RFC 9112 §2.2), leading empty lines, origin- and
/// absolute-form targets, `Content-Length` (repeated only with equal values), `chunked` bodies with
/// extensions and trailers. Rejected: obs-fold, NUL and other controls, malformed names, both
/// `Content-Length` and `Transfer-Encoding`, any transfer coding but `chunked`.
public struct HTTPRequestParser: Sendable {
    /// What the parser found.
    public enum Event: Sendable {
        /// The head is complete; the body (if any) follows.
        case head(HTTPRequestHead)
        /// The request is complete with this (de-chunked) body.
        case end(body: [UInt8])
    }

    enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytes: Int)
        case complete
        case failed(HTTPParseError)
    }

    /// The most bytes a head (or the chunked trailers) may take.
    public let maxHeaderBytes: Int
    /// The largest body accepted.
    public let maxBodyBytes: Int

    var buffer: [UInt8] = []
    var readIndex = 0
    /// Where the next search for a line end starts (so a dribbled head is scanned once).
    var scanIndex = 0
    var state = State.head
    var body: [UInt8] = []

    /// Creates a parser.
    /// - Parameters:
    ///   - maxHeaderBytes: beyond this a head is answered 431.
    ///   - maxBodyBytes: beyond this a body is answered 413.
    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 64 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if readIndex > 65536 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The number of received bytes not yet consumed.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// The body bytes received so far for the current request.
    public var bodyBytesReceived: Int { body.count }

    /// Whether the parser is between requests (nothing of the next one consumed yet).
    public var isAtRequestBoundary: Bool {
        if case .head = state { return true }
        return false
    }

    /// Parses as far as the buffered bytes allow.
    /// - Returns: the next event, or `nil` when more bytes are needed.
    /// - Throws: ``HTTPParseError`` with the status to answer; the connection must then be closed.
    public mutating func next() throws(HTTPParseError) -> Event? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .complete:
                let finished = body
                body = []
                state = .head
                return .end(body: finished)
            case .head:
                guard let head = try parseHead() else { return nil }
                if head.isChunked {
                    state = .chunkSize
                } else if let length = head.contentLength, length > 0 {
                    state = .fixedBody(remaining: length)
                    body.reserveCapacity(length)
                } else {
                    state = .complete
                }
                return .head(head)
            case .fixedBody(let remaining):
                let take = min(remaining, bufferedByteCount)
                guard take > 0 else { return nil }
                body.append(contentsOf: buffer[readIndex..<readIndex + take])
                readIndex += take
                state = remaining == take ? .complete : .fixedBody(remaining: remaining - take)
            case .chunkSize:
                guard let line = try nextLine(limit: 1024, what: "chunk size line") else { return nil }
                let size = try Self.chunkSize(line)
                if size == 0 {
                    state = .trailers(bytes: 0)
                } else {
                    guard size <= maxBodyBytes - body.count else {
                        throw HTTPParseError(status: 413, "request body exceeds the limit of \(maxBodyBytes) bytes")
                    }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, bufferedByteCount)
                guard take > 0 else { return nil }
                body.append(contentsOf: buffer[readIndex..<readIndex + take])
                readIndex += take
                state = remaining == take ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard let line = try nextLine(limit: 2, what: "chunk end") else { return nil }
                guard line.isEmpty else { throw .bad("chunk data is not followed by CRLF") }
                state = .chunkSize
            case .trailers(let bytes):
                guard let line = try nextLine(limit: maxHeaderBytes - bytes, what: "trailer section") else {
                    if bufferedByteCount > maxHeaderBytes - bytes {
                        throw HTTPParseError(status: 431, "trailer section exceeds \(maxHeaderBytes) bytes")
                    }
                    return nil
                }
                if line.isEmpty {
                    state = .complete
                } else {
                    // Trailer fields are checked for syntax and then dropped: nothing here depends on them.
                    _ = try Self.headerField(line)
                    state = .trailers(bytes: bytes + line.count + 2)
                }
            }
        }
    }

    // MARK: - Lines

    /// The next line without its CRLF or LF, or `nil` if no line end is buffered yet.
    private mutating func nextLine(limit: Int, what: String) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        let searchEnd = min(buffer.count, readIndex + max(0, limit) + 2)
        guard let newline = buffer[readIndex..<searchEnd].firstIndex(of: 0x0A) else {
            if buffer.count - readIndex > limit + 1 {
                if what == "trailer section" {
                    throw HTTPParseError(status: 431, "trailer section exceeds \(maxHeaderBytes) bytes")
                }
                throw .bad("\(what) is too long")
            }
            return nil
        }
        var end = newline
        if end > readIndex && buffer[end - 1] == 0x0D { end -= 1 }
        let line = buffer[readIndex..<end]
        readIndex = newline + 1
        scanIndex = readIndex
        return line
    }

    static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            if byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { break }
            guard let value = HTTPTarget.hexValue(byte) else { throw .bad("chunk size is not hexadecimal") }
            digits += 1
            guard digits <= 15 else { throw HTTPParseError(status: 413, "chunk size is too large") }
            size = size << 4 | Int(value)
        }
        guard digits > 0 else { throw .bad("chunk size is missing") }
        if line.contains(where: { $0 == 0 || $0 == 0x0D }) { throw .bad("chunk extension contains control characters") }
        return size
    }
}
