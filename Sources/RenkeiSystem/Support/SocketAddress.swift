import Glibc

/// A socket address in Swift terms; turned into a `sockaddr_*` only inside ``withSockAddr(_:)``.
///
/// Like FlyingFox 0.27.1 `FlyingSocks/Sources/SocketAddress.swift`, but kept internal so no C type
/// reaches the public API.
enum SocketAddress: Sendable, CustomStringConvertible {
    /// A filesystem UNIX socket path, or an abstract one when the name starts with `@`.
    case unix(String)
    /// An IPv4 address (network byte order handled here) and port.
    case ipv4(in_addr_t, port: UInt16)
    /// An IPv6 address (16 bytes) and port.
    case ipv6([UInt8], port: UInt16)

    /// The largest path `sun_path` holds, including its terminating NUL (unix(7): 108 on Linux).
    static let maximumUnixPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// The address family for `socket(2)`.
    var family: Int32 {
        switch self {
        case .unix: return AF_UNIX
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        }
    }

    var description: String {
        switch self {
        case .unix(let path): return path
        case .ipv4(let address, let port):
            let b = withUnsafeBytes(of: address) { Array($0) }
            return "\(b[0]).\(b[1]).\(b[2]).\(b[3]):\(port)"
        case .ipv6(let bytes, let port):
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            // inet_ntop(3): writes a NUL-terminated presentation form into the buffer.
            _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            return "[\(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))]:\(port)"
        }
    }

    /// The address without its port: `192.0.2.1`, `::1` (a UNIX socket's path).
    var host: String {
        switch self {
        case .unix(let path): return path
        case .ipv4(_, let port), .ipv6(_, let port):
            let text = description
            var host = text.dropLast(String(port).count + 1)
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            return String(host)
        }
    }

    /// Whether only this machine can reach the address: 127.0.0.0/8, `::1`, `::ffff:127.x.y.z`, a UNIX socket.
    var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .ipv4(let address, _):
            return withUnsafeBytes(of: address) { $0[0] } == 127
        case .ipv6(let bytes, _):
            guard bytes.count == 16 else { return false }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            // RFC 4291 §2.5.5.2: an IPv4-mapped address, ::ffff:a.b.c.d.
            return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
        }
    }

    /// Resolves a numeric host (`127.0.0.1`, `::1`, `0.0.0.0`, `::`) or `localhost`.
    /// - Throws: ``SystemError`` for names that are not numeric addresses.
    static func resolve(host: String, port: Int) throws(SystemError) -> SocketAddress {
        guard (0...65535).contains(port) else {
            throw SystemError(.invalidArgument, operation: "resolve \(host):\(port)", message: "port out of range 0–65535")
        }
        let host = host == "localhost" ? "127.0.0.1" : host
        var v4 = in_addr()
        // inet_pton(3): returns 1 when the string is a valid address of the family.
        if inet_pton(AF_INET, host, &v4) == 1 {
            return .ipv4(v4.s_addr, port: UInt16(port))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return .ipv6(withUnsafeBytes(of: v6) { Array($0) }, port: UInt16(port))
        }
        throw SystemError(
            .invalidArgument, operation: "resolve \(host)",
            message: "not a numeric IP address; write e.g. 127.0.0.1 or [::1]")
    }

    /// Calls `body` with a pointer to the C address and its length.
    /// - Throws: ``SystemError`` when a UNIX path does not fit `sun_path`.
    func withSockAddr<Result>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> Result
    ) throws(SystemError) -> Result {
        switch self {
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(path.utf8)
            let abstract = bytes.first == UInt8(ascii: "@")
            // unix(7): an abstract address starts with a NUL byte; its length counts exactly the name.
            if abstract { bytes[0] = 0 }
            guard bytes.count < Self.maximumUnixPathBytes else {
                throw SystemError(
                    .invalidArgument, operation: "socket address \(path)",
                    message: "path is \(bytes.count) bytes, longer than the \(Self.maximumUnixPathBytes - 1) a UNIX socket allows; use a shorter path")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let length = socklen_t(pathOffset + bytes.count + (abstract ? 0 : 1))
            return try withUnsafePointer(to: &address) { (pointer) throws(SystemError) -> Result in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (p) throws(SystemError) in
                    try body(p, length)
                }
            }
        case .ipv4(let host, let port):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = in_addr(s_addr: host)
            return try withUnsafePointer(to: &address) { (pointer) throws(SystemError) -> Result in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (p) throws(SystemError) in
                    try body(p, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6(let host, let port):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: host) }
            return try withUnsafePointer(to: &address) { (pointer) throws(SystemError) -> Result in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (p) throws(SystemError) in
                    try body(p, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
}
