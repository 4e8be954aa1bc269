/// A source's 外字 table (issue 16, contract §7 `sources.<name>.gaiji`): what each user-defined
/// character of that source's vendor means in Unicode.
///
/// The file is UTF-8 text, one mapping a line, columns separated by a TAB, as vendors ship them:
///
///     # 外字コード<TAB>文字<TAB>種別 (省略可)<TAB>備考 (省略可)
///     U+E000	髙
///     F041	𠮷
///     U+E002	葛󠄀
///     F043	〓	substitute	「木へんに安」該当文字なし
///
/// - column 1, the code: `U+XXXX` (a Private Use code point: U+E000–U+F8FF, or planes 15–16), or
///   four hex digits of the CP932 user-defined area `F040`–`F9FC`, which Microsoft's mapping turns
///   into U+E000–U+E757 (`F040` → U+E000, `F140` → U+E0BC, …);
/// - column 2, the Unicode text: one or more characters, IVS sequences (U+E0100…) kept as written;
///   never a Private Use character itself, a control character or empty;
/// - column 3, optional: `unicode` (the default: the text *is* the character) or `substitute`
///   (there is no such character in Unicode; the text is the stand-in the vendor states, e.g. 〓);
/// - further columns are notes and are ignored. Blank lines and lines starting with `#` are skipped;
///   a UTF-8 BOM at the start is allowed. A code given twice is an error naming both lines.
public struct GaijiTable: Sendable, Hashable {
    /// One mapping of the table.
    public struct Entry: Sendable, Hashable {
        /// The Unicode text the code point stands for.
        public var text: String
        /// Whether the text is a stated substitute rather than the character itself.
        public var isSubstitute: Bool
        /// The 1-based line of the table that gave it.
        public var line: Int
    }

    /// Mappings by Private Use code point.
    public private(set) var entries: [UInt32: Entry] = [:]

    /// An empty table (every Private Use character stays unmapped).
    public init() {}

    /// Reads a table. `file` names the table in errors.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the file and line, and what to write.
    public init(tsv bytes: [UInt8], file: String) throws(RenkeiError) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw RenkeiError(.invalidConfiguration, "\(file): not UTF-8 text (save the 外字 table as UTF-8, one mapping a line)")
        }
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.hasPrefix("#") { continue }
            func fail(_ message: String) -> RenkeiError {
                RenkeiError(.invalidConfiguration, "\(file) line \(number): \(message)")
            }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count >= 2 else {
                throw fail("expected CODE<TAB>TEXT (e.g. \"U+E000\\t髙\" or \"F040\\t𠮷\"), found no TAB")
            }
            let codeText = columns[0].trimmingSpaces
            guard let code = Self.codePoint(codeText) else {
                throw fail("'\(codeText)' is not a 外字 code: write U+E000…U+F8FF (or a plane 15/16 Private Use code point) or a CP932 user-defined code F040…F9FC")
            }
            let mapped = String(columns[1])
            guard !mapped.isEmpty else { throw fail("\(Self.format(code)): the Unicode text (column 2) is empty") }
            if let bad = mapped.unicodeScalars.first(where: { Self.isPrivateUse($0.value) || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
                throw fail("\(Self.format(code)): the text may not hold \(Self.format(bad.value)) (a Private Use or control character); write the Unicode character, or a substitute marked 'substitute'")
            }
            var isSubstitute = false
            if columns.count >= 3 {
                switch columns[2].trimmingSpaces {
                case "", "unicode": break
                case "substitute": isSubstitute = true
                case let other: throw fail("column 3 is '\(other)': write 'unicode' (the default) or 'substitute'")
                }
            }
            if let earlier = entries[code] {
                throw fail("\(Self.format(code)) is already mapped on line \(earlier.line); give each code once")
            }
            entries[code] = Entry(text: mapped, isSubstitute: isSubstitute, line: number)
        }
    }

    /// Whether a code point lies in a Private Use Area (BMP U+E000–U+F8FF, planes 15 and 16).
    @inline(__always)
    public static func isPrivateUse(_ value: UInt32) -> Bool {
        (0xE000...0xF8FF).contains(value) || (0xF0000...0xFFFFD).contains(value) || (0x100000...0x10FFFD).contains(value)
    }

    /// `U+E000`.
    public static func format(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The Private Use code point a CP932 user-defined code (lead byte 0xF0–0xF9, trail byte
    /// 0x40–0x7E or 0x80–0xFC) decodes to with Microsoft's mapping, else `nil`.
    public static func cp932UserDefined(_ code: UInt16) -> UInt32? {
        let lead = UInt32(code >> 8), trail = UInt32(code & 0xFF)
        guard (0xF0...0xF9).contains(lead), (0x40...0xFC).contains(trail), trail != 0x7F else { return nil }
        return 0xE000 + (lead - 0xF0) * 188 + trail - 0x40 - (trail > 0x7F ? 1 : 0)
    }

    /// Column 1 read as a code point.
    static func codePoint(_ text: Substring) -> UInt32? {
        let upper = text.uppercased()
        if upper.hasPrefix("U+") {
            let hex = upper.dropFirst(2)
            guard (4...6).contains(hex.count), let value = UInt32(hex, radix: 16), isPrivateUse(value) else { return nil }
            return value
        }
        guard upper.count == 4, let code = UInt16(upper, radix: 16) else { return nil }
        return cp932UserDefined(code)
    }

    /// What mapping a text did.
    public struct Outcome: Sendable, Hashable {
        /// The text with every mapped Private Use character replaced.
        public var text: String
        /// How many Private Use characters were replaced.
        public var mapped = 0
        /// The Private Use code points left as they were (no entry in the table), in order.
        public var unmapped: [UInt32] = []
    }

    /// Replaces the mapped Private Use characters of `text`; the others stay as they are.
    public func map(_ text: String) -> Outcome {
        guard text.unicodeScalars.contains(where: { Self.isPrivateUse($0.value) }) else { return Outcome(text: text) }
        var outcome = Outcome(text: "")
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard Self.isPrivateUse(scalar.value) else { scalars.append(scalar); continue }
            if let entry = entries[scalar.value] {
                scalars.append(contentsOf: entry.text.unicodeScalars)
                outcome.mapped += 1
            } else {
                scalars.append(scalar)
                outcome.unmapped.append(scalar.value)
            }
        }
        outcome.text = String(scalars)
        return outcome
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
