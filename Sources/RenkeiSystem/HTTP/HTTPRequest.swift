/// One HTTP request as the server hands it to a handler: the head parsed, the body read in full.
public struct HTTPRequest: Sendable {
    /// The method, e.g. `GET`, exactly as sent (methods are case-sensitive).
    public var method: String
    /// The request target as sent, e.g. `/v1/persons?source=library&subject=L0001`.
    public var target: String
    /// The percent-decoded path of the target, e.g. `/v1/persons`.
    public var path: String
    /// The percent-decoded query parameters (`+` is a space); the first of repeated keys wins.
    public var query: [String: String]
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body (de-chunked).
    public var body: [UInt8]
    /// Who connected, for UNIX sockets (`SO_PEERCRED`); `nil` on TCP.
    public var peer: PeerCredentials?
    /// The client's `address:port` on TCP; `nil` on UNIX sockets.
    public var remoteAddress: String?

    /// Creates a request (the server does this; tests and fakes may too).
    public init(
        method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        peer: PeerCredentials? = nil, remoteAddress: String? = nil
    ) {
        self.method = method
        self.target = target
        let parts = HTTPTarget.split(target)
        self.path = parts?.path ?? target
        self.query = parts?.query ?? [:]
        self.headers = headers
        self.body = body
        self.peer = peer
        self.remoteAddress = remoteAddress
    }

    init(head: HTTPRequestHead, body: [UInt8], peer: PeerCredentials?, remoteAddress: String?) {
        method = head.method
        target = head.target
        path = head.path
        query = head.query
        headers = head.headers
        self.body = body
        self.peer = peer
        self.remoteAddress = remoteAddress
    }
}

/// Splitting and percent-decoding of request targets.
enum HTTPTarget {
    /// Splits an origin-form (`/a/b?x=1`) or absolute-form (`http://host/a?x=1`) target.
    /// - Returns: `nil` when the target is malformed (bad percent escapes, not UTF-8, NUL, no leading `/`).
    static func split(_ target: String) -> (path: String, query: [String: String])? {
        var rest = Substring(target)
        if target == "*" { return ("*", [:]) }
        if !rest.hasPrefix("/") {
            // absolute-form (RFC 9112 §3.2.2): a server must accept it; drop scheme and authority.
            guard let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") else { return nil }
            rest = rest[rest.index(colon, offsetBy: 3)...]
            if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = rest[slash...]
            } else {
                rest = "/"
            }
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let rawPath: Substring
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            rawPath = rest[..<mark]
            for pair in rest[rest.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = decode(parts[0], plusIsSpace: true),
                    let value = decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
                else { return nil }
                if query[key] == nil { query[key] = value }
            }
        } else {
            rawPath = rest
        }
        guard let path = decode(rawPath, plusIsSpace: false) else { return nil }
        return (path, query)
    }

    /// Percent-decodes; `nil` on a bad escape, invalid UTF-8 or a NUL.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0), let string = String(validating: bytes, as: UTF8.self) else { return nil }
        return string
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
