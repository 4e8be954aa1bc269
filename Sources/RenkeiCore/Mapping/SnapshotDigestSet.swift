/// The row digests of a source's last accepted snapshot (issue 16), as the byte-level comparison
/// needs them: a row of the file whose digest is in the set is the same, byte for byte and with the
/// same mapping, as a stored row — and so has the same key — and is neither decoded nor mapped.
///
/// The database keeps the set as one blob of sorted 32-byte digests per source (read in one step,
/// not a million); here they go into an open-addressing table, slotted by their first eight bytes
/// (SHA-256 output, uniform). Each entry also records what the file being compared did with it.
public struct SnapshotDigestSet: Sendable {
    /// The digests, 32 bytes each, sorted.
    public private(set) var sorted: [UInt8]
    private var table: [Int32]
    /// Per entry: 0 no row of the file had it (yet), else the line of the row that had it.
    private var marks: [Int]

    /// An empty set.
    public init() {
        self.init(sorted: [])
    }

    /// The set stored as sorted 32-byte digests (a trailing partial digest is ignored).
    public init(sorted: [UInt8]) {
        self.sorted = Array(sorted.prefix(sorted.count / 32 * 32))
        let count = self.sorted.count / 32
        var capacity = 1024
        while capacity < count * 2 { capacity *= 2 }
        table = Array(repeating: -1, count: capacity)
        marks = Array(repeating: 0, count: count)
        let mask = capacity - 1
        self.sorted.withUnsafeBytes { bytes in
            table.withUnsafeMutableBufferPointer { table in
                for entry in 0..<count {
                    var slot = Int(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: entry * 32, as: UInt64.self)) & mask
                    while table[slot] >= 0 { slot = (slot + 1) & mask }
                    table[slot] = Int32(entry)
                }
            }
        }
    }

    /// Digests held.
    public var count: Int { marks.count }

    /// The entry holding `digest` (32 bytes), if any.
    public func find(_ digest: UnsafeRawBufferPointer) -> Int? {
        guard digest.count == 32 else { return nil }
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: digest.loadUnaligned(as: UInt64.self)) & mask
        return sorted.withUnsafeBytes { bytes in
            while true {
                let entry = Int(table[slot])
                if entry < 0 { return nil }
                if memcmp32(bytes.baseAddress! + entry * 32, digest.baseAddress!) { return entry }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The entry holding the digest written as 64 hex digits, if any.
    public func find(hex: String) -> Int? {
        guard let bytes = Self.bytes(hex: hex) else { return nil }
        return bytes.withUnsafeBytes { find($0) }
    }

    /// The line of the file's row that had the entry's digest, or 0.
    public func mark(of entry: Int) -> Int { marks[entry] }

    /// Records that the file's row on `line` had the entry's digest.
    public mutating func mark(_ entry: Int, line: Int) { marks[entry] = line }

    /// The digests (hex) that no row of the file had: the stored rows that changed or are missing.
    public func unmatchedHex() -> [String] {
        var result: [String] = []
        for entry in 0..<count where marks[entry] == 0 { result.append(Self.hex(sorted[(entry * 32)..<(entry * 32 + 32)])) }
        return result
    }

    // MARK: - The stored form

    /// The stored blob after a snapshot's update: `removing` taken out (one occurrence each),
    /// `adding` put in, still sorted. Digests not of 64 hex digits are left out.
    public static func updated(_ blob: [UInt8], removing: [String], adding: [String]) -> [UInt8] {
        func sortedDigests(_ hex: [String]) -> [[UInt8]] {
            hex.compactMap { bytes(hex: $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        let remove = sortedDigests(removing)
        let add = sortedDigests(adding)
        var result: [UInt8] = []
        result.reserveCapacity(blob.count + add.count * 32)
        var r = 0
        var a = 0
        var index = 0
        let count = blob.count / 32
        while index < count || a < add.count {
            let current = index < count ? blob[(index * 32)..<(index * 32 + 32)] : nil
            if let current {
                while r < remove.count, remove[r].lexicographicallyPrecedes(current) { r += 1 }
                if r < remove.count, remove[r].elementsEqual(current) {
                    r += 1
                    index += 1
                    continue
                }
            }
            if a < add.count, current.map({ add[a].lexicographicallyPrecedes($0) }) ?? true {
                result += add[a]
                a += 1
            } else if let current {
                result += current
                index += 1
            }
        }
        return result
    }

    /// The 32 bytes of a 64-digit hex digest, or nil.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let high = nibble(digits[2 * i]), let low = nibble(digits[2 * i + 1]) else { return nil }
            bytes[i] = high << 4 | low
        }
        return bytes
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: return digit - 0x30
        case 0x61...0x66: return digit - 0x61 + 10
        case 0x41...0x46: return digit - 0x41 + 10
        default: return nil
        }
    }
}

/// Whether 32 bytes at `a` and `b` are equal (four word compares).
@inline(__always)
private func memcmp32(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) -> Bool {
    a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
        && a.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        && a.loadUnaligned(fromByteOffset: 16, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        && a.loadUnaligned(fromByteOffset: 24, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
}
