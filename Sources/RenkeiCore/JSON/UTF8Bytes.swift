/// Byte-wise comparisons of strings' UTF-8 (never canonical equivalence), over contiguous buffers
/// where the strings have them (native and small strings do), else through their `UTF8View`s.
enum UTF8Bytes {
    /// Whether two buffers hold the same bytes.
    @inline(__always)
    static func equal(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        guard x.count == y.count else { return false }
        var index = 0
        while index < x.count {
            if x[index] != y[index] { return false }
            index += 1
        }
        return true
    }

    /// Whether `a`'s UTF-8 bytes sort before `b`'s (the order canonical JSON gives object keys).
    static func precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for index in 0..<min(x.count, y.count) where x[index] != y[index] { return x[index] < y[index] }
                return x.count < y.count
            }
        }
        if let fast, let fast { return fast }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
