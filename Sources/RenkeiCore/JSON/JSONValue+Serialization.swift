extension JSONValue {
    /// Compact JSON text as UTF-8 bytes, members in their stored order, non-ASCII written as is.
    public var serializedBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, sortKeys: false)
        return out
    }

    /// Canonical JSON bytes: compact, object keys sorted by their UTF-8 bytes at every level.
    ///
    /// These are the bytes the log hashes and compares: two values with the same canonical bytes
    /// are the same content, whatever the key order they arrived in.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, sortKeys: true)
        return out
    }

    /// Compact JSON text, members in their stored order.
    public var serializedString: String { String(decoding: serializedBytes, as: UTF8.self) }

    /// Canonical JSON text (see ``canonicalBytes``).
    public var canonicalString: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// Whether `self` and `other` serialise to the same bytes (``serializedBytes``), decided by walking
    /// both values without serialising either: strings compare by their UTF-8 bytes (never by
    /// canonical equivalence), object members in their stored order.
    public func isByteIdentical(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.string(let a), .string(let b)): return JSONObject.sameKey(a, b)
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            for index in a.indices where !a[index].isByteIdentical(to: b[index]) { return false }
            return true
        case (.object(let a), .object(let b)):
            guard a.members.count == b.members.count else { return false }
            for (x, y) in zip(a.members, b.members) {
                guard JSONObject.sameKey(x.key, y.key), x.value.isByteIdentical(to: y.value) else { return false }
            }
            return true
        case (.double, .double), (.double, .integer), (.integer, .double):
            // Numbers: what the serialiser writes decides (an integral double is written as an integer).
            return serializedBytes == other.serializedBytes
        default: return false
        }
    }

    func write(to out: inout [UInt8], sortKeys: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i): JSONValue.writeInteger(i, to: &out)
        case .double(let d):
            if let exact = Int64(exactly: d), abs(exact) < 9_000_000_000_000_000 {
                JSONValue.writeInteger(exact, to: &out)
            } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out, sortKeys: sortKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            let members = sortKeys
                ? object.members.sorted { UTF8Bytes.precedes($0.key, $1.key) }
                : object.members
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out, sortKeys: sortKeys)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes `s` as a JSON string: as is when no byte needs escaping (one copy of its UTF-8 bytes),
    /// else byte by byte with `\"`, `\\`, `\n`, `\r`, `\t` and `\u00XX` for other control bytes.
    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in !bytes.contains(where: needsEscape) }
        if plain == true {
            out.append(contentsOf: s.utf8)
        } else {
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x00..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether a UTF-8 byte must be escaped inside a JSON string (a quote, a backslash, a control byte).
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Writes an integer's decimal digits without making a `String`.
    static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }
}
