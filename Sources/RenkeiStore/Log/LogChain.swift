import Foundation
import RenkeiCore
import RenkeiCrypto

/// The hash chain of contract §1: `hash(n) = SHA-256(hash(n−1) ‖ canonicalBytes(record(n)))`.
enum LogChain {
    /// `hash(0)`: 32 zero bytes.
    static let genesis = [UInt8](repeating: 0, count: SHA256.byteCount)

    /// The canonical bytes of the envelope with `"lsn"` and `"recorded_at"` added (replacing members of
    /// those names, should an envelope carry them).
    /// With a `provenance`, a `"provenance"` member too (rows from before issue 13 have none).
    static func recordBytes(envelope: JSONObject, lsn: Int64, recordedAt: String, provenance: JSONValue? = nil) -> [UInt8] {
        CanonicalEnvelope(envelope).record(lsn: lsn, recordedAt: recordedAt, provenance: provenance)
    }

    /// The chain hash of an event given its predecessor's hash.
    static func hash(previous: [UInt8], record: [UInt8]) -> [UInt8] {
        var hasher = SHA256.Hasher()
        hasher.update(previous)
        hasher.update(record)
        return hasher.finalize()
    }

    /// `date` as RFC 3339 UTC with milliseconds (`2026-04-01T09:30:00.123Z`), without DateFormatter
    /// (not cheap, and not needed for a fixed UTC format).
    static func timestamp(_ date: Date) -> String {
        // Nearest millisecond: Date holds a Double, and truncating 0.123 s could give .122.
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let msPerDay: Int64 = 86_400_000
        let days = milliseconds >= 0 ? milliseconds / msPerDay : (milliseconds - msPerDay + 1) / msPerDay
        let msOfDay = milliseconds - days * msPerDay
        // Civil date from days since 1970-01-01 (Howard Hinnant, "chrono-compatible low-level date algorithms").
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let seconds = msOfDay / 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):"
            + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
    }
}
