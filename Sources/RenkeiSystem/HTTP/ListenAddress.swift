/// Where an ``HTTPServer`` listens: a UNIX socket file or a TCP address.
public enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// A UNIX socket at `path`, chmod'ed to `mode` (e.g. `0o660`) and chgrp'ed to `group` when given.
    case unix(path: String, mode: UInt32, group: String?)
    /// A TCP address: a numeric host (`127.0.0.1`, `::1`, `0.0.0.0`) or `localhost`, and a port (0 picks one).
    case tcp(host: String, port: Int)

    /// Parses `127.0.0.1:8470`, `[::1]:8470`, `localhost:8470`, or a path starting with `/`
    /// (a UNIX socket with mode 0660).
    /// - Parameter text: the configured value, e.g. `ingest_listen`.
    /// - Returns: `nil` when the text is none of those forms.
    public static func parse(_ text: String) -> ListenAddress? {
        if text.hasPrefix("/") { return .unix(path: text, mode: 0o660, group: nil) }
        if text.hasPrefix("unix:") { return parse(String(text.dropFirst(5))) }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portText = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            guard !host.contains(":") else { return nil }
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText),
            (0...65535).contains(port)
        else { return nil }
        return .tcp(host: String(host), port: port)
    }

    /// Whether only this machine can connect: a UNIX socket, `localhost`, 127.0.0.0/8 or `::1`.
    /// Anything else (`0.0.0.0`, `::`, a LAN address, a host name) is reachable from the network.
    public var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .tcp(let host, let port):
            return (try? SocketAddress.resolve(host: host, port: port))?.isLoopback ?? false
        }
    }

    /// `unix:/run/renkei/status.sock` or `127.0.0.1:8470` / `[::1]:8470`.
    public var description: String {
        switch self {
        case .unix(let path, _, _): return "unix:\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
