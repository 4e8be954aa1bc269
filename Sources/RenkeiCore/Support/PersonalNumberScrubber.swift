/// Masks what could be a 個人番号 (`my_number`, 12 digits) in text that came from outside Renkei.
///
/// A receiver that refuses a delta often echoes the offending field in its error body; an operator
/// reads that body back through `renkeictl dead-letters`, `/v1/status` and the journal. Every path
/// that stores or shows a receiver's text passes it through ``scrub(_:)`` first.
///
/// A run of exactly 12 digits — ASCII `0`–`9` or full-width `０`–`９`, mixed or not — that is not part
/// of a longer digit run becomes 12 `*`. The same 12 digits written in three groups of four, separated
/// by one space, hyphen, full-width space or full-width hyphen (`1234-5678-9012`), are masked too. A
/// longer run (a 13-digit 法人番号, a 16-digit card number) is left as it is: it is not a 個人番号.
public enum PersonalNumberScrubber {
    /// What replaces each masked digit.
    public static let maskCharacter: Character = "*"

    /// `text` with every 12-digit run masked; `text` itself when it holds none.
    public static func scrub(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var masked = [Bool](repeating: false, count: scalars.count)
        var any = false
        var index = 0
        while index < scalars.count {
            guard isDigit(scalars[index]) else {
                index += 1
                continue
            }
            var end = index
            while end < scalars.count, isDigit(scalars[end]) { end += 1 }
            if end - index == 12 {
                for position in index..<end { masked[position] = true }
                any = true
            } else if end - index == 4, let groupEnd = groupedNumberEnd(scalars, from: index) {
                for position in index..<groupEnd where isDigit(scalars[position]) { masked[position] = true }
                any = true
                end = groupEnd
            }
            index = end
        }
        guard any else { return text }
        var result = String.UnicodeScalarView()
        for (position, scalar) in scalars.enumerated() {
            if masked[position] {
                result.append(contentsOf: String(maskCharacter).unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Whether `text` holds a run ``scrub(_:)`` would mask.
    public static func containsCandidate(_ text: String) -> Bool { scrub(text) != text }

    /// `0`–`9` or `０`–`９`.
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(scalar.value) || (0xFF10...0xFF19).contains(scalar.value)
    }

    /// Separators allowed between the groups of `dddd-dddd-dddd`.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        [0x20, 0x2D, 0x3000, 0xFF0D].contains(scalar.value)
    }

    /// The end of `dddd<sep>dddd<sep>dddd` starting at `start` (which begins a 4-digit run), when the
    /// groups are exactly 4 digits long and no other digit group is joined on either side.
    static func groupedNumberEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        // A group before it would make it some other number (a card or phone number): leave it.
        if start >= 2, isSeparator(scalars[start - 1]), isDigit(scalars[start - 2]) { return nil }
        var position = start + 4
        for _ in 0..<2 {
            guard position < scalars.count, isSeparator(scalars[position]) else { return nil }
            let groupStart = position + 1
            var groupEnd = groupStart
            while groupEnd < scalars.count, isDigit(scalars[groupEnd]) { groupEnd += 1 }
            guard groupEnd - groupStart == 4 else { return nil }
            position = groupEnd
        }
        if position + 1 < scalars.count, isSeparator(scalars[position]), isDigit(scalars[position + 1]) { return nil }
        return position
    }
}
