import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `POST /v1/backup` {`path`?}: an online backup of the database (SQLite's backup API) while the
    /// daemon keeps ingesting and delivering. Without `path`, the file goes to
    /// `<state_dir>/backups/renkei-<UTC time>.db`. Never overwrites: `409` if the file exists.
    /// Answers {`path`, `bytes`, `pages`, `head_lsn`} (`head_lsn`: the last event the backup holds).
    func backup(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        guard request.method == "POST", rest.isEmpty else { return nil }
        var path: String?
        if !request.body.isEmpty {
            guard let body = try? JSONParser.parse(request.body).objectValue else {
                return .error(400, "body must be {\"path\": \"/absolute/file.db\"} or empty")
            }
            switch body["path"] {
            case nil: break
            case .string(let text)?: path = text
            case _?: return .error(400, "path: must be a string, the absolute path of a new file (or left out)")
            }
        }
        let folder = service.configuration.stateDirectory + "/backups"
        if path == nil {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let stamp = Timestamp.rfc3339(Date()).replacingOccurrences(of: ":", with: "")
            path = "\(folder)/renkei-\(stamp).db"
        }
        guard let destination = path, destination.hasPrefix("/") else {
            return .error(400, "path must be absolute (renkeictl backup resolves a relative name for you)")
        }
        let source = service.databasePath
        let started = ContinuousClock.now
        let outcome: Result<(DatabaseBackup.Report, Int64), StoreError> = await Self.onOwnThread {
            Result { () throws(StoreError) in
                let report = try DatabaseBackup.copy(from: source, to: destination)
                let head = try EventLog.head(in: Database(path: report.path, readOnly: true)).lsn
                return (report, head)
            }
        }
        switch outcome {
        case .success(let (report, head)):
            service.logger.notice("backup: \(report.path), \(report.bytes) bytes, up to lsn \(head), in \(ContinuousClock.now - started)")
            return .json(200, [
                "path": .string(report.path), "bytes": .integer(report.bytes), "pages": .integer(Int64(report.pages)),
                "head_lsn": .integer(head),
            ])
        case .failure(let error) where error.code == .invalidArgument:
            return .error(FileManager.default.fileExists(atPath: destination) ? 409 : 400, error.message)
        case .failure(let error):
            service.logger.error("backup to \(destination) failed: \(error)")
            return .error(500, "backup failed: \(error)")
        }
    }

    /// Runs blocking SQLite work on a fresh thread so the cooperative pool stays free.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = "renkei-backup"
            thread.start()
        }
    }
}
