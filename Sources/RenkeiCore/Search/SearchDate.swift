/// A birth date as staff type it into a search box (issue 18), converted to `YYYY-MM-DD`.
///
/// Accepted: 和暦 in every form ``Wareki`` reads (`S60.6.12`, `昭和60年6月12日`, `昭60年6月12日`,
/// `H2/1/15`, full-width digits), and 西暦 as `1985-06-12`, `1985/6/12`, `1985.6.12`,
/// `1985年6月12日` or `19850612`. Spaces around the text are ignored.
public enum SearchDate {
    /// Why a typed date was refused; the message never repeats the value.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong and what to type instead.
        public var description: String
    }

    /// Converts `text` to `YYYY-MM-DD`.
    /// - Parameter text: what was typed.
    /// - Returns: the ISO date, or why it was refused.
    public static func isoDate(_ text: String) -> Result<String, Failure> {
        let folded = MatchText.string(MatchText.widthFolded(text))
        let trimmed = String(folded.unicodeScalars.filter { $0 != " " })
        guard !trimmed.isEmpty else { return .failure(Failure(description: "is empty: type 1985-06-12 or S60.6.12")) }
        if Wareki.looksLikeWareki(trimmed) {
            return Wareki.isoDate(trimmed).mapError { Failure(description: $0.description) }
        }
        var numbers: [Int] = []
        var current = ""
        var separators: [Character] = []
        for character in trimmed {
            if character.isASCII, character.isNumber {
                current.append(character)
            } else if "-/.年月日".contains(character) {
                guard !current.isEmpty else { return .failure(shape) }
                numbers.append(Int(current) ?? 0)
                separators.append(character)
                current = ""
            } else {
                return .failure(shape)
            }
        }
        if !current.isEmpty { numbers.append(Int(current) ?? 0) }
        if numbers.count == 1, trimmed.count == 8 {
            let value = numbers[0]
            numbers = [value / 10000, value / 100 % 100, value % 100]
        }
        guard numbers.count == 3, (1...3).contains(separators.count) || separators.isEmpty else { return .failure(shape) }
        if separators.first == "年" {
            guard separators.count >= 2, separators[1] == "月", separators.count == 2 || separators[2] == "日" else {
                return .failure(shape)
            }
        } else if separators.count >= 2 {
            guard separators[0] == separators[1], separators.count == 2 else { return .failure(shape) }
        }
        let (year, month, day) = (numbers[0], numbers[1], numbers[2])
        guard (1800...2999).contains(year), (1...12).contains(month), day >= 1, day <= Wareki.daysIn(month: month, year: year)
        else {
            return .failure(Failure(description: "names a day that does not exist"))
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return .success("\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))")
    }

    private static var shape: Failure {
        Failure(description: "is not a date: type 1985-06-12, 1985/6/12, 昭和60年6月12日 or S60.6.12")
    }
}
