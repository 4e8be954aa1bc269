/// The last accepted snapshot of a source as the byte-level comparison needs it (issue 16): each
/// key's UTF-8 bytes and its stored row digest, in an open-addressing table — no `String` and no
/// dictionary per key, so a million keys load and look up in a fraction of a second.
///
/// It also tracks, per key, what the file being compared did with it (see ``mark(_:line:)``).
public struct SnapshotDigestIndex: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyEnds: [Int] = []
    private var digests: [UInt8] = []
    private var hasDigest: [Bool] = []
    /// Per key: 0 not in the file (yet), a line > 0 where the row was found unchanged, -1 a row with
    /// this key was left to the mapping (changed, repeated or refused).
    private var state: [Int] = []
    private var table: [Int32] = Array(repeating: -1, count: 1024)

    /// Creates an empty index.
    public init() {}

    /// Keys held.
    public var count: Int { keyEnds.count }

    /// Adds a key and its stored row digest (64 hex digits; anything else — the empty digest of a row
    /// stored before row digests — never matches, so that row is mapped again).
    public mutating func append(key: UnsafeRawBufferPointer, digestHex: UnsafeRawBufferPointer) {
        if (count + 1) * 2 > table.count { grow() }
        let entry = count
        keyBytes += key
        keyEnds.append(keyBytes.count)
        let at = digests.count
        digests.append(contentsOf: repeatElement(0, count: 32))
        var valid = digestHex.count == 64
        if valid {
            for i in 0..<32 {
                guard let high = Self.nibble(digestHex[2 * i]), let low = Self.nibble(digestHex[2 * i + 1]) else {
                    valid = false
                    break
                }
                digests[at + i] = high << 4 | low
            }
        }
        hasDigest.append(valid)
        state.append(0)
        insert(entry, hash: Self.hash(key))
    }

    /// The entry of a key, if held.
    public func find(_ key: UnsafeRawBufferPointer) -> Int? {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(key)) & mask
        while true {
            let entry = Int(table[slot])
            if entry < 0 { return nil }
            if self.key(entry).elementsEqual(key) { return entry }
            slot = (slot + 1) & mask
        }
    }

    /// The entry of a key, if held.
    public func find(_ key: ArraySlice<UInt8>) -> Int? {
        key.withUnsafeBytes { find($0) }
    }

    /// Whether the entry's stored digest is `digest` (32 bytes).
    public func digestMatches(_ entry: Int, _ digest: UnsafeRawBufferPointer) -> Bool {
        guard hasDigest[entry] else { return false }
        return digests[(entry * 32)..<(entry * 32 + 32)].elementsEqual(digest)
    }

    /// The entry's key bytes.
    public func key(_ entry: Int) -> ArraySlice<UInt8> {
        keyBytes[(entry == 0 ? 0 : keyEnds[entry - 1])..<keyEnds[entry]]
    }

    /// The entry's key as text.
    public func keyText(_ entry: Int) -> String {
        String(decoding: key(entry), as: UTF8.self)
    }

    /// What the file did with the entry so far: 0 nothing, a line > 0 unchanged there, -1 left to the mapping.
    public func mark(of entry: Int) -> Int { state[entry] }

    /// Records what the file did with the entry (see ``mark(of:)``).
    public mutating func mark(_ entry: Int, line: Int) { state[entry] = line }

    /// The entries the file has not found unchanged (their rows are changed, mapped, refused or missing).
    public func entriesNotUnchanged() -> [Int] {
        var result: [Int] = []
        for entry in 0..<count where state[entry] <= 0 { result.append(entry) }
        return result
    }

    // MARK: - The table

    private mutating func insert(_ entry: Int, hash: UInt64) {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while table[slot] >= 0 { slot = (slot + 1) & mask }
        table[slot] = Int32(entry)
    }

    private mutating func grow() {
        table = Array(repeating: -1, count: table.count * 2)
        for entry in 0..<count {
            let hash = key(entry).withUnsafeBytes { Self.hash($0) }
            insert(entry, hash: hash)
        }
    }

    /// FNV-1a, then a final mix so the low bits (the slot) depend on every byte.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
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
