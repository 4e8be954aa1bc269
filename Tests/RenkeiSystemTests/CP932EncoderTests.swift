import Foundation
import RenkeiSystem
import Testing

/// Issue 17: what a file subscription writes in CP932 — Microsoft's codes, and an error (never a `?`)
/// for a character CP932 has no code for.
@Suite struct CP932EncoderTests {
    let encoder = CP932Encoder()

    @Test func microsoftCodesAndTheirRoundTrip() throws {
        #expect(try encoder.encode("～") == [0x81, 0x60])  // U+FF5E, the wave dash as Windows writes it
        #expect(try encoder.encode("髙") == [0xFB, 0xFC])  // IBM extension, as Windows' own conversion gives
        #expect(try encoder.encode("﨑") == [0xFA, 0xB1])
        #expect(try encoder.encode("AZ09,\"") == Array("AZ09,\"".utf8))
        for text in ["髙橋 一郎", "山﨑 ～子", "ﾀｶﾊｼ", "①Ⅱ㈱", "東京都千代田区九段南1丁目"] {
            #expect(try TextDecoder.decode(try encoder.encode(text), as: .cp932) == text, "\(text)")
        }
    }

    @Test func aCharacterWithoutACodeIsAnErrorNamingItsCodePointAndPlace() throws {
        #expect(throws: CP932Encoder.Unencodable(codePoints: "U+20BB7", offset: 0)) { try encoder.encode("𠮷田") }
        #expect(throws: CP932Encoder.Unencodable(codePoints: "U+00E9", offset: 3)) { try encoder.encode("Café") }
        var output: [UInt8] = [0x41]
        #expect(throws: CP932Encoder.Unencodable.self) { try encoder.append("葛\u{E0100}", to: &output) }
        #expect(output == [0x41], "nothing is appended when a value fails")
        // The converter is reset between values: a failure leaves no state behind.
        #expect(try encoder.encode("髙") == [0xFB, 0xFC])
    }
}
