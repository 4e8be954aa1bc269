import RenkeiCore
import RenkeiStore
import Testing

/// The console's accounts table and the access log's staff and note (migration 5, issue 18).
@Suite struct ConsoleAccountsTests {
    @Test func accountsAreWrittenReadAndUpdated() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrate(db)
        #expect(try ConsoleAccounts.account("tanaka", in: db) == nil)
        var account = ConsoleAccounts.Account(
            name: "tanaka", role: "viewer", passwordHash: "scrypt$x", mustChange: true, createdAt: "2026-12-01T00:00:00Z",
            updatedAt: "2026-12-01T00:00:00Z")
        try ConsoleAccounts.put(account, in: db)
        #expect(try ConsoleAccounts.account("tanaka", in: db) == account)
        account.failures = 3
        account.lockedUntil = 1_800_000_000
        account.generation = 2
        account.role = "admin"
        try ConsoleAccounts.put(account, in: db)
        #expect(try ConsoleAccounts.account("tanaka", in: db) == account)
        #expect(try ConsoleAccounts.all(in: db).map(\.name) == ["tanaka"])
    }

    /// Entries with staff and note are chained and verified; an entry without them hashes exactly as
    /// before migration 5 (the members are left out, not null), so older chains stay valid.
    @Test func staffAndNoteAreChainedAndOldEntriesHashAsBefore() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrate(db)
        let plain = AccessLogEntry(at: "2026-12-01T00:00:00Z", callerUID: 1000, callerPID: 42, method: "GET", target: "/v1/status", status: 200)
        #expect(String(decoding: plain.canonicalBytes(id: 1), as: UTF8.self).contains("staff") == false)
        try AccessLog.append(plain, in: db)
        let console = AccessLogEntry(
            at: "2026-12-01T00:00:01Z", callerUID: nil, callerPID: nil, method: "POST", target: "/persons/U0000000001?reveal=protected",
            status: 200, action: "reveal_protected", uid: "U0000000001", staff: "suzuki", note: "本人確認のため")
        try AccessLog.append(console, in: db)
        let newest = try AccessLog.newest(1, in: db)
        #expect(newest.first?.entry == console)
        #expect(try AccessLog.verify(in: db).ok)
        #expect(try AccessLog.verify(in: db).checked == 2)
        // The review decisions the console lists are found by target.
        try AccessLog.append(
            AccessLogEntry(at: "2026-12-01T00:00:02Z", callerUID: nil, callerPID: nil, method: "POST",
                           target: "/reviews/RV0000000001/link", status: 200, action: "change", staff: "suzuki"),
            in: db)
        #expect(try ConsoleAccounts.decisions(onReview: "RV0000000001", in: db).map(\.staff) == ["suzuki"])
        #expect(try ConsoleAccounts.decisions(onReview: "RV0000000002", in: db).isEmpty)
    }
}
