internal import CCrypto

/// SHA-256 through OpenSSL's libcrypto (never hand-rolled).
public enum SHA256 {
    /// The digest length in bytes.
    public static let byteCount = 32

    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// An incremental SHA-256 computation (for the log's chain: previous hash, then event bytes).
    public struct Hasher: ~Copyable {
        private let context: OpaquePointer

        /// Starts a new digest.
        public init() {
            // EVP_MD_CTX_new / EVP_DigestInit_ex: https://www.openssl.org/docs/man3.0/man3/EVP_DigestInit.html
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto could not initialise SHA-256 (out of memory?)")
            }
            self.context = context
        }

        /// Feeds more bytes.
        public mutating func update(_ bytes: some Collection<UInt8>) {
            let done = bytes.withContiguousStorageIfAvailable { buffer in
                EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
            }
            if done == nil {
                let array = Array(bytes)
                array.withUnsafeBufferPointer { buffer in _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) }
            }
        }

        /// Finishes and returns the 32-byte digest.
        public consuming func finalize() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
            var length: UInt32 = 0
            digest.withUnsafeMutableBufferPointer { buffer in
                _ = EVP_DigestFinal_ex(context, buffer.baseAddress, &length)
            }
            return digest
        }

        deinit { EVP_MD_CTX_free(context) }
    }
}

/// HMAC-SHA256 through OpenSSL's libcrypto.
public enum HMACSHA256 {
    /// The MAC of `message` under `key`.
    public static func authenticationCode(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        let key = Array(key)
        let message = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        // HMAC(): https://www.openssl.org/docs/man3.0/man3/HMAC.html — one-shot, thread-safe.
        key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    _ = CCrypto.HMAC(
                        EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress, &length)
                }
            }
        }
        return out
    }
}

/// Constant-time comparison of two byte strings (for tokens and signatures).
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    let a = Array(a)
    let b = Array(b)
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    // CRYPTO_memcmp: https://www.openssl.org/docs/man3.0/man3/CRYPTO_memcmp.html
    return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 } }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal text of these bytes.
    public var hexString: String { Array(self).hexString }
}

extension Collection where Element == UInt8 {
    /// Lowercase hexadecimal text of these bytes, written straight into the string's storage: every
    /// event read from the log carries its hash as hex, and going through an array was 4 % of a rebuild.
    /// Inlinable, so each caller's collection type is specialized (unspecialized, the generic iteration
    /// was 9 % of mapping a snapshot row: six digests each).
    @inlinable
    public var hexString: String {
        String(unsafeUninitializedCapacity: count * 2) { buffer in
            var index = 0
            for byte in self {
                buffer[index] = UInt8.hexDigit(byte >> 4)
                buffer[index + 1] = UInt8.hexDigit(byte & 0xF)
                index += 2
            }
            return index
        }
    }
}

extension UInt8 {
    /// The lowercase hexadecimal digit of a nibble (0…15).
    @inline(__always) @usableFromInline
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

extension SHA256 {
    /// SHA-256 of one fixed prefix followed by each of many short messages (a snapshot file's row
    /// digests, issue 16): the prefix is hashed once, and each digest starts from a copy of that state
    /// on the stack — no context allocated per message.
    public struct Prefixed: @unchecked Sendable {
        // Plain C struct, copied by value and never mutated after init: safe to share between threads.
        private var state = SHA256_CTX()

        /// Hashes the prefix.
        public init(prefix: some Collection<UInt8>) {
            let bytes = Array(prefix)
            bytes.withUnsafeBytes { buffer in renkei_sha256_start(&state, buffer.baseAddress, buffer.count) }
        }

        /// Writes SHA-256(prefix ‖ `bytes`), 32 bytes, to `out`.
        public func hash(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
            withUnsafePointer(to: state) { state in
                renkei_sha256_finish(state, bytes.baseAddress, bytes.count, out.assumingMemoryBound(to: UInt8.self))
            }
        }

        /// SHA-256(prefix ‖ `bytes`).
        public func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
            let bytes = Array(bytes)
            bytes.withUnsafeBytes { input in digest.withUnsafeMutableBytes { hash(input, into: $0.baseAddress!) } }
            return digest
        }
    }
}
