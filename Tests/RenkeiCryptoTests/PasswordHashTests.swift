import RenkeiCrypto
import Testing

/// scrypt through libcrypto for the console's passwords (issue 18).
@Suite struct PasswordHashTests {
    /// RFC 7914 §12, the second test vector (N=1024, r=8, p=16).
    @Test func scryptMatchesTheRFCTestVector() {
        let stored = "scrypt$1024$8$16$" + Array("NaCl".utf8).hexString + "$"
            + "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        #expect(PasswordHash.verify("password", against: stored))
        #expect(!PasswordHash.verify("passwore", against: stored))
    }

    @Test func aHashVerifiesOnlyItsPasswordAndIsSaltedEachTime() {
        let parameters = PasswordHash.Parameters(n: 1 << 10, r: 8, p: 1)
        let first = PasswordHash.make("correct horse battery", parameters: parameters)
        let second = PasswordHash.make("correct horse battery", parameters: parameters)
        #expect(first.hasPrefix("scrypt$1024$8$1$"))
        #expect(first != second)
        #expect(PasswordHash.verify("correct horse battery", against: first))
        #expect(!PasswordHash.verify("correct horse batterY", against: first))
        #expect(!PasswordHash.verify("", against: first))
        #expect(!PasswordHash.verify("x", against: "not a hash"))
        #expect(PasswordHash.make("x").hasPrefix("scrypt$32768$8$1$"))
    }
}
