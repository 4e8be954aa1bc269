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
        #expect(throws: CP932Encoder.Unencodable(codePoints: "U+20BB7", offset: 0, character: "𠮷")) { try encoder.encode("𠮷田") }
        #expect(throws: CP932Encoder.Unencodable(codePoints: "U+00E9", offset: 3, character: "é")) { try encoder.encode("Café") }
        var output: [UInt8] = [0x41]
        #expect(throws: CP932Encoder.Unencodable.self) { try encoder.append("葛\u{E0100}", to: &output) }
        #expect(output == [0x41], "nothing is appended when a value fails")
        // The converter is reset between values: a failure leaves no state behind.
        #expect(try encoder.encode("髙") == [0xFB, 0xFC])
    }
}

/// Issue 17: CP932 out, for the 突合 CSV: the decoder's tables backwards, and never a silent `?`.
@Suite struct CP932MarkingTests {
    @Test func theDecodersTablesBackwards() throws {
        #expect(try CP932Encoder().encode("abc,123") == Array("abc,123".utf8))
        #expect(try CP932Encoder().encode("") == [])
        #expect(try CP932Encoder().encode("髙橋") == [0xFB, 0xFC, 0x8B, 0xB4])
        #expect(try CP932Encoder().encode("﨑") == [0xFA, 0xB1])
        #expect(try CP932Encoder().encode("①ｱ") == [0x87, 0x40, 0xB1])
        // Both wave dashes become 0x8160, as Excel on Windows writes it.
        #expect(try CP932Encoder().encode("\u{FF5E}") == [0x81, 0x60])
        #expect(try CP932Encoder().encode("\u{301C}") == [0x81, 0x60])
        for text in ["田中 一郎", "東京都千代田区九段南1丁目2番1号", "〓", "ﾀﾅｶ"] {
            #expect(try TextDecoder.decode(CP932Encoder().encode(text), as: .cp932) == text)
        }
    }

    @Test func whatCP932CannotHoldIsNamedNeverAQuestionMark() {
        do throws(CP932Encoder.Unencodable) {
            _ = try CP932Encoder().encode("𠮷野家")
            Issue.record("𠮷 must not encode")
        } catch {
            #expect(error.character == "𠮷" && error.codePoints == "U+20BB7")
            #expect(error.description.contains("U+20BB7"))
        }
        let marked = CP932Encoder().encodeMarking("𠮷野 葛\u{E0100}飾")
        #expect(marked.replaced.map(\.codePoints) == ["U+20BB7", "U+845B U+E0100"])
        #expect(!marked.bytes.contains(UInt8(ascii: "?")))
        #expect((try? TextDecoder.decode(marked.bytes, as: .cp932)) == "〓野 〓飾")
    }
}
