import CSQLite
import Foundation
import Glibc

/// A consistent copy of a live database through SQLite's online backup API
/// (https://www.sqlite.org/backup.html), taken while the writer keeps committing.
///
/// The copy is one `sqlite3_backup_step(-1)`: a single read transaction on a read-only connection, so
/// the file is one snapshot of the log (WAL readers never block the writer) and is never restarted by
/// concurrent commits. It is written to a hidden temporary file beside the destination, checked with
/// `PRAGMA quick_check`, and only then linked to the destination name — `link(2)` fails if that name
/// exists, so a backup never overwrites anything, and a half-written file never carries the name.
/// The file is created mode 0600 whatever the process's umask.
public enum DatabaseBackup {
    /// What a finished backup holds.
    public struct Report: Sendable {
        /// The backup file.
        public var path: String
        /// Its size in bytes.
        public var bytes: Int64
        /// Pages copied.
        public var pages: Int
    }

    /// Copies the database at `sourcePath` to a new file at `destinationPath`.
    /// - Parameters:
    ///   - sourcePath: the live database (opened read-only here).
    ///   - destinationPath: an absolute path whose folder exists; the file must not exist.
    /// - Returns: the backup's path, size and page count.
    /// - Throws: ``StoreError`` with `invalidArgument` when the destination exists or its folder cannot be
    ///   written, `open`/`sql` when SQLite fails; nothing is left at `destinationPath` then.
    public static func copy(from sourcePath: String, to destinationPath: String) throws(StoreError) -> Report {
        let fm = FileManager.default
        if fm.fileExists(atPath: destinationPath) {
            throw StoreError(
                .invalidArgument, "\(destinationPath) already exists: a backup never overwrites a file; choose a new name")
        }
        let folder = (destinationPath as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError(.invalidArgument, "the folder \(folder) does not exist: create it, or give another path")
        }
        guard access(folder, W_OK) == 0 else {
            throw StoreError(
                .invalidArgument,
                "renkeid may not write in \(folder): give a path under its state folder (e.g. /var/lib/renkei/backups/…), "
                    + "then copy the file where you want it")
        }
        let name = (destinationPath as NSString).lastPathComponent
        let temporary = folder + "/.\(name).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
        }
        // The copy holds every 個人番号: create it mode 0600 before SQLite opens it (SQLite would create it
        // 0644 minus the umask; an existing empty file is opened as an empty database, and its -wal/-shm
        // take the main file's mode). O_EXCL: never write through a file or link someone put there.
        let descriptor = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode_t(0o600))
        guard descriptor >= 0 else {
            let code = errno
            throw StoreError(.invalidArgument, "cannot create \(temporary): \(String(cString: strerror(code)))")
        }
        // fchmod(2): exactly 0600 whatever the umask took away from the owner's bits.
        let modeSet = fchmod(descriptor, 0o600) == 0
        let code = errno
        close(descriptor)
        guard modeSet else {
            throw StoreError(.invalidArgument, "cannot set the mode of \(temporary) to 0600: \(String(cString: strerror(code)))")
        }
        var pages = 0
        do {
            let source = try Database(path: sourcePath, readOnly: true)
            let destination = try Database(path: temporary)
            pages = try step(from: source, to: destination, temporary: temporary)
            let check = try destination.prepare("PRAGMA quick_check")
            defer { check.reset() }
            guard try check.step(), check.string(0) == "ok" else {
                throw StoreError(.sql, "the backup copy failed its integrity check (\(check.string(0) ?? "no answer")); take it again")
            }
        }
        // Both connections are closed here: the copy's WAL is checkpointed into the file and removed.
        // link(2) fails with EEXIST rather than replace a file that appeared meanwhile.
        guard link(temporary, destinationPath) == 0 else {
            let code = errno
            throw StoreError(
                .invalidArgument,
                code == EEXIST
                    ? "\(destinationPath) appeared while the backup ran: nothing was overwritten; choose a new name"
                    : "cannot name the backup \(destinationPath): \(String(cString: strerror(code)))")
        }
        let size = (try? fm.attributesOfItem(atPath: destinationPath)[.size] as? NSNumber)?.int64Value ?? 0
        return Report(path: destinationPath, bytes: size, pages: pages)
    }

    private static func step(from source: Database, to destination: Database, temporary: String) throws(StoreError) -> Int {
        // sqlite3_backup_init: copies database "main" of the source into "main" of the destination; a
        // NULL return leaves the error on the destination connection.
        guard let backup = sqlite3_backup_init(destination.handle, "main", source.handle, "main") else {
            let message = String(cString: sqlite3_errmsg(destination.handle))
            throw StoreError(
                .sql, "cannot start the backup into \(temporary)", resultCode: ResultCode(rawValue: sqlite3_errcode(destination.handle)),
                sqliteMessage: message)
        }
        // sqlite3_backup_step(-1): every remaining page in one step, inside one read transaction on the
        // source; SQLITE_DONE when complete. BUSY/LOCKED are retried after a short pause.
        var code: Int32 = SQLITE_OK
        var attempts = 0
        repeat {
            code = sqlite3_backup_step(backup, -1)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED {
                attempts += 1
                usleep(20_000)
            }
        } while (code == SQLITE_BUSY || code == SQLITE_LOCKED) && attempts < 250
        let pages = Int(sqlite3_backup_pagecount(backup))
        // sqlite3_backup_finish releases the backup object and returns the step's error, if any.
        let finished = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finished == SQLITE_OK else {
            let failure = code == SQLITE_DONE ? finished : code
            throw StoreError(
                .sql, "the backup did not complete (the live database stayed untouched); try again",
                resultCode: ResultCode(rawValue: failure), sqliteMessage: String(cString: sqlite3_errstr(failure)))
        }
        return pages
    }
}
