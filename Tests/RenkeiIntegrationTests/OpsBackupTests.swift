import Foundation
import RenkeiCore
import Testing

/// Issue 6 acceptance: a backup taken under load restores to a daemon whose verify passes and
/// whose views equal the original's.
@Suite(.serialized) struct OpsBackupTests {
    /// Batch `b` of the load: 50 residents (each in its own household) and a move for a resident of the batch before.
    static func batch(_ b: Int) -> [UInt8] {
        var lines: [String] = []
        for i in 0..<25 {
            let n = b * 25 + i
            lines.append(
                residentRegistered(
                    eventID: "bk-\(n)", subject: "R\(100_000 + n)", name: "試験 \(n)号", birthDate: "1980-01-\(10 + i % 18)",
                    household: "H\(500_000 + n)"))
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test func backupUnderLoadRestoresToEqualViews() async throws {
        // With a delivery lane retrying against a closed port, as in the ops tests' systemd setup:
        // its outbox writes are load on the log while the backup copies it.
        let subscriptions = DaemonHarness.unreachableSubscription
        try await withDaemon(sources: ["resident"], subscriptions: subscriptions) { original in
            try await withDaemon(sources: ["resident"], subscriptions: subscriptions) { restored in
                try await Self.backUpAndRestore(original, into: restored)
            }
        }
    }

    static func backUpAndRestore(_ original: DaemonHarness, into restored: DaemonHarness) async throws {
        try await original.start()
        let clock = ContinuousClock.now
        let batches = 16
        for b in 0..<5 { #expect(try await original.request("POST", "/v1/replay", body: Self.batch(b)).status == 200) }
        let headBeforeLoad = try await original.status()["head_lsn"]?.integerValue ?? 0

        // Load: the remaining batches, one after another, while the backup runs.
        let load = Task {
            for b in 5..<batches {
                let reply = try await original.request("POST", "/v1/replay", body: Self.batch(b))
                guard reply.status == 200 else { throw HarnessError("replay of batch \(b) answered \(reply.status)") }
            }
        }
        // The backup starts once the load has appended a batch: it copies a log that is growing.
        let loading = try await original.waitUntil(timeout: .seconds(60), interval: .milliseconds(10)) {
            try await original.status()["head_lsn"]?.integerValue ?? 0 > headBeforeLoad
        }
        #expect(loading, "the load appended nothing in 60 s")
        // A file name: backups go to backup_dir only (default <state_dir>/backups).
        let path = original.root.appendingPathComponent("state/backups/backup.db").path
        let backup = try await original.request("POST", "/v1/backup", body: Array("{\"path\": \"backup.db\"}".utf8))
        #expect(backup.status == 200, "backup answered \(backup.status): \(backup.text)")
        try await load.value
        print("ops backup: load done after \(ContinuousClock.now - clock)")
        let backedUpLSN = backup.json["head_lsn"]?.integerValue ?? 0
        #expect(backedUpLSN > 125, "the backup should hold at least the first five batches")

        // Never overwrites.
        let again = try await original.request("POST", "/v1/backup", body: Array("{\"path\": \"\(path)\"}".utf8))
        #expect(again.status == 409, "a second backup to the same path answered \(again.status)")

        // Restore (runbook: stop, put the file in state_dir as renkei.db, start) and verify.
        try FileManager.default.copyItem(atPath: path, toPath: restored.root.appendingPathComponent("state/renkei.db").path)
        // The backup's data key is wrapped under the original's at-rest key file: a restore needs that file.
        try FileManager.default.removeItem(atPath: restored.atRestKeyFile)
        try FileManager.default.copyItem(atPath: original.atRestKeyFile, toPath: restored.atRestKeyFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: restored.atRestKeyFile)
        try await restored.start()
        let verify = try await restored.get("/v1/verify")
        #expect(verify.json["ok"] == .bool(true), "verify after restore: \(verify.text)")
        #expect(verify.json["checked"]?.integerValue == backedUpLSN)

        // Feed the restored daemon the same input: what the backup held comes back as duplicates, the rest
        // is appended in the same order, so both logs and views must be identical.
        for b in 0..<batches { #expect(try await restored.request("POST", "/v1/replay", body: Self.batch(b)).status == 200) }
        print("ops backup: restored replay done after \(ContinuousClock.now - clock)")
        let statusA = try await original.status()
        let statusB = try await restored.status()
        #expect(statusA["head_lsn"] == statusB["head_lsn"])
        #expect(try await restored.get("/v1/verify").json["ok"] == .bool(true))
        for n in stride(from: 0, to: batches * 25, by: 7) {
            let target = "/v1/persons?source=resident&subject=R\(100_000 + n)"
            let a = try await original.get(target)
            let b = try await restored.get(target)
            #expect(a.status == 200 && a.json == b.json, "person R\(100_000 + n) differs after restore")
        }
        // Both stop at once, as two services would.
        async let exitA = original.stop()
        async let exitB = restored.stop()
        let (codeA, codeB) = try await (exitA, exitB)
        #expect(codeA == 0, "original exit \(codeA): \(original.stderrText().suffix(2000))")
        #expect(codeB == 0, "restored exit \(codeB): \(restored.stderrText().suffix(2000))")
    }
}
