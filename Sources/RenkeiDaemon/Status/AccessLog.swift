import RenkeiCore
import RenkeiStore

/// The append-only access log of the status socket (contract §6): who (peer uid from
/// `SO_PEERCRED`) asked what, when, and what was answered — as 統合宛名 systems keep who looked up whom.
enum AccessLog {
    static func createSchema(in db: Database) throws {
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS access_log(
                id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, caller_uid INTEGER, caller_pid INTEGER,
                method TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL);
            CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
                BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
            CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
                BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
            """)
    }

    static func append(
        at: String, callerUID: UInt32?, callerPID: Int32?, method: String, target: String, status: Int, in db: Database
    ) throws {
        try db.prepare("INSERT INTO access_log(at, caller_uid, caller_pid, method, target, status) VALUES (?, ?, ?, ?, ?, ?)").run([
            .text(at), callerUID.map { .integer(Int64($0)) } ?? .null, callerPID.map { .integer(Int64($0)) } ?? .null,
            .text(method), .text(target), .integer(Int64(status)),
        ])
    }

    /// What an entry did beyond reading: `reveal_protected` for a read of protected (DV) fields, `change`
    /// for every mutating request; `nil` for plain reads.
    static func operatorAction(method: String, target: String) -> String? {
        if target.contains("reveal=protected") { return "reveal_protected" }
        return method == "GET" ? nil : "change"
    }

    static func entries(in db: Database, limit: Int) throws -> [JSONValue] {
        try db.prepare("SELECT id, at, caller_uid, caller_pid, method, target, status FROM access_log ORDER BY id DESC LIMIT ?")
            .rows([.integer(Int64(limit))]) { row in
                let target = row.string(5) ?? ""
                return .object([
                    "id": .integer(row.int64(0)), "time": .string(row.string(1) ?? ""),
                    "caller_uid": row.isNull(2) ? .null : .integer(row.int64(2)),
                    "caller_pid": row.isNull(3) ? .null : .integer(row.int64(3)),
                    "method": .string(row.string(4) ?? ""), "target": .string(row.string(5) ?? ""),
                    "status": .integer(row.int64(6)),
                    "operator_action": operatorAction(method: row.string(4) ?? "", target: target).map { .string($0) } ?? .null,
                ])
            }
    }
}
