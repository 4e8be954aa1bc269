import Foundation
import Glibc
import Testing
@testable import RenkeiStore

/// Issue 13: a backup holds every 個人番号, so it is created mode 0600 whatever the process's umask
/// (the daemon sets 0077 too; this is the backup's own guarantee, checked under the test's umask).
@Suite struct DatabaseBackupModeTests {
    @Test func backupIsOwnerOnly() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try db.execute("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('123456789012')")
        // The test runner's umask lets SQLite create files readable by group and others (0644 by default).
        let previous = umask(0o022)
        defer { umask(previous) }
        let target = dir.path + "/copy.db"
        let report = try DatabaseBackup.copy(from: dir.databasePath, to: target)
        var info = stat()
        #expect(stat(report.path, &info) == 0)
        #expect(UInt32(info.st_mode) & 0o777 == 0o600, "backup mode \(String(UInt32(info.st_mode) & 0o777, radix: 8))")
    }
}
