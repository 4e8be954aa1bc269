import Foundation
import RenkeiCore

/// Small conveniences for reading the daemon's JSON replies in assertions.
extension JSONValue {
    /// Parses bytes, or `nil` when they are not JSON.
    static func parse(bytes: [UInt8]) -> JSONValue? { try? JSONParser.parse(bytes) }

    /// Follows a path of object keys: `value.at("tax", "taxable")`.
    func at(_ keys: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in keys { current = current?[key] }
        return current
    }

    /// The array elements' strings (non-strings dropped).
    var stringArray: [String]? { arrayValue?.compactMap(\.stringValue) }
}

extension String {
    /// The text as bytes, for request bodies.
    var bytes: [UInt8] { Array(utf8) }
}

/// The lines of a JSONL text, without empty lines.
func jsonLines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

/// Builds one event envelope line (compact JSON) for spool files and replays.
func envelopeLine(
    source: String, eventID: String, type: String, subject: String,
    occurredAt: String = "2026-04-01T09:00:00+09:00", data: JSONObject
) -> String {
    let envelope: JSONValue = [
        "source": .string(source), "event_id": .string(eventID), "type": .string(type),
        "occurred_at": .string(occurredAt), "subject": .string(subject), "data": .object(data),
    ]
    return envelope.serializedString
}

/// A valid `resident.registered` line for subject `subject`.
func residentRegistered(
    eventID: String, subject: String, name: String = "試験 太郎", nameKana: String = "シケン タロウ",
    birthDate: String = "1980-01-01", address: String = "東京都千代田区九段南1丁目2番1号",
    household: String = "H900001", relationship: String = "世帯主"
) -> String {
    envelopeLine(
        source: "resident", eventID: eventID, type: "resident.registered", subject: subject,
        data: [
            "reason": "move_in", "name": .string(name), "name_kana": .string(nameKana),
            "birth_date": .string(birthDate), "sex": "unknown", "address": .string(address),
            "postal_code": "102-0074", "household_no": .string(household),
            "relationship": .string(relationship),
        ])
}

/// A valid `library.patron_registered` line for patron `subject`.
func libraryPatronRegistered(eventID: String, subject: String, name: String, birthDate: String = "1990-02-03")
    -> String
{
    envelopeLine(
        source: "library", eventID: eventID, type: "library.patron_registered", subject: subject,
        data: [
            "name": .string(name), "name_kana": "トショ ハナコ", "birth_date": .string(birthDate),
            "address": "東京都新宿区西新宿2-8-1",
        ])
}
