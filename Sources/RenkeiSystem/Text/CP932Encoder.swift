import Glibc

/// Encodes Swift strings as CP932 (Windows-31J, what Excel on Japanese Windows opens) bytes: a
/// character CP932 cannot hold (𠮷, a character with an ideographic variation selector, a 外字 code
/// point) is never a `?` or a look-alike — ``encode(_:)`` throws naming it (issue 17: a file
/// subscription names the person and field), and ``encodeMarking(_:)`` writes the geta mark 〓
/// (U+3013, 0x81AC, the substitution mark of Japanese forms) and returns what it replaced, for a
/// column that lists them (the 突合 CSV).
///
/// The counterpart of ``TextDecoder`` for CP932, through glibc `iconv(3)` with the same `CP932`
/// converter, so what Renkei writes reads back to the same text (U+FF5E 〜 → 0x8160, 髙 → 0xFBFC).
/// One encoder keeps one converter open; it is not shared between threads (each file lane makes its
/// own). No C type appears in this API.
public final class CP932Encoder {
    /// The open converter; `nil` when glibc has no CP932 converter (every non-ASCII value then fails).
    private let converter: iconv_t?

    /// Opens the converter.
    public init() {
        // iconv_open(3): returns (iconv_t)-1 when the converter is missing (gconv CP932.so not installed).
        let opened = iconv_open("CP932", "UTF-8")
        converter = opened == iconv_t(bitPattern: -1) ? nil : opened
    }

    deinit {
        if let converter { iconv_close(converter) }
    }

    /// A character that has no CP932 code.
    public struct Unencodable: Error, Sendable, Hashable, CustomStringConvertible {
        /// The character's code point(s), `U+XXXX` (the text itself is not repeated: it is personal data).
        public var codePoints: String
        /// The 0-based character offset within the value.
        public var offset: Int
        /// The character itself, for a caller that lists it where the value may appear (the 突合
        /// CSV's 変換不能文字 column); ``description`` never includes it.
        public var character: String

        /// Creates an error.
        public init(codePoints: String, offset: Int, character: String = "") {
            self.codePoints = codePoints
            self.offset = offset
            self.character = character
        }

        /// `character U+20BB7 (character 1 of the value) has no CP932 code`.
        public var description: String {
            "character \(codePoints) (character \(offset + 1) of the value) has no CP932 code"
        }
    }

    /// Encodes `text` and appends the bytes to `output`.
    /// - Throws: ``Unencodable`` naming the first character CP932 cannot hold; `output` is then unchanged.
    public func append(_ text: String, to output: inout [UInt8]) throws(Unencodable) {
        var utf8 = Array(text.utf8)
        // Pure ASCII (numbers, codes, dates) is the same bytes in CP932 (0x5C and 0x7E included, as
        // Microsoft's mapping has them).
        if utf8.allSatisfy({ $0 < 0x80 }) {
            output.append(contentsOf: utf8)
            return
        }
        guard let converter else { throw Unencodable(codePoints: "(no CP932 converter in glibc: install the gconv modules)", offset: 0) }
        // Each UTF-8 sequence (1–4 bytes) becomes at most 2 CP932 bytes.
        var buffer = [UInt8](repeating: 0, count: utf8.count * 2 + 4)
        let result: (status: Int, consumed: Int, produced: Int) = utf8.withUnsafeMutableBufferPointer { inBuffer in
            buffer.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                // Reset the shift state first (iconv(3) with a null input), then convert; on EILSEQ
                // *inbuf points at the character that has no code.
                _ = iconv(converter, nil, nil, nil, nil)
                let status = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                return (status, inBuffer.count - inLeft, outBuffer.count - outLeft)
            }
        }
        guard result.status != -1 else {
            let prefix = String(decoding: utf8[..<result.consumed], as: UTF8.self)
            let offset = prefix.count
            let rest = String(decoding: utf8[result.consumed...], as: UTF8.self)
            let bad = rest.first.map(Self.codePoints) ?? "?"
            throw Unencodable(codePoints: bad, offset: offset, character: rest.first.map(String.init) ?? "")
        }
        output.append(contentsOf: buffer[..<result.produced])
    }

    /// Encodes `text`.
    /// - Throws: ``Unencodable`` naming the first character CP932 cannot hold.
    public func encode(_ text: String) throws(Unencodable) -> [UInt8] {
        var output: [UInt8] = []
        try append(text, to: &output)
        return output
    }

    /// The substitution mark ``encodeMarking(_:)`` writes for a character CP932 cannot hold: 〓.
    public static let marker: Character = "〓"

    /// The CP932 bytes of `text`, each character CP932 cannot hold written as ``marker``; `replaced`
    /// lists those characters (their code points and 0-based offsets) in order, empty when none.
    public func encodeMarking(_ text: String) -> (bytes: [UInt8], replaced: [Unencodable]) {
        if let whole = try? encode(text) { return (whole, []) }
        var bytes: [UInt8] = []
        var replaced: [Unencodable] = []
        for (offset, character) in text.enumerated() {
            do {
                try append(String(character), to: &bytes)
            } catch {
                bytes += [0x81, 0xAC]
                replaced.append(Unencodable(codePoints: Self.codePoints(character), offset: offset, character: String(character)))
            }
        }
        return (bytes, replaced)
    }

    /// `U+20BB7`, or `U+845B U+E0100` for a character with a variation selector.
    static func codePoints(_ character: Character) -> String {
        character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(4) }.joined(separator: " ")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
