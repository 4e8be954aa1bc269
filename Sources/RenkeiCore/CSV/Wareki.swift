/// 和暦 (Japanese era) dates converted to ISO `YYYY-MM-DD`, with exact era boundaries.
///
/// Accepted forms: `令和6年4月1日`, `令和元年5月1日`, `平成２年１月１５日` (full-width digits), the
/// one-kanji abbreviations `令6年4月1日`, and the letter forms `R6.4.1`, `H02.01.15`, `S64/1/7`,
/// `R元.5.1` (separators `.`, `/`, `-`; letters in either case). Each era covers the Gregorian days
/// from its first day to its last, both included; the change days of 明治→大正 (1912-07-30) and
/// 大正→昭和 (1926-12-25) belong to both eras, as the day was officially split. 明治 dates before
/// 明治6年 (1873) are refused: Japan used the lunisolar calendar until then.
public enum Wareki {
    /// One era: its names and Gregorian first and last days.
    struct Era: Sendable {
        var name: String
        var abbreviation: Character
        var letter: Character
        var first: (year: Int, month: Int, day: Int)
        var last: (year: Int, month: Int, day: Int)?
    }

    static let eras: [Era] = [
        Era(name: "明治", abbreviation: "明", letter: "M", first: (1868, 1, 1), last: (1912, 7, 30)),
        Era(name: "大正", abbreviation: "大", letter: "T", first: (1912, 7, 30), last: (1926, 12, 25)),
        Era(name: "昭和", abbreviation: "昭", letter: "S", first: (1926, 12, 25), last: (1989, 1, 7)),
        Era(name: "平成", abbreviation: "平", letter: "H", first: (1989, 1, 8), last: (2019, 4, 30)),
        Era(name: "令和", abbreviation: "令", letter: "R", first: (2019, 5, 1), last: nil),
    ]

    /// Why a 和暦 date was refused. The message names the era and its bounds but never the whole
    /// value (it may be a birth date).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong and what is expected.
        public var description: String
    }

    /// Whether `text` is written as a 和暦 date (starts with an era name or letter followed by a year).
    /// - Parameter text: the cell, trimmed.
    public static func looksLikeWareki(_ text: String) -> Bool {
        guard let first = text.first else { return false }
        if eras.contains(where: { text.hasPrefix($0.name) || $0.abbreviation == first }) { return true }
        let upper = Character(first.uppercased())
        guard eras.contains(where: { $0.letter == upper }), let second = text.dropFirst().first else { return false }
        return second.isNumber || second == "元"
    }

    /// Converts a 和暦 date to `YYYY-MM-DD`.
    /// - Parameter text: e.g. `令和6年4月1日` or `H02.01.15`.
    /// - Returns: the ISO date, or why it was refused (not a 和暦 form, a day that does not exist,
    ///   a date outside its era).
    public static func isoDate(_ text: String) -> Result<String, Failure> {
        let trimmed = String(text.unicodeScalars.map(halfWidth)).csvTrimmed
        guard let (era, rest) = splitEra(trimmed) else {
            return .failure(Failure(description: "is not a 和暦 date: write 令和6年4月1日, R6.4.1 or YYYY-MM-DD"))
        }
        guard let parts = numbers(rest), parts.count == 3 else {
            return .failure(Failure(description: "is not a 和暦 date: after the era write year, month and day "
                + "(\(era.name)6年4月1日 or \(era.letter)6.4.1)"))
        }
        let (eraYear, month, day) = (parts[0], parts[1], parts[2])
        guard eraYear >= 1, eraYear <= 99 else {
            return .failure(Failure(description: "has a \(era.name) year that does not exist (1 or 元 and up)"))
        }
        let year = era.first.year + eraYear - 1
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
            return .failure(Failure(description: "names a day that does not exist (\(era.name)\(eraYear)年 is \(year))"))
        }
        let date = (year, month, day)
        if era.letter == "M", year < 1873 {
            return .failure(Failure(description: "is a 明治 date before 明治6年 (1873), when Japan used the lunisolar "
                + "calendar: give the Gregorian date as YYYY-MM-DD"))
        }
        if less(date, era.first) {
            return .failure(Failure(description: "is before the first day of \(era.name) (\(iso(era.first))): "
                + "use the era in force on that day"))
        }
        if let last = era.last, less(last, date) {
            return .failure(Failure(description: "is after the last day of \(era.name) (\(iso(last))): "
                + "use the era in force on that day"))
        }
        return .success(iso(date))
    }

    // MARK: - Parsing

    private static func splitEra(_ text: String) -> (Era, Substring)? {
        for era in eras {
            if text.hasPrefix(era.name) { return (era, text.dropFirst(era.name.count)) }
        }
        guard let first = text.first else { return nil }
        for era in eras where era.abbreviation == first || era.letter == Character(first.uppercased()) {
            return (era, text.dropFirst())
        }
        return nil
    }

    /// `6年4月1日`, `02.01.15`, `元/5/1` → the three numbers; nil when the shape is wrong.
    private static func numbers(_ rest: Substring) -> [Int]? {
        var values: [Int] = []
        var current: Int?
        var digits = 0
        var separators: [Character] = []
        for character in rest {
            if character == "元", current == nil, values.isEmpty {
                current = 1
                digits = 1
            } else if let digit = character.wholeNumberValue, character.isASCII {
                digits += 1
                guard digits <= 4 else { return nil }
                current = (current ?? 0) * 10 + digit
            } else if "年月日./-".contains(character) {
                guard let value = current else { return nil }
                values.append(value)
                separators.append(character)
                current = nil
                digits = 0
            } else {
                return nil
            }
        }
        if let current { values.append(current); separators.append("日") }
        // Either 年…月…日 (日 optional) or one repeated ASCII separator.
        if separators.first == "年" {
            guard separators.count == 3, separators[1] == "月", separators[2] == "日" else { return nil }
        } else if separators.count == 3 {
            guard separators[0] == separators[1], ".-/".contains(separators[0]), separators[2] == "日" else { return nil }
        }
        return values
    }

    private static func halfWidth(_ scalar: Unicode.Scalar) -> Character {
        // Full-width digits and the full-width separators ．／－ (U+FF0E, U+FF0F, U+FF0D).
        switch scalar.value {
        case 0xFF10...0xFF19, 0xFF0D...0xFF0F: return Character(Unicode.Scalar(scalar.value - 0xFEE0)!)
        case 0xFF21...0xFF3A, 0xFF41...0xFF5A: return Character(Unicode.Scalar(scalar.value - 0xFEE0)!)
        default: return Character(scalar)
        }
    }

    // MARK: - Gregorian arithmetic

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func less(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Bool {
        (a.0, a.1, a.2) < (b.0, b.1, b.2)
    }

    private static func iso(_ date: (year: Int, month: Int, day: Int)) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))"
    }
}

extension String {
    /// The string without leading and trailing ASCII and ideographic spaces.
    fileprivate var csvTrimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\u{3000}" || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
