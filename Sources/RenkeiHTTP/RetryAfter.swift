public import Foundation

/// Reads a `Retry-After` response header (RFC 9110 §10.2.3), which delivery honours (contract §4).
public enum RetryAfter {
    /// How long to wait before retrying, from a `Retry-After` value.
    ///
    /// Accepts delta-seconds (`"120"`) and an HTTP-date: IMF-fixdate (`"Sun, 06 Nov 1994 08:49:37 GMT"`)
    /// and, as RFC 9110 asks of recipients, the obsolete RFC 850 and asctime forms. A date in the
    /// past gives zero.
    /// - Parameters:
    ///   - header: The header value, or `nil` if the response had none.
    ///   - now: The current time, to turn a date into a delay.
    /// - Returns: The delay, never negative; `nil` when the header is absent or unreadable.
    public static func delay(header: String?, now: Date) -> Duration? {
        guard let header else { return nil }
        let text = header.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // An absurdly long number is not a delay anyone meant; treat it as unreadable.
            guard let seconds = Int64(text) else { return nil }
            return .seconds(seconds)
        }
        guard let epochSeconds = HTTPDate.parse(text) else { return nil }
        let delta = Double(epochSeconds) - now.timeIntervalSince1970
        guard delta > 0 else { return .zero }
        return .milliseconds(Int64((delta * 1000).rounded(.up)))
    }
}

/// Parses the three HTTP-date forms of RFC 9110 §5.6.7 into seconds since the Unix epoch (UTC).
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let shortDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    static func parse(_ text: String) -> Int64? {
        if let comma = text.firstIndex(of: ",") {
            let day = text[..<comma].lowercased()
            let rest = text[text.index(after: comma)...].split(separator: " ", omittingEmptySubsequences: false)
            if shortDays.contains(day) {
                // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" → ["", "06", "Nov", "1994", "08:49:37", "GMT"]
                guard rest.count == 6, rest[0].isEmpty, rest[1].count == 2, rest[3].count == 4, rest[5] == "GMT",
                    let dayOfMonth = number(rest[1]), let month = month(rest[2]), let year = number(rest[3])
                else { return nil }
                return make(year: year, month: month, day: dayOfMonth, time: rest[4])
            }
            if longDays.contains(day) {
                // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
                guard rest.count == 4, rest[0].isEmpty, rest[3] == "GMT" else { return nil }
                let date = rest[1].split(separator: "-", omittingEmptySubsequences: false)
                guard date.count == 3, date[0].count == 2, date[2].count == 2,
                    let dayOfMonth = number(date[0]), let month = month(date[1]), let yy = number(date[2])
                else { return nil }
                // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
                let year = yy < 70 ? 2000 + yy : 1900 + yy
                return make(year: year, month: month, day: dayOfMonth, time: rest[2])
            }
            return nil
        }
        // asctime: "Sun Nov  6 08:49:37 1994"
        let parts = text.split(separator: " ")
        guard parts.count == 5, shortDays.contains(parts[0].lowercased()), let month = month(parts[1]),
            parts[2].count <= 2, let dayOfMonth = number(parts[2]), parts[4].count == 4, let year = number(parts[4])
        else { return nil }
        return make(year: year, month: month, day: dayOfMonth, time: parts[3])
    }

    /// A run of ASCII digits as a number; `nil` for anything else (`Int` alone would take "+6").
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    private static func month(_ name: Substring) -> Int? {
        months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    private static func make(year: Int, month: Int, day: Int, time: Substring) -> Int64? {
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = number(clock[0]), let minute = number(clock[1]), let second = number(clock[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (1...31).contains(day), day <= daysIn(month: month, year: year)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
