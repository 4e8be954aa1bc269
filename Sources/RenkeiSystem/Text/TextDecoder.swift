import Glibc
import Synchronization

/// Decodes CP932 (Microsoft's Shift_JIS, Windows-31J) and UTF-8 bytes to Swift strings, strictly:
/// a byte sequence that does not decode is an error naming its offset, never a replacement character.
///
/// CP932 goes through glibc `iconv(3)` with the `CP932` converter, which uses Microsoft's mapping
/// (0x8160 → U+FF5E 〜, 0x815F → U+FF3C, the NEC and IBM extensions such as 0xFBFC → U+9AD9 髙 and
/// 0xFAB1 → U+FA11 﨑). No C type appears in this API.
public enum TextDecoder {
    /// The encodings a source's `csv.encoding` may name.
    public enum Encoding: String, Sendable, CaseIterable {
        /// UTF-8, with or without a byte order mark.
        case utf8 = "utf-8"
        /// Windows-31J (Microsoft's Shift_JIS with NEC and IBM extensions).
        case cp932

        /// Reads a configuration value (`utf-8`, `utf8`, `cp932`, `windows-31j`, `sjis`, case-insensitive).
        /// - Returns: nil for an encoding Renkei does not read.
        public init?(configured name: String) {
            switch name.lowercased() {
            case "utf-8", "utf8": self = .utf8
            // Shift_JIS files from Windows systems are in fact CP932 (髙 and 﨑 exist only there).
            case "cp932", "windows-31j", "ms932", "shift_jis", "sjis": self = .cp932
            default: return nil
            }
        }
    }

    /// Decodes `bytes` in `encoding`.
    /// - Throws: ``TextDecodingError`` at the first byte that does not decode.
    public static func decode(_ bytes: some Collection<UInt8>, as encoding: Encoding) throws(TextDecodingError) -> String {
        switch encoding {
        case .utf8: return try decodeUTF8(bytes)
        case .cp932: return try decodeCP932(Array(bytes))
        }
    }

    /// Decodes UTF-8 strictly.
    /// - Throws: ``TextDecodingError`` at the first invalid or truncated sequence.
    public static func decodeUTF8(_ bytes: some Collection<UInt8>) throws(TextDecodingError) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Find where it went wrong, for the message.
        let array = Array(bytes)
        var iterator = array.makeIterator()
        var decoder = Unicode.UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
            case .emptyInput:
                // String(validating:) refused, but the decoder did not: cannot happen; report the end.
                throw TextDecodingError(encoding: "utf-8", offset: offset, bytes: [], truncated: true)
            case .error:
                let bad = Array(array[offset..<min(offset + 2, array.count)])
                let truncated = Self.isTruncatedUTF8(array[offset...])
                throw TextDecodingError(encoding: "utf-8", offset: offset, bytes: bad, truncated: truncated)
            }
        }
    }

    /// Whether `tail` is a valid but incomplete UTF-8 lead sequence that runs to the end.
    private static func isTruncatedUTF8(_ tail: ArraySlice<UInt8>) -> Bool {
        guard let lead = tail.first else { return false }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0
        return length > tail.count && tail.dropFirst().allSatisfy { $0 & 0xC0 == 0x80 }
    }

    // MARK: - CP932 through iconv

    /// Decodes CP932 with glibc iconv.
    /// - Throws: ``TextDecodingError`` at the first byte iconv refuses.
    static func decodeCP932(_ bytes: [UInt8]) throws(TextDecodingError) -> String {
        // Pure ASCII (the common case for numbers and codes) needs no converter.
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        // A converter from the pool (iconv_open per call cost more than the conversion of a short row).
        guard let converter = ConverterPool.cp932.take() else {
            throw TextDecodingError(
                encoding: "cp932", offset: 0, bytes: [], truncated: false,
                problem: "glibc iconv has no CP932 converter on this machine: install the gconv modules (libc6, "
                    + "/usr/lib/x86_64-linux-gnu/gconv/CP932.so); the file stays in the spool")
        }
        defer { ConverterPool.cp932.give(converter) }
        // Each CP932 character (1 or 2 bytes) becomes at most 3 UTF-8 bytes.
        var output = [UInt8](repeating: 0, count: bytes.count * 3 + 4)
        var input = bytes
        let result: (status: Int, errorNumber: Int32, consumed: Int, produced: Int) = input.withUnsafeMutableBufferPointer {
            inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                // iconv(3): on EILSEQ/EINVAL, *inbuf points at the start of the offending sequence.
                let status = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                let errorNumber = status == -1 ? errno : 0
                return (status, errorNumber, inBuffer.count - inLeft, outBuffer.count - outLeft)
            }
        }
        guard result.status != -1 else {
            let offset = result.consumed
            let bad = Array(bytes[offset..<min(offset + 2, bytes.count)])
            throw TextDecodingError(encoding: "cp932", offset: offset, bytes: bad, truncated: result.errorNumber == EINVAL)
        }
        return String(decoding: output[..<result.produced], as: UTF8.self)
    }
}

/// Open CP932 → UTF-8 converters kept for reuse: a converter is held by one caller at a time (taken,
/// used, reset and given back), so decoding on several threads at once takes several. At most
/// ``limit`` idle ones are kept; the rest are closed.
private final class ConverterPool: Sendable {
    /// An open `iconv_t`, held by one caller at a time.
    struct Converter: @unchecked Sendable {
        let handle: iconv_t
    }

    static let cp932 = ConverterPool(to: "UTF-8", from: "CP932")
    static let limit = 16

    private let to: String
    private let from: String
    private let idle = Mutex<[Converter]>([])

    private init(to: String, from: String) {
        self.to = to
        self.from = from
    }

    /// An idle converter, or a new one; nil when iconv has no such converter.
    func take() -> iconv_t? {
        if let converter = idle.withLock({ $0.popLast() }) { return converter.handle }
        // iconv_open(3): returns (iconv_t)-1 when the converter is missing (gconv CP932.so not installed).
        let handle = iconv_open(to, from)
        return handle == iconv_t(bitPattern: -1) ? nil : handle
    }

    /// Gives a converter back, reset to its initial state (or closes it when enough are idle).
    func give(_ handle: iconv_t) {
        // iconv(3) with a null input resets the conversion state.
        iconv(handle, nil, nil, nil, nil)
        let kept = idle.withLock { idle in
            guard idle.count < Self.limit else { return false }
            idle.append(Converter(handle: handle))
            return true
        }
        if !kept { iconv_close(handle) }
    }
}
