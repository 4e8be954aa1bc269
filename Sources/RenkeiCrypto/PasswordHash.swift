import CCrypto

/// Password hashing for the console's staff accounts (issue 18): scrypt (RFC 7914), a memory-hard
/// KDF, through libcrypto's `EVP_PBE_scrypt`.
///
/// A stored hash is text, `scrypt$N$r$p$<salt hex>$<hash hex>`, so the parameters travel with it
/// and can be raised later without invalidating older hashes.
public enum PasswordHash {
    /// scrypt's cost parameters.
    public struct Parameters: Sendable, Hashable {
        /// CPU/memory cost (a power of two).
        public var n: UInt64
        /// Block size.
        public var r: UInt64
        /// Parallelism.
        public var p: UInt64

        /// Creates parameters.
        public init(n: UInt64, r: UInt64, p: UInt64) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// N = 2^15, r = 8, p = 1: 32 MiB and some tens of milliseconds a login (OWASP's scrypt minimum is 2^17 with
        /// r 8 at p 1 for 128 MiB; 2^15 keeps a login affordable on a loaded two-core server while staying memory-hard).
        public static let standard = Parameters(n: 1 << 15, r: 8, p: 1)
    }

    /// Hashes `password` with a fresh 16-byte salt.
    /// - Returns: the stored form, `scrypt$N$r$p$salt$hash`.
    public static func make(_ password: String, parameters: Parameters = .standard) -> String {
        let salt = SecureRandom.bytes(16)
        let key = derive(Array(password.utf8), salt: salt, parameters: parameters, length: 32) ?? []
        return "scrypt$\(parameters.n)$\(parameters.r)$\(parameters.p)$\(salt.hexString)$\(key.hexString)"
    }

    /// Whether `password` is the one `stored` was made from (constant-time comparison). A stored form
    /// that cannot be read answers `false`.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let n = UInt64(parts[1]), let r = UInt64(parts[2]),
            let p = UInt64(parts[3]), let salt = bytes(hex: parts[4]), let expected = bytes(hex: parts[5]), !expected.isEmpty
        else { return false }
        guard let key = derive(Array(password.utf8), salt: salt, parameters: Parameters(n: n, r: r, p: p), length: expected.count)
        else { return false }
        return constantTimeEquals(key, expected)
    }

    /// Hashes a password that does not exist, so a login for an unknown name takes as long as a real one.
    public static let decoy = make("renkei-decoy-password")

    static func derive(_ password: [UInt8], salt: [UInt8], parameters: Parameters, length: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: length)
        let buffer = password.isEmpty ? [UInt8(0)] : password  // never a nil base address
        // EVP_PBE_scrypt: https://www.openssl.org/docs/man3.0/man3/EVP_PBE_scrypt.html — 1 on success;
        // maxmem 0 means 32 MiB, too little for N=2^15 r=8 (128·N·r = 32 MiB plus overhead): give 64 MiB.
        let ok = buffer.withUnsafeBufferPointer { pw in
            salt.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    pw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(pw.count, 1)) { pwChars in
                        EVP_PBE_scrypt(
                            pwChars, password.count, s.baseAddress, s.count,
                            parameters.n, parameters.r, parameters.p, 64 * 1024 * 1024, o.baseAddress, length) == 1
                    }
                }
            }
        }
        return ok ? out : nil
    }

    static func bytes(hex: Substring) -> [UInt8]? {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var high: UInt8?
        for byte in hex.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return out
    }
}
