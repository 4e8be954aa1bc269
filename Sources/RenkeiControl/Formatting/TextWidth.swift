/// Terminal column widths per Unicode East Asian Width (UAX #11), so tables with Japanese names line up.
///
/// Wide (W) and Fullwidth (F) characters take two columns; combining marks, variation selectors
/// (including the IVS selectors Renkei keeps in names) and zero-width characters take none;
/// everything else, halfwidth katakana included, takes one.
public enum TextWidth {
    /// The number of terminal columns `text` occupies.
    public static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + columns($1) }
    }

    /// The columns of one scalar: 0, 1 or 2.
    public static func columns(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        for range in zeroWidth where range.contains(v) { return 0 }
        for range in wide where range.contains(v) { return 2 }
        return 1
    }

    /// `text` padded with spaces on the right to `width` columns (never truncated).
    public static func padded(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - columns(text)))
    }

    /// `text` padded with spaces on the left to `width` columns, for numbers.
    public static func leftPadded(_ text: String, to width: Int) -> String {
        String(repeating: " ", count: max(0, width - columns(text))) + text
    }

    private static let zeroWidth: [ClosedRange<UInt32>] = [
        0x0300...0x036F,  // combining diacritics
        0x200B...0x200F,  // zero-width space, joiners, marks
        0x2028...0x202E, 0x2060...0x2064,
        0x3099...0x309A,  // combining (semi-)voiced sound marks
        0xFE00...0xFE0F,  // variation selectors
        0xFEFF...0xFEFF,
        0xE0100...0xE01EF,  // ideographic variation selectors (IVS)
    ]

    private static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F,  // Hangul Jamo initials
        0x2E80...0x303E,  // CJK radicals, Kangxi, ideographic punctuation 、。「」
        0x3041...0x33FF,  // hiragana, katakana, bopomofo, CJK compatibility (㈱ ㍻)
        0x3400...0x4DBF,  // CJK extension A
        0x4E00...0x9FFF,  // CJK unified ideographs
        0xA000...0xA4CF,  // Yi
        0xAC00...0xD7A3,  // Hangul syllables
        0xF900...0xFAFF,  // CJK compatibility ideographs (﨑)
        0xFE30...0xFE4F,  // CJK compatibility forms
        0xFF00...0xFF60,  // fullwidth forms (Ａ １ －)
        0xFFE0...0xFFE6,  // fullwidth signs (￠ ￡ ￥)
        0x1F300...0x1F64F, 0x1F900...0x1F9FF,  // emoji
        0x20000...0x2FFFD, 0x30000...0x3FFFD,  // CJK extensions B–H (𠮷)
    ]
}
