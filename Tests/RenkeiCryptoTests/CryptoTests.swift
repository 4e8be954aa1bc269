import Foundation
import RenkeiCrypto
import Testing

@Suite struct CryptoTests {
    @Test func hexOfEveryByteFromCollectionsAndSequences() {
        let bytes = (0...255).map { UInt8($0) }
        let expected = bytes.map { String(format: "%02x", $0) }.joined()
        #expect(bytes.hexString == expected)
        #expect(bytes[10...].hexString == String(expected.dropFirst(20)))
        #expect(AnySequence(bytes).hexString == expected, "a sequence that is not a collection")
        #expect([UInt8]().hexString == "")
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hash(Array("".utf8)).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hmacMatchesRFC4231Case2() {
        let mac = HMACSHA256.authenticationCode(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// The example from the Standard Webhooks specification's reference libraries.
    @Test func webhookSignatureMatchesStandardWebhooksExample() throws {
        let signer = try WebhookSigner(secretFileText: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", fileName: "s")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(signer.verify(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body, header: signature))
        #expect(!signer.verify(id: "msg_other", timestamp: 1614265330, body: body, header: signature))
    }

    @Test func twoKeysSignWithBoth() throws {
        let signer = try WebhookSigner(secretFileText: "whsec_AAAA\nwhsec_BBBB\n", fileName: "s")
        let header = signer.signature(id: "a", timestamp: 1, body: [1, 2, 3])
        #expect(header.split(separator: " ").count == 2)
        let second = try WebhookSigner(secretFileText: "whsec_BBBB", fileName: "s")
        #expect(second.verify(id: "a", timestamp: 1, body: [1, 2, 3], header: header))
    }

    @Test func badSecretFilesNameTheLine() {
        #expect(throws: WebhookSigner.SecretError.self) { try WebhookSigner(secretFileText: "", fileName: "s") }
        do {
            _ = try WebhookSigner(secretFileText: "whsec_AAAA\nplain\n", fileName: "/etc/x")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("/etc/x:2:"))
        }
    }

    @Test func constantTimeEqualsComparesContent() {
        #expect(constantTimeEquals(Array("token".utf8), Array("token".utf8)))
        #expect(!constantTimeEquals(Array("token".utf8), Array("tokem".utf8)))
        #expect(!constantTimeEquals(Array("token".utf8), Array("token2".utf8)))
    }
}
