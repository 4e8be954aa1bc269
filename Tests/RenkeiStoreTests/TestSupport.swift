import Foundation
import RenkeiCore

/// A fresh directory under the system temporary directory, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "renkei-store-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A database file path inside the directory.
    var databasePath: String { path + "/renkei.sqlite" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A `resident.name_changed` event whose envelope members come in the given order.
func makeEvent(
    source: String = "resident", id: String, subject: String = "100000001", name: String = "髙橋 﨑子",
    reversedKeys: Bool = false
) -> Event {
    var members: [(String, JSONValue)] = [
        ("source", .string(source)), ("event_id", .string(id)), ("type", .string("\(source).name_changed")),
        ("occurred_at", "2026-04-01T09:00:00+09:00"), ("subject", .string(subject)),
        ("data", .object(["name": .string(name), "name_kana": "タカハシ サキコ"])),
    ]
    if reversedKeys { members.reverse() }
    let envelope = JSONObject(members.map { JSONObject.Member(key: $0.0, value: $0.1) })
    return try! Event(envelope: envelope)
}

/// A fixed clock for reproducible `recorded_at` values.
let fixedClock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_775_000_000.123) }
