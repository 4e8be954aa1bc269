import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `POST /v1/backup` {`path`?}: an online backup of the database (SQLite's backup API) while the
    /// daemon keeps ingesting and delivering. Backups are written to `backup_dir` only (default
    /// `<state_dir>/backups`, created mode 0700; each file mode 0600): `path` is a file name in it, or
    /// an absolute path whose folder is it; anything else is `400`, so no caller can have every
    /// 個人番号 written wherever the daemon may write. Without `path`: `renkei-<UTC time>.db`.
    /// Never overwrites: `409` if the file exists.
    /// Answers {`path`, `bytes`, `pages`, `head_lsn`} (`head_lsn`: the last event the backup holds).
    func backup(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        guard request.method == "POST", rest.isEmpty else { return nil }
        let folder = service.configuration.backupDirectory
        var requested: String?
        if !request.body.isEmpty {
            guard let body = try? JSONParser.parse(request.body).objectValue else {
                return .error(400, "body must be {\"path\": \"FILE.db\"} or empty")
            }
            switch body["path"] {
            case nil: break
            case .string(let text)?: requested = text
            default: return .error(400, "path: must be a string, a file name in \(folder) (backup_dir), or left out")
            }
        }
        let name: String
        switch Self.backupName(requested, folder: folder, now: service.wallClock.now()) {
        case .success(let chosen): name = chosen
        case .failure(let refusal): return .error(400, refusal.message)
        }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: StateFiles.folderMode])
        } catch {
            return .error(500, "cannot create backup_dir \(folder): \(error); check its owner (the daemon's user)")
        }
        let destination = folder + "/" + name
        let source = service.databasePath
        let started = ContinuousClock.now
        let outcome: Result<(DatabaseBackup.Report, Int64), StoreError> = await service.store.run {
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

    /// The file name a backup gets in `folder`: `requested` when it is a plain file name, or an absolute
    /// path whose folder is `folder` (after resolving symbolic links and `..`); a time-stamped name when `nil`.
    /// - Returns: the name, or the message of a `400`.
    static func backupName(_ requested: String?, folder: String, now: Date = Date()) -> Result<String, BackupPathError> {
        guard let requested else {
            return .success("renkei-\(Timestamp.rfc3339(now).replacingOccurrences(of: ":", with: "")).db")
        }
        let outside = BackupPathError(
            "backups are written only to backup_dir \(folder): give a file name (e.g. before-upgrade.db) or a path "
                + "in that folder, then copy the file where you want it")
        var name = requested
        if requested.contains("/") {
            guard requested.hasPrefix("/") else { return .failure(outside) }
            let url = URL(fileURLWithPath: requested)
            let parent = url.deletingLastPathComponent().resolvingSymlinksInPath().path
            guard parent == URL(fileURLWithPath: folder).resolvingSymlinksInPath().path else { return .failure(outside) }
            name = url.lastPathComponent
        }
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), !name.utf8.contains(0), name.utf8.count <= 200 else {
            return .failure(BackupPathError("\(requested): a backup's file name is 1 to 200 bytes, without '/', not starting with '.'"))
        }
        return .success(name)
    }

    /// Why a backup `path` was refused (the `400` message).
    struct BackupPathError: Error, Equatable {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
