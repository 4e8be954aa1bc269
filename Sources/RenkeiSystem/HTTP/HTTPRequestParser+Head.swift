// MARK: - Request line and header fields (RFC 9112 §3, §5; RFC 9110 §5.6.2)

extension HTTPRequestParser {
    /// Parses the head once its terminating empty line is buffered.
    mutating func parseHead() throws(HTTPParseError) -> HTTPRequestHead? {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request line.
        while readIndex < buffer.count, buffer[readIndex] == 0x0D || buffer[readIndex] == 0x0A {
            if buffer[readIndex] == 0x0D {
                guard readIndex + 1 < buffer.count else { return nil }
                guard buffer[readIndex + 1] == 0x0A else { throw .bad("bare CR before the request line") }
            }
            readIndex += 1
        }
        scanIndex = max(scanIndex, readIndex)

        // Find an empty line: a LF followed by LF or CRLF.
        var end: Int?
        while let newline = buffer[scanIndex...].firstIndex(of: 0x0A) {
            if newline + 1 < buffer.count, buffer[newline + 1] == 0x0A {
                end = newline + 2
                break
            }
            if newline + 2 < buffer.count, buffer[newline + 1] == 0x0D, buffer[newline + 2] == 0x0A {
                end = newline + 3
                break
            }
            if newline + 2 >= buffer.count {
                scanIndex = newline  // look at this line end again when more bytes arrive
                break
            }
            scanIndex = newline + 1
        }
        guard let end else {
            if buffer.count - readIndex > maxHeaderBytes {
                throw HTTPParseError(status: 431, "request head exceeds the limit of \(maxHeaderBytes) bytes")
            }
            return nil
        }
        guard end - readIndex <= maxHeaderBytes else {
            throw HTTPParseError(status: 431, "request head exceeds the limit of \(maxHeaderBytes) bytes")
        }
        let block = buffer[readIndex..<end]
        readIndex = end
        scanIndex = end

        var lines: [ArraySlice<UInt8>] = []
        var lineStart = block.startIndex
        for index in block.indices where block[index] == 0x0A {
            var lineEnd = index
            if lineEnd > lineStart && block[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            lines.append(block[lineStart..<lineEnd])
            lineStart = index + 1
        }
        lines.removeLast()  // the empty line
        guard let requestLine = lines.first else { throw .bad("empty request") }
        for line in lines where line.contains(0x0D) { throw .bad("bare CR in the request head") }
        return try Self.makeHead(requestLine: requestLine, fieldLines: lines.dropFirst(), maxBodyBytes: maxBodyBytes)
    }

    static func makeHead(
        requestLine: ArraySlice<UInt8>, fieldLines: ArraySlice<ArraySlice<UInt8>>, maxBodyBytes: Int
    ) throws(HTTPParseError) -> HTTPRequestHead {
        let parts = requestLine.split(separator: 0x20, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .bad("malformed request line") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { throw .bad("malformed method") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .bad("malformed request target")
        }
        let minorVersion = try version(parts[2])
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        guard let (path, query) = HTTPTarget.split(target) else {
            throw .bad("malformed request target (bad percent-encoding or not UTF-8)")
        }

        var headers = HTTPHeaders()
        for line in fieldLines {
            let (name, value) = try headerField(line)
            headers.add(name: name, value: value)
        }

        let transferCodings = headers.values("Transfer-Encoding")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces.lowercased() }
        let lengths = headers.values("Content-Length")
            .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingSpaces }

        var isChunked = false
        if !transferCodings.isEmpty {
            guard minorVersion == 1 else { throw .bad("Transfer-Encoding is not allowed in HTTP/1.0") }
            guard lengths.isEmpty else { throw .bad("both Content-Length and Transfer-Encoding were sent") }
            guard transferCodings == ["chunked"] else {
                throw HTTPParseError(status: 501, "only Transfer-Encoding: chunked is supported")
            }
            isChunked = true
        }
        var contentLength: Int?
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }) else { throw .bad("conflicting Content-Length values") }
            guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .bad("Content-Length is not a non-negative integer")
            }
            guard first.utf8.count <= 18, let value = Int(first), value <= maxBodyBytes else {
                throw HTTPParseError(status: 413, "request body exceeds the limit of \(maxBodyBytes) bytes")
            }
            contentLength = value
        }
        if headers.values("Host").count > 1 { throw .bad("more than one Host header") }

        let connection = Set(headers.values("Connection").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces.lowercased() })
        let keepAlive = minorVersion == 1 ? !connection.contains("close") : connection.contains("keep-alive")

        var expectsContinue = false
        if let expectation = headers["Expect"] {
            guard expectation.trimmingSpaces.lowercased() == "100-continue" else {
                throw HTTPParseError(status: 417, "only Expect: 100-continue is supported")
            }
            expectsContinue = minorVersion == 1
        }

        return HTTPRequestHead(
            method: method, target: target, path: path, query: query, minorVersion: minorVersion,
            headers: headers, contentLength: contentLength, isChunked: isChunked, keepAlive: keepAlive,
            expectsContinue: expectsContinue)
    }

    static func version(_ text: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let bytes = Array(text)
        guard bytes.count == 8, bytes.starts(with: Array("HTTP/".utf8)), bytes[6] == UInt8(ascii: "."),
            let major = digit(bytes[5]), let minor = digit(bytes[7])
        else { throw .bad("malformed HTTP version") }
        guard major == 1 else { throw HTTPParseError(status: 505, "only HTTP/1.0 and HTTP/1.1 are supported") }
        return minor == 0 ? 0 : 1
    }

    static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    /// Parses `name: value`; rejects obs-fold, whitespace before the colon, bad names and controls.
    static func headerField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first else { throw .bad("empty header line") }
        guard first != 0x20 && first != 0x09 else { throw .bad("obsolete line folding in headers") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .bad("header line without a colon") }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw .bad("malformed header name") }
        var value = line[(colon + 1)...]
        while let b = value.first, b == 0x20 || b == 0x09 { value = value.dropFirst() }
        while let b = value.last, b == 0x20 || b == 0x09 { value = value.dropLast() }
        guard !value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
            throw .bad("control character in header \(String(decoding: name, as: UTF8.self))")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// RFC 9110 §5.6.2 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's OWS).
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let c = slice.first, c == " " || c == "\t" { slice = slice.dropFirst() }
        while let c = slice.last, c == " " || c == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
