import Foundation
import RenkeiCore

/// A `rejected/….errors.jsonl` file: one JSON object per refused line, entry or event, with its reason.
enum RejectedFile {
    /// Writes `entries` whole and renames the file into place, so a crash never leaves half a file
    /// and a re-read after a crash leaves one complete copy.
    /// - Throws: the file system's error.
    static func write(_ entries: [JSONValue], to path: String) throws {
        var text: [UInt8] = []
        for entry in entries {
            text += entry.serializedBytes
            text.append(0x0A)
        }
        try Data(text).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
