/// The `format` values Renkei's schemas may use; each is an assertion (an invalid value fails).
///
/// `date` and `date-time` follow RFC 3339 and check the calendar; `my-number` and
/// `municipality-code` are Renkei's own, for the check digits of 個人番号 and 全国地方公共団体コード.
enum SchemaFormat: String, Sendable, CaseIterable {
    case date
    case dateTime = "date-time"
    case myNumber = "my-number"
    case municipalityCode = "municipality-code"

    /// What a valid value looks like, for error messages. Never includes the value itself.
    var expectation: String {
        switch self {
        case .date: return "must be a date YYYY-MM-DD that exists"
        case .dateTime:
            return "must be an RFC 3339 date-time with an offset (Z or ±hh:mm) that exists, "
                + "e.g. 2026-04-01T09:00:00+09:00"
        case .myNumber: return "must be 12 digits with a valid check digit"
        case .municipalityCode: return "must be a 6-digit 全国地方公共団体コード with a valid check digit"
        }
    }

    /// Whether `string` is valid in this format.
    func isValid(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        switch self {
        case .date: return bytes.count == 10 && SchemaFormat.fullDate(bytes[...]) != nil
        case .dateTime: return SchemaFormat.isDateTime(bytes)
        case .myNumber: return SchemaFormat.isMyNumber(bytes)
        case .municipalityCode: return SchemaFormat.isMunicipalityCode(bytes)
        }
    }

    // MARK: - Calendar

    /// Whether `year` is a Gregorian leap year.
    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` of `year`.
    static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Reads `count` ASCII digits at `start`, or nil.
    static func number(_ bytes: ArraySlice<UInt8>, at start: Int, count: Int) -> Int? {
        guard start >= bytes.startIndex, start + count <= bytes.endIndex else { return nil }
        var value = 0
        for byte in bytes[start..<start + count] {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// RFC 3339 `full-date` (`YYYY-MM-DD`) at the start of `bytes`, if it names a real day.
    static func fullDate(_ bytes: ArraySlice<UInt8>) -> (year: Int, month: Int, day: Int)? {
        let s = bytes.startIndex
        guard bytes.count >= 10, bytes[s + 4] == UInt8(ascii: "-"), bytes[s + 7] == UInt8(ascii: "-"),
            let year = number(bytes, at: s, count: 4), let month = number(bytes, at: s + 5, count: 2),
            let day = number(bytes, at: s + 8, count: 2),
            (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year)
        else { return nil }
        return (year, month, day)
    }

    /// RFC 3339 `date-time`: `full-date "T" HH:MM:SS[.frac] (Z / ±HH:MM)`, `T` and `Z` in either case.
    /// A leap second (`:60`) is accepted only where it can occur, at 23:59 UTC.
    static func isDateTime(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 20, fullDate(bytes[...]) != nil, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = number(bytes[...], at: 11, count: 2), let minute = number(bytes[...], at: 14, count: 2),
            let second = number(bytes[...], at: 17, count: 2),
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let digitsStart = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > digitsStart else { return false }
        }
        guard index < bytes.count else { return false }
        var offsetMinutes = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return false }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHour = number(bytes[...], at: index + 1, count: 2),
                let offsetMinute = number(bytes[...], at: index + 4, count: 2),
                offsetHour <= 23, offsetMinute <= 59
            else { return false }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return false
        }
        if second == 60 {
            let utcMinute = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utcMinute == 23 * 60 + 59
        }
        return true
    }

    // MARK: - Check digits

    /// 個人番号: 12 ASCII digits; the last is the check digit over the 11 before it.
    ///
    /// P1…P11 are those 11 digits read right to left, Q_n = n + 1 for n ≤ 6 and n − 5 otherwise,
    /// r = Σ P_n·Q_n mod 11, and the check digit is 0 when r ≤ 1, else 11 − r.
    static func isMyNumber(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 12, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        var sum = 0
        for n in 1...11 {
            let p = Int(bytes[11 - n] - 0x30)
            let q = n <= 6 ? n + 1 : n - 5
            sum += p * q
        }
        let r = sum % 11
        let check = r <= 1 ? 0 : 11 - r
        return Int(bytes[11] - 0x30) == check
    }

    /// 全国地方公共団体コード: 6 ASCII digits; d1…d5 weighted 6, 5, 4, 3, 2, r = sum mod 11, and the
    /// sixth digit is (11 − r) mod 10.
    static func isMunicipalityCode(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 6, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        var sum = 0
        for (i, weight) in [6, 5, 4, 3, 2].enumerated() { sum += Int(bytes[i] - 0x30) * weight }
        return Int(bytes[5] - 0x30) == (11 - sum % 11) % 10
    }
}
