import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 13, least privilege: what renkeid writes gets its mode from the daemon, not from the umask
/// it was started with, and backups go to `backup_dir` only.
@Suite struct StateFileModeTests {
    /// The permission bits of `path` (lstat: a link is not followed), or nil when it is missing.
    static func mode(_ path: String) -> UInt32? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    @Test func filesAreTheDaemonsAloneUnderUmaskZero() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.start(umask: "000")
            let state = daemon.root.appendingPathComponent("state").path
            // Events (database and WAL), a spool file with a bad line (a rejected/ copy), a backup.
            #expect(try await daemon.replay([residentRegistered(eventID: "FM-1", subject: "000400001")]).status == 200)
            try daemon.writeSpoolFile(source: "resident", name: "bad.jsonl", text: "not json\n")
            let done = daemon.spool("resident").appendingPathComponent("done/bad.jsonl").path
            #expect(try await daemon.waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: done) })
            let backup = try await daemon.request("POST", "/v1/backup", body: "{\"path\": \"modes.db\"}".bytes)
            #expect(backup.status == 200, "backup: \(backup.text)")

            let spool = daemon.spool("resident").path
            let created = [
                "\(state)/renkei.db", "\(state)/renkei.db-wal", "\(state)/renkei.db-shm", "\(state)/backups",
                "\(state)/backups/modes.db", "\(spool)/done", "\(spool)/rejected", "\(spool)/rejected/bad.jsonl.errors.jsonl",
            ]
            for path in created {
                let mode = Self.mode(path)
                #expect(mode != nil, "\(path) is missing")
                if let mode {
                    #expect(mode & 0o077 == 0, "\(path) is mode \(String(mode, radix: 8)): group or others may read it")
                }
            }
            #expect(Self.mode("\(state)/renkei.db") == 0o600)
            #expect(Self.mode("\(state)/backups/modes.db") == 0o600)
            #expect(try await daemon.stop() == 0)

            // A database left readable by others (an old install, a careless restore) is narrowed at start.
            #expect(chmod("\(state)/renkei.db", 0o644) == 0)
            try await daemon.start(umask: "000")
            #expect(Self.mode("\(state)/renkei.db") == 0o600)
            #expect(try await daemon.stop() == 0)
        }
    }

    @Test func backupsGoToBackupDirOnly() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            let folder = daemon.root.appendingPathComponent("kept-backups").path
            try await daemon.updateConfig { $0["backup_dir"] = .string(folder) }
            try await daemon.start()
            #expect(try await daemon.replay([residentRegistered(eventID: "BK-1", subject: "000400002")]).status == 200)

            // Anywhere the daemon could write is refused: another folder, a way out by "..", a relative path.
            let outside = daemon.root.appendingPathComponent("x.db").path
            for path in [outside, "/tmp/renkei-\(UUID().uuidString.prefix(8)).db", "\(folder)/../escape.db", "sub/x.db", ".hidden.db"] {
                let reply = try await daemon.request("POST", "/v1/backup", body: JSONValue.object(["path": .string(path)]).serializedBytes)
                #expect(reply.status == 400, "backup to \(path) answered \(reply.status): \(reply.text)")
                #expect(reply.text.contains("backup_dir") || path == ".hidden.db", "\(path): \(reply.text)")
            }
            #expect(Self.mode(outside) == nil && Self.mode(daemon.root.appendingPathComponent("escape.db").path) == nil)
            let notString = try await daemon.request("POST", "/v1/backup", body: "{\"path\": 5}".bytes)
            #expect(notString.status == 400)

            // A file name, or a path in the folder, is taken; without a path a time-stamped name.
            let named = try await daemon.request("POST", "/v1/backup", body: "{\"path\": \"named.db\"}".bytes)
            #expect(named.status == 200 && named.json["path"]?.stringValue == "\(folder)/named.db", "\(named.text)")
            let full = try await daemon.request("POST", "/v1/backup", body: JSONValue.object(["path": .string("\(folder)/full.db")]).serializedBytes)
            #expect(full.status == 200, "\(full.text)")
            let stamped = try await daemon.request("POST", "/v1/backup")
            #expect(stamped.status == 200 && stamped.json["path"]?.stringValue?.hasPrefix("\(folder)/renkei-") == true, "\(stamped.text)")
            #expect(Self.mode(folder) == 0o700)
            #expect(try await daemon.stop() == 0)
        }
    }
}
