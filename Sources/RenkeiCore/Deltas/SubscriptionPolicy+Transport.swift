/// Plain `http://` is for loopback only when restricted fields travel (issue 13).
extension SubscriptionPolicy {
    /// Checks where the subscription's deltas go: a subscription that lists `my_number` or `tax` may
    /// use `http://` only toward loopback (`127.0.0.0/8`, `::1`, `localhost`), such as a local TLS
    /// terminator; anything else must be `https://`.
    /// - Parameters:
    ///   - scheme: the URL's scheme (`http`, `https`), any case.
    ///   - host: the URL's host as written (brackets around an IPv6 address allowed).
    /// - Throws: ``RenkeiError`` with code `invalidConfiguration`, naming the subscription and the fix.
    public func validateTransport(scheme: String, host: String) throws(RenkeiError) {
        let restricted = fields.filter { Self.restrictedFields.contains($0) }
        guard !restricted.isEmpty, scheme.lowercased() == "http", !Self.isLoopback(host: host) else { return }
        throw RenkeiError(
            .invalidConfiguration,
            "subscription \"\(name)\" lists \(restricted.joined(separator: " and ")) but its url sends over plain "
                + "http:// to \(host), which anyone on the path can read: use an https:// URL "
                + "(http:// is allowed only to loopback: 127.0.0.0/8, ::1, localhost)")
    }

    /// Whether `host` names this machine's loopback interface: `localhost`, an IPv4 address in
    /// `127.0.0.0/8` written as four decimal numbers, or the IPv6 address `::1` in any spelling.
    public static func isLoopback(host: String) -> Bool {
        var text = Substring(host)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        let lowered = text.lowercased()
        if lowered == "localhost" || lowered == "localhost." { return true }
        if let octets = ipv4Octets(lowered) { return octets[0] == 127 }
        if let groups = ipv6Groups(lowered) { return groups.dropLast().allSatisfy { $0 == 0 } && groups.last == 1 }
        return false
    }

    /// `a.b.c.d`, each a decimal number 0–255 without a sign; nil otherwise.
    static func ipv4Octets(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(part),
                value <= 255
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// The eight 16-bit groups of an IPv6 address (`::` shorthand allowed; no zone, no IPv4 tail).
    static func ipv6Groups(_ text: String) -> [UInt16]? {
        guard text.contains(":"), !text.contains("%") else { return nil }
        var halves = [text]
        if let gap = text.firstRange(of: "::") {
            halves = [String(text[..<gap.lowerBound]), String(text[gap.upperBound...])]
            guard !halves[1].contains("::") else { return nil }
        }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for piece in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
