import Foundation
import Testing
@testable import RenkeiStore

@Suite struct DatabaseTests {
    @Test func badSQLNamesTheSQLAndSQLiteMessage() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        #expect {
            try db.execute("SELEC nothing FROM nowhere")
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .sql && error.resultCode == .SQLITE_ERROR
                && error.sql == "SELEC nothing FROM nowhere"
                && (error.sqliteMessage ?? "").contains("syntax error")
                && error.description.contains("SELEC nothing FROM nowhere")
                && error.description.contains("syntax error")
        }
        #expect(throws: StoreError.self) { try db.prepare("SELECT * FROM missing_table") }
    }

    @Test func constraintErrorsKeepBoundValuesOut() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try db.execute("CREATE TABLE people (my_number TEXT PRIMARY KEY)")
        let insert = try db.prepare("INSERT INTO people (my_number) VALUES (?)")
        try insert.run([.text("123456789012")])
        do {
            try insert.run([.text("123456789012")])
            Issue.record("a duplicate primary key was accepted")
        } catch {
            #expect(error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY)
            #expect(error.resultCode ~= .SQLITE_CONSTRAINT)
            #expect(!error.description.contains("123456789012"))
            #expect(error.sql == "INSERT INTO people (my_number) VALUES (?)")
        }
    }

    @Test func valuesRoundTripExactly() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try db.execute("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n); ")
        let names = ["髙橋", "\u{FA11}", "葛\u{E0100}飾", "", "a\u{0}b"]
        for name in names {
            try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").run([.integer(.min), .text(name), .blob([]), .null])
        }
        #expect(db.changes == 1)
        #expect(db.lastInsertRowID == Int64(names.count))
        let rows = try db.prepare("SELECT i, s, b, n FROM t ORDER BY rowid").rows([]) { row in
            (row.int64(0), row.string(1)!, row.blob(2)!, row.isNull(3))
        }
        #expect(rows.map(\.0) == Array(repeating: .min, count: names.count))
        #expect(rows.map { Array($0.1.unicodeScalars) } == names.map { Array($0.unicodeScalars) })
        #expect(rows.allSatisfy { $0.2.isEmpty && $0.3 })
    }

    @Test func transactionRollsBackOnThrowAndRethrows() throws {
        struct Boom: Error {}
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try db.execute("CREATE TABLE t (x INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.prepare("INSERT INTO t VALUES (1)").run([])
                throw Boom()
            }
        }
        #expect(!db.isInsideTransaction)
        let count = try db.transaction { () throws -> Int64 in
            try db.prepare("INSERT INTO t VALUES (2)").run([])
            return try db.prepare("SELECT count(*) FROM t").rows([]) { $0.int64(0) }[0]
        }
        #expect(count == 1)
    }

    @Test func openFailureIsAStoreError() {
        #expect(throws: StoreError.self) { try Database(path: "/nonexistent-dir/renkei.sqlite") }
        #expect(throws: StoreError.self) { try Database(path: "/nonexistent-dir/renkei.sqlite", readOnly: true) }
    }

    @Test func readWriteConnectionIsWALWithFullSync() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        #expect(try db.prepare("PRAGMA journal_mode").rows([]) { $0.string(0) } == ["wal"])
        #expect(try db.prepare("PRAGMA synchronous").rows([]) { $0.int64(0) } == [2])
        #expect(try db.prepare("PRAGMA foreign_keys").rows([]) { $0.int64(0) } == [1])
        let reader = try Database(path: dir.databasePath, readOnly: true)
        #expect(throws: StoreError.self) { try reader.execute("CREATE TABLE nope (x)") }
    }

    /// A large transaction leaves a large WAL file (SQLite's own checkpoints never shrink it);
    /// `checkpointAndTruncateWAL` copies it into the database and empties it, and a reader holding an
    /// older snapshot makes it report `false` instead of waiting forever.
    @Test func checkpointEmptiesTheWriteAheadLog() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try db.execute("CREATE TABLE t(x BLOB)")
        let walPath = dir.databasePath + "-wal"
        func walSize() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: walPath))?[.size] as? Int) ?? -1
        }
        try db.execute("BEGIN")
        let insert = try db.prepare("INSERT INTO t(x) VALUES (?)")
        for _ in 0..<2000 { try insert.run([.blob([UInt8](repeating: 7, count: 4000))]) }
        try db.execute("COMMIT")
        #expect(walSize() > 4_000_000)

        // A reader inside a read transaction on the old snapshot: the log cannot be emptied yet.
        try db.execute("INSERT INTO t(x) VALUES (x'01')")
        let reader = try Database(path: dir.databasePath, readOnly: true)
        try reader.execute("BEGIN")
        #expect(try reader.prepare("SELECT count(*) FROM t").rows([]) { $0.int64(0) } == [2001])
        try db.execute("INSERT INTO t(x) VALUES (x'02')")
        try db.execute("PRAGMA busy_timeout = 0")
        #expect(try db.checkpointAndTruncateWAL() == false)
        try reader.execute("COMMIT")

        #expect(try db.checkpointAndTruncateWAL() == true)
        #expect(walSize() == 0)
        #expect(try db.prepare("SELECT count(*) FROM t").rows([]) { $0.int64(0) } == [2002])
    }
}
