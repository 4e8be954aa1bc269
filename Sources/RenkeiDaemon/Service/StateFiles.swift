import Foundation
import RenkeiSystem

/// The modes of what renkeid keeps under `state_dir`: the database (every 個人番号 in it) and its WAL
/// and shared-memory files, and the backups, are the daemon user's alone.
///
/// New files get that from the process's umask (`0077`, set in ``RenkeiService/prepareProcess()``)
/// and from explicit modes where renkeid creates them itself (folders, backups). Files left wider
/// by an older version or a restore (`install -m 0640 …`) are narrowed at start-up.
enum StateFiles {
    /// Mode of the database, its `-wal`/`-shm`, and backups.
    static let fileMode: Int16 = 0o600
    /// Mode of folders renkeid creates under `state_dir` (and `backup_dir`).
    static let folderMode: Int16 = 0o700

    /// Narrows the database's, WAL's and shared-memory file's mode to ``fileMode`` where it is wider.
    static func restrictModes(databasePath: String, logger: Logger) {
        let fm = FileManager.default
        for path in [databasePath, databasePath + "-wal", databasePath + "-shm"] {
            guard let attributes = try? fm.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let mode = (attributes[.posixPermissions] as? NSNumber)?.int16Value, mode & 0o077 != 0
            else { continue }
            do {
                try fm.setAttributes([.posixPermissions: fileMode], ofItemAtPath: path)
                logger.notice("\(path) was mode \(String(mode, radix: 8)); narrowed to 0600 (the daemon's alone)")
            } catch {
                logger.warning("\(path) is mode \(String(mode, radix: 8)) and could not be narrowed to 0600: \(error)")
            }
        }
    }
}
