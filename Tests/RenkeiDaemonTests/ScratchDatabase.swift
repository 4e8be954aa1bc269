import Foundation
@testable import RenkeiDaemon
import RenkeiStore

/// Runs `body` on a fresh database in a scratch folder with the state schema made
/// (`StateSchema.migrate`), and removes the folder afterwards.
func withDeliveryDatabase(_ body: (Database) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-delivery-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let db = try Database(path: directory.appendingPathComponent("renkei.db").path)
    try StateSchema.migrate(db)
    try body(db)
}
