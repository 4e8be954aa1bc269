import Foundation
import RenkeiCrypto
import Testing

/// AES-256-GCM through libcrypto, and the `my_number` token and key wrapping built on it (issue 13).
@Suite struct AtRestCipherTests {
    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14 (AES-256, zero key and IV).
    @Test func aesGCMMatchesPublishedVectors() {
        let key = [UInt8](repeating: 0, count: 32), nonce = [UInt8](repeating: 0, count: 12)
        #expect(AES256GCM.seal([], key: key, nonce: nonce, aad: []).hexString == "530f8afbc74536b9a963b4f1c4cb738b")
        let sealed = AES256GCM.seal([UInt8](repeating: 0, count: 16), key: key, nonce: nonce, aad: [])
        #expect(sealed.hexString == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")
    }

    @Test func aesGCMRoundTripsAndDetectsTampering() {
        let key = SecureRandom.bytes(32), nonce = SecureRandom.bytes(12), aad = Array("context".utf8)
        let plain = Array("482139076529".utf8)
        let sealed = AES256GCM.seal(plain, key: key, nonce: nonce, aad: aad)
        #expect(sealed.count == plain.count + 16)
        #expect(AES256GCM.open(sealed, key: key, nonce: nonce, aad: aad) == plain)
        for index in sealed.indices {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(AES256GCM.open(altered, key: key, nonce: nonce, aad: aad) == nil, "byte \(index) altered")
        }
        #expect(AES256GCM.open(sealed, key: SecureRandom.bytes(32), nonce: nonce, aad: aad) == nil, "other key")
        #expect(AES256GCM.open(sealed, key: key, nonce: SecureRandom.bytes(12), aad: aad) == nil, "other nonce")
        #expect(AES256GCM.open(sealed, key: key, nonce: nonce, aad: Array("other".utf8)) == nil, "other aad")
        #expect(AES256GCM.open(Array(sealed.prefix(15)), key: key, nonce: nonce, aad: aad) == nil, "shorter than a tag")
    }

    @Test func tokensAreDeterministicPerKeyAndOpen() throws {
        let cipher = AtRestCipher.generate()
        let token = cipher.seal("482139076529", field: "my_number")
        #expect(token.hasPrefix("enc:v1:\(cipher.keyID):"))
        #expect(!token.contains("482139076529"))
        #expect(cipher.seal("482139076529", field: "my_number") == token, "same number, same token")
        #expect(cipher.seal("739204661583", field: "my_number") != token)
        #expect(try cipher.open(token, field: "my_number") == "482139076529")
        // Another data key gives another token, and cannot open this one.
        let other = AtRestCipher.generate()
        #expect(other.seal("482139076529", field: "my_number") != token)
        #expect(throws: AtRestKeyError.self) { try other.open(token, field: "my_number") }
        let sameID = AtRestCipher(keyID: cipher.keyID, material: SecureRandom.bytes(32))
        #expect(throws: AtRestKeyError.self) { try sameID.open(token, field: "my_number") }
        // A changed character, or a token moved to another field, does not open.
        var characters = Array(token)
        characters[characters.count - 3] = characters[characters.count - 3] == "A" ? "B" : "A"
        #expect(throws: AtRestKeyError.self) { try cipher.open(String(characters), field: "my_number") }
        #expect(throws: AtRestKeyError.self) { try cipher.open(token, field: "tax") }
        #expect(throws: AtRestKeyError.self) { try cipher.open("482139076529", field: "my_number") }
    }

    @Test func dataKeyUnwrapsOnlyUnderItsKeyEncryptionKey() throws {
        let kek = KeyEncryptionKey(bytes: SecureRandom.bytes(32))
        let cipher = AtRestCipher.generate()
        let wrapped = cipher.wrapped(under: kek)
        #expect(wrapped != cipher.wrapped(under: kek), "a fresh nonce for every wrapping")
        let unwrapped = try AtRestCipher.unwrap(wrapped, keyID: cipher.keyID, under: kek)
        #expect(unwrapped.seal("604182739351", field: "my_number") == cipher.seal("604182739351", field: "my_number"))
        let other = KeyEncryptionKey(bytes: SecureRandom.bytes(32))
        #expect(other.id != kek.id)
        #expect(throws: AtRestKeyError.self) { try AtRestCipher.unwrap(wrapped, keyID: cipher.keyID, under: other) }
        #expect(throws: AtRestKeyError.self) { try AtRestCipher.unwrap(wrapped, keyID: "k00000000", under: kek) }
    }

    @Test func keyFileMustBeBase64OfThirtyTwoBytes() throws {
        let key = SecureRandom.bytes(32)
        let parsed = try KeyEncryptionKey(fileText: Data(key).base64EncodedString() + "\n", fileName: "k")
        #expect(parsed.id == KeyEncryptionKey(bytes: key).id)
        #expect(throws: AtRestKeyError.self) { try KeyEncryptionKey(fileText: Data(key.prefix(16)).base64EncodedString(), fileName: "k") }
        #expect(throws: AtRestKeyError.self) { try KeyEncryptionKey(fileText: "not base64 at all!", fileName: "k") }
        #expect(throws: AtRestKeyError.self) { try KeyEncryptionKey(fileText: "", fileName: "k") }
    }
}
