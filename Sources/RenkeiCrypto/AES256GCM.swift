internal import CCrypto

/// AES-256-GCM through libcrypto's EVP AEAD interface (never hand-rolled): the one place Renkei
/// encrypts. ``AtRestCipher`` builds the `my_number` tokens and the key wrapping on it.
public enum AES256GCM {
    /// Key length in bytes.
    public static let keyByteCount = 32
    /// Nonce (IV) length in bytes: GCM's native 96 bits.
    public static let nonceByteCount = 12
    /// Authentication tag length in bytes (full 128 bits).
    public static let tagByteCount = 16

    /// Encrypts and authenticates `plaintext` (and authenticates `aad`).
    /// - Parameters:
    ///   - key: 32 bytes.
    ///   - nonce: 12 bytes, never reused with the same key for a different plaintext.
    /// - Returns: ciphertext ‖ 16-byte tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8] {
        precondition(key.count == keyByteCount && nonce.count == nonceByteCount, "AES-256-GCM: bad key or nonce length")
        // EVP_EncryptInit_ex / EVP_EncryptUpdate / EVP_EncryptFinal_ex, then EVP_CTRL_GCM_GET_TAG:
        // https://www.openssl.org/docs/man3.0/man3/EVP_EncryptInit.html ("AEAD Interface"). GCM is a stream
        // mode: the ciphertext is as long as the plaintext and Final writes nothing more.
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("libcrypto could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
        var length: Int32 = 0
        if ok && !aad.isEmpty { ok = EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 }
        out.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { ok = false; return }
            if ok && !plaintext.isEmpty {
                ok = EVP_EncryptUpdate(context, base, &length, plaintext, Int32(plaintext.count)) == 1
                    && Int(length) == plaintext.count
            }
            var finalLength: Int32 = 0
            if ok { ok = EVP_EncryptFinal_ex(context, base + plaintext.count, &finalLength) == 1 && finalLength == 0 }
            if ok {
                ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), base + plaintext.count) == 1
            }
        }
        guard ok else { fatalError("libcrypto refused an AES-256-GCM encryption with valid lengths (out of memory?)") }
        return out
    }

    /// Checks the tag and decrypts.
    /// - Parameter sealed: ciphertext ‖ 16-byte tag, as ``seal(_:key:nonce:aad:)`` returned it.
    /// - Returns: the plaintext, or `nil` when the tag does not verify (wrong key, nonce or aad, or altered bytes).
    public static func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8]? {
        guard key.count == keyByteCount, nonce.count == nonceByteCount, sealed.count >= tagByteCount else { return nil }
        let cipherCount = sealed.count - tagByteCount
        var tag = Array(sealed[cipherCount...])
        // EVP_DecryptInit_ex / EVP_DecryptUpdate, EVP_CTRL_GCM_SET_TAG, then EVP_DecryptFinal_ex, which
        // returns 0 when the tag does not verify (same manual page).
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("libcrypto could not allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: max(cipherCount, 1))
        var ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
        var length: Int32 = 0
        if ok && !aad.isEmpty { ok = EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 }
        out.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { ok = false; return }
            if ok && cipherCount > 0 {
                ok = sealed.withUnsafeBufferPointer { input in
                    EVP_DecryptUpdate(context, base, &length, input.baseAddress, Int32(cipherCount)) == 1
                } && Int(length) == cipherCount
            }
            if ok { ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), &tag) == 1 }
            var finalLength: Int32 = 0
            if ok { ok = EVP_DecryptFinal_ex(context, base + cipherCount, &finalLength) == 1 }
        }
        guard ok else { return nil }
        return Array(out.prefix(cipherCount))
    }
}

/// Random bytes from libcrypto's CSPRNG.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        // RAND_bytes: https://www.openssl.org/docs/man3.0/man3/RAND_bytes.html — 1 on success.
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) == 1 }
        guard ok else { fatalError("libcrypto's RAND_bytes failed (no entropy source?)") }
        return out
    }
}
