import Glibc

/// Encodes text as CP932 (Windows-31J, what Excel on Japanese Windows opens), through glibc
/// `iconv(3)`'s `CP932` converter, the same tables ``TextDecoder`` reads with (Microsoft's
/// mapping: U+FF5E and U+301C both become 0x8160, 髙 0xFBFC, 﨑 0xFAB1).
///
/// A character CP932 cannot hold (𠮷, a character with an ideographic variation selector, a 外字
/// code point) is never written as a silent `?`: ``encode(_:)`` throws naming it, and
/// ``encodeMarking(_:)`` writes the geta mark 〓 (U+3013, 0x81AC: the substitution mark of Japanese
/// forms) and returns the characters it replaced, for a column that lists them.
public enum CP932Encoder {
    /// The substitution mark ``encodeMarking(_:)`` writes for a character CP932 cannot hold: 〓.
    public static let marker: Character = "〓"

    /// A character CP932 cannot hold.
    public struct Unencodable: Error, Sendable, Equatable, CustomStringConvertible {
        /// The character.
        public var character: String
        /// Its code points, `U+20BB7` (several for a sequence), for a reader who cannot see it.
        public var codePoints: String

        init(_ character: Character) {
            self.character = String(character)
            self.codePoints = character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
                .joined(separator: " ")
        }

        /// `𠮷 (U+20BB7) cannot be written in CP932`.
        public var description: String { "\(character) (\(codePoints)) cannot be written in CP932" }
    }

    /// The CP932 bytes of `text`.
    /// - Throws: ``Unencodable`` for the first character CP932 cannot hold.
    public static func encode(_ text: String) throws(Unencodable) -> [UInt8] {
        let marked = encodeMarking(text)
        if let first = marked.replaced.first { throw first }
        return marked.bytes
    }

    /// The CP932 bytes of `text`, each character CP932 cannot hold written as ``marker``; `replaced`
    /// lists those characters in order (empty when none).
    public static func encodeMarking(_ text: String) -> (bytes: [UInt8], replaced: [Unencodable]) {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return (Array(text.utf8), []) }
        if let whole = convert(Array(text.utf8)) { return (whole, []) }
        var bytes: [UInt8] = []
        var replaced: [Unencodable] = []
        for character in text {
            if let encoded = convert(Array(String(character).utf8)) {
                bytes += encoded
            } else {
                bytes += [0x81, 0xAC]
                replaced.append(Unencodable(character))
            }
        }
        return (bytes, replaced)
    }

    /// iconv UTF-8 → CP932, `nil` when any character does not convert (or the converter is missing).
    private static func convert(_ input: [UInt8]) -> [UInt8]? {
        // iconv_open(3): (iconv_t)-1 when glibc has no CP932 converter (gconv modules not installed).
        let converter = iconv_open("CP932", "UTF-8")
        guard converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        // A CP932 character is at most 2 bytes for a UTF-8 sequence of at least 1.
        var output = [UInt8](repeating: 0, count: input.count * 2 + 4)
        var source = input
        let produced: Int? = source.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                // iconv(3): -1 with EILSEQ for a character the target cannot represent.
                let status = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                return status == -1 || inLeft != 0 ? nil : outBuffer.count - outLeft
            }
        }
        return produced.map { Array(output[..<$0]) }
    }
}
