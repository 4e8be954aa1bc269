import Foundation
import RenkeiSystem
import Testing

@Suite struct CP932DecoderTests {
    func decode(_ bytes: [UInt8]) throws(TextDecodingError) -> String { try TextDecoder.decode(bytes, as: .cp932) }

    @Test func microsoftMappingOfTheWaveDash() throws {
        #expect(try decode([0x81, 0x60]).unicodeScalars.map(\.value) == [0xFF5E])
        #expect(try decode([0x81, 0x5F]).unicodeScalars.map(\.value) == [0xFF3C])
    }

    @Test func ibmAndNecExtensionsOnlyCP932Has() throws {
        #expect(try decode([0xFB, 0xFC]).unicodeScalars.map(\.value) == [0x9AD9])  // 髙, IBM extension
        #expect(try decode([0xEE, 0xE0]).unicodeScalars.map(\.value) == [0x9AD9])  // 髙, NEC-selected IBM
        #expect(try decode([0xFA, 0xB1]).unicodeScalars.map(\.value) == [0xFA11])  // 﨑, kept as U+FA11 (no NFC)
        #expect(try decode([0x87, 0x40]) == "①")
    }

    @Test func asciiAndHalfWidthKana() throws {
        #expect(try decode(Array("abc,123".utf8)) == "abc,123")
        #expect(try decode([0xB1, 0xB2]) == "ｱｲ")
        #expect(try decode([]) == "")
    }

    @Test func invalidBytesNameTheirOffset() {
        do throws(TextDecodingError) {
            _ = try decode([0x41, 0x42, 0x85, 0x41])
            Issue.record("0x85 0x41 decoded")
        } catch {
            #expect(error.offset == 2)
            #expect(!error.truncated)
            #expect(error.description.contains("offset 2"))
            #expect(error.description.contains("0x85"))
        }
        do throws(TextDecodingError) {
            _ = try decode([0x41, 0x82])
            Issue.record("a lone lead byte decoded")
        } catch {
            #expect(error.offset == 1)
            #expect(error.truncated)
        }
    }

    @Test func utf8IsStrictWithOffsets() throws {
        #expect(try TextDecoder.decode(Array("髙".utf8), as: .utf8) == "髙")
        do throws(TextDecodingError) {
            _ = try TextDecoder.decode([0x41, 0xC3, 0x28], as: .utf8)
            Issue.record("invalid UTF-8 decoded")
        } catch {
            #expect(error.offset == 1)
        }
        do throws(TextDecodingError) {
            _ = try TextDecoder.decode([0x41, 0xE9, 0xAB], as: .utf8)
            Issue.record("truncated UTF-8 decoded")
        } catch {
            #expect(error.truncated)
        }
    }

    @Test func configuredNames() {
        #expect(TextDecoder.Encoding(configured: "CP932") == .cp932)
        #expect(TextDecoder.Encoding(configured: "utf-8") == .utf8)
        #expect(TextDecoder.Encoding(configured: "euc-jp") == nil)
    }

    @Test func concurrentDecodingIsSafe() async {
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask { (try? TextDecoder.decode([0xFB, 0xFC, 0x81, 0x60], as: .cp932)) == "髙～" }
            }
            for await ok in group { #expect(ok) }
        }
    }

    /// Converters are reused (a pool): one given back after a refused or truncated text must decode
    /// the next text from its initial state, alone and on several threads at once.
    @Test func aReusedConverterStartsAfresh() async throws {
        for _ in 0..<40 {
            #expect(throws: TextDecodingError.self) { try decode([0x8E, 0x52, 0x82]) }  // 山 and a lone lead byte
            #expect(throws: TextDecodingError.self) { try decode([0x85, 0x41]) }
            #expect(try decode([0x8E, 0x52, 0x93, 0x63]) == "山田")
        }
        await withTaskGroup(of: Bool.self) { group in
            for task in 0..<32 {
                group.addTask {
                    (0..<50).allSatisfy { round in
                        if (task + round) % 3 == 0 { return (try? TextDecoder.decode([0x41, 0x82], as: .cp932)) == nil }
                        return (try? TextDecoder.decode([0x8E, 0x52, 0xB1, 0x41], as: .cp932)) == "山ｱA"
                    }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
