import Foundation

/// Why an at-rest key or token could not be used. The message says what to do and never quotes a
/// plaintext value.
public struct AtRestKeyError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what to do.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The key-encryption key (KEK) of `secrets.at_rest_key_file`: 32 random bytes, base64 on one line
/// (`head -c 32 /dev/urandom | base64`). It only wraps the data key, which lives in the database.
public struct KeyEncryptionKey: Sendable {
    let bytes: [UInt8]
    /// A fingerprint naming this key in messages and in the database (12 hex digits of an HMAC under
    /// the key: it tells keys apart without revealing anything of them).
    public let id: String

    /// Parses a key file's text.
    /// - Throws: ``AtRestKeyError`` naming the file when it is not base64 of exactly 32 bytes.
    public init(fileText: String, fileName: String) throws(AtRestKeyError) {
        let line = fileText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.contains("\n"), let data = Data(base64Encoded: line) else {
            throw AtRestKeyError(
                "\(fileName): not one line of base64; write 32 random bytes as base64: "
                    + "head -c 32 /dev/urandom | base64 > \(fileName)")
        }
        guard data.count == AES256GCM.keyByteCount else {
            throw AtRestKeyError(
                "\(fileName): the key is \(data.count) bytes, it must be exactly 32 (base64 of 32 random bytes: "
                    + "head -c 32 /dev/urandom | base64)")
        }
        self.init(bytes: Array(data))
    }

    /// A key from its 32 bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == AES256GCM.keyByteCount, "a key-encryption key is 32 bytes")
        self.bytes = bytes
        id = HMACSHA256.authenticationCode(key: bytes, message: Array("renkei at-rest kek id v1".utf8)).prefix(6).hexString
    }
}

/// The data key under which `my_number` is held at rest, and the token format.
///
/// A token is `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`: AES-256-GCM with the key id
/// and field name as associated data. The nonce is synthetic — the first 12 bytes of an HMAC-SHA256
/// over the field and plaintext under a separate nonce key — so one number always gives one token
/// under one data key: duplicate detection, the projection's comparisons and rebuilds keep working
/// on stored bytes. What this reveals to someone holding the database is only which records share a
/// number; a nonce repeats only with its plaintext, so GCM's nonce-reuse failure cannot occur.
public struct AtRestCipher: Sendable {
    /// The prefix of every token.
    public static let tokenPrefix = "enc:v1:"

    /// Names this data key inside tokens and in the database (`k` + 8 hex digits, random).
    public let keyID: String
    private let material: [UInt8]
    private let encryptionKey: [UInt8]
    private let nonceKey: [UInt8]

    /// A data key from its 32 bytes of key material.
    public init(keyID: String, material: [UInt8]) {
        precondition(material.count == AES256GCM.keyByteCount, "a data key is 32 bytes")
        self.keyID = keyID
        self.material = material
        // Two independent keys from one secret (HKDF-Expand with one block: HMAC(secret, info ‖ 0x01)).
        encryptionKey = HMACSHA256.authenticationCode(key: material, message: Array("renkei at-rest v1 encryption\u{1}".utf8))
        nonceKey = HMACSHA256.authenticationCode(key: material, message: Array("renkei at-rest v1 nonce\u{1}".utf8))
    }

    /// A new random data key.
    public static func generate() -> AtRestCipher {
        AtRestCipher(keyID: "k" + SecureRandom.bytes(4).hexString, material: SecureRandom.bytes(AES256GCM.keyByteCount))
    }

    /// Whether `text` has the shape of a token (not whether it opens).
    public static func isToken(_ text: String) -> Bool { text.hasPrefix(tokenPrefix) }

    /// The token of `plaintext` held in `field`; the same inputs always give the same token.
    public func seal(_ plaintext: String, field: String) -> String {
        var nonceInput = Array(field.utf8)
        nonceInput.append(0)
        nonceInput.append(contentsOf: plaintext.utf8)
        let nonce = Array(HMACSHA256.authenticationCode(key: nonceKey, message: nonceInput).prefix(AES256GCM.nonceByteCount))
        let sealed = AES256GCM.seal(Array(plaintext.utf8), key: encryptionKey, nonce: nonce, aad: aad(keyID: keyID, field: field))
        return Self.tokenPrefix + keyID + ":" + Self.base64URL(nonce + sealed)
    }

    /// The plaintext of a token sealed under this data key for `field`.
    /// - Throws: ``AtRestKeyError`` when it is not a token, names another data key, or does not verify.
    public func open(_ token: String, field: String) throws(AtRestKeyError) -> String {
        guard Self.isToken(token) else { throw AtRestKeyError("\(field): the value is not an at-rest token") }
        let rest = token.dropFirst(Self.tokenPrefix.count)
        guard let colon = rest.firstIndex(of: ":") else { throw AtRestKeyError("\(field): a malformed at-rest token") }
        let tokenKeyID = String(rest[..<colon])
        guard tokenKeyID == keyID else {
            throw AtRestKeyError(
                "\(field): the token was sealed under data key \(tokenKeyID), but this database's data key is \(keyID)")
        }
        guard let bytes = Self.decodeBase64URL(rest[rest.index(after: colon)...]),
            bytes.count >= AES256GCM.nonceByteCount + AES256GCM.tagByteCount,
            let plain = AES256GCM.open(
                Array(bytes.dropFirst(AES256GCM.nonceByteCount)), key: encryptionKey,
                nonce: Array(bytes.prefix(AES256GCM.nonceByteCount)), aad: aad(keyID: keyID, field: field)),
            let text = String(validating: plain, as: UTF8.self)
        else {
            throw AtRestKeyError("\(field): an at-rest token under data key \(keyID) does not verify (altered, or not Renkei's)")
        }
        return text
    }

    // MARK: - Wrapping under the key-encryption key

    /// The data key encrypted under `kek`: random nonce ‖ ciphertext ‖ tag, bound to the key id.
    public func wrapped(under kek: KeyEncryptionKey) -> [UInt8] {
        let nonce = SecureRandom.bytes(AES256GCM.nonceByteCount)
        return nonce + AES256GCM.seal(material, key: kek.bytes, nonce: nonce, aad: Self.wrapAAD(keyID: keyID))
    }

    /// Unwraps a data key stored by ``wrapped(under:)``.
    /// - Throws: ``AtRestKeyError`` when `kek` is not the key it was wrapped under, or the bytes were altered.
    public static func unwrap(_ wrapped: [UInt8], keyID: String, under kek: KeyEncryptionKey) throws(AtRestKeyError) -> AtRestCipher {
        guard wrapped.count == AES256GCM.nonceByteCount + AES256GCM.keyByteCount + AES256GCM.tagByteCount,
            let material = AES256GCM.open(
                Array(wrapped.dropFirst(AES256GCM.nonceByteCount)), key: kek.bytes,
                nonce: Array(wrapped.prefix(AES256GCM.nonceByteCount)), aad: wrapAAD(keyID: keyID))
        else {
            throw AtRestKeyError(
                "data key \(keyID) does not unwrap with the key file (kek id \(kek.id)): the file is not the key it was "
                    + "stored under, or the database's at_rest_keys row was altered")
        }
        return AtRestCipher(keyID: keyID, material: material)
    }

    // MARK: - Encoding

    private func aad(keyID: String, field: String) -> [UInt8] { Array("renkei at-rest v1|\(keyID)|\(field)".utf8) }

    private static func wrapAAD(keyID: String) -> [UInt8] { Array("renkei at-rest data key v1|\(keyID)".utf8) }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decodeBase64URL(_ text: Substring) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard.append("=") }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
