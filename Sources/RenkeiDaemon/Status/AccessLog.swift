import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem

/// The append-only access log of the status socket (contract §6): who (peer uid from
/// `SO_PEERCRED`) asked what, when, and what was answered — as 統合宛名 systems keep who looked up whom.
///
/// Each entry also stores what was decided about it (`action`: `reveal_protected`, `change`, or none)
/// and the person uid a read resolved to (`uid`), and is hash-chained like the event log (issue 13):
/// `hash(n) = SHA-256(hash(n−1) ‖ canonical bytes of entry n)` (``AccessLogEntry/canonicalBytes``),
/// the first chained entry on 32 zero bytes. Entries written before the chain existed (a database
/// from an earlier version) have no hash: the chain starts at the first entry that has one, and
/// ``verify(in:)`` counts the earlier ones as `unchained`; once it has started, an entry without a
/// hash is a break.
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
        // Issue 13: columns added to a table an earlier version created (ALTER TABLE is not an UPDATE,
        // so the triggers do not object; the old rows get NULL).
        let columns = Set(try db.prepare("PRAGMA table_info(access_log)").rows([]) { $0.string(1) ?? "" })
        for (name, type) in [("action", "TEXT"), ("uid", "TEXT"), ("hash", "BLOB")] where !columns.contains(name) {
            try db.execute("ALTER TABLE access_log ADD COLUMN \(name) \(type)")
        }
    }

    /// `hash(0)`: 32 zero bytes.
    static let genesis = [UInt8](repeating: 0, count: SHA256.byteCount)

    /// Appends `entry`, chained on the newest entry (on ``genesis`` when that one has no hash: the
    /// first entry after an upgrade starts the chain). Run on the writer's connection.
    /// - Returns: the entry's id.
    @discardableResult
    static func append(_ entry: AccessLogEntry, in db: Database) throws -> Int64 {
        let last = try db.prepare("SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1").rows([]) {
            (id: $0.int64(0), hash: $0.blob(1))
        }.first
        let id = (last?.id ?? 0) + 1
        let hash = chain(previous: last?.hash ?? genesis, entry.canonicalBytes(id: id))
        try db.prepare(
            """
            INSERT INTO access_log(id, at, caller_uid, caller_pid, method, target, status, action, uid, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).run([
            .integer(id), .text(entry.at), entry.callerUID.map { .integer(Int64($0)) } ?? .null,
            entry.callerPID.map { .integer(Int64($0)) } ?? .null, .text(entry.method), .text(entry.target),
            .integer(Int64(entry.status)), entry.action.map { .text($0) } ?? .null, entry.uid.map { .text($0) } ?? .null,
            .blob(hash),
        ])
        return id
    }

    static func chain(previous: [UInt8], _ record: [UInt8]) -> [UInt8] {
        var hasher = SHA256.Hasher()
        hasher.update(previous)
        hasher.update(record)
        return hasher.finalize()
    }

    /// What an entry did beyond reading: `reveal_protected` for a read of protected (DV) fields
    /// (`reveal=protected` in the decoded query), `change` for every mutating request; `nil` for plain reads.
    static func operatorAction(method: String, query: [String: String]) -> String? {
        if query["reveal"] == "protected" { return "reveal_protected" }
        return method == "GET" ? nil : "change"
    }

    /// The action of an entry written before `action` was stored.
    static func legacyAction(_ entry: AccessLogEntry) -> String? {
        operatorAction(method: entry.method, query: HTTPRequest(method: entry.method, target: entry.target).query)
    }

    static let selectColumns = "SELECT id, at, caller_uid, caller_pid, method, target, status, action, uid, hash FROM access_log"

    static func entry(from row: Statement) -> AccessLogEntry {
        AccessLogEntry(
            at: row.string(1) ?? "", callerUID: row.isNull(2) ? nil : UInt32(truncatingIfNeeded: row.int64(2)),
            callerPID: row.isNull(3) ? nil : Int32(truncatingIfNeeded: row.int64(3)), method: row.string(4) ?? "",
            target: row.string(5) ?? "", status: Int(row.int64(6)), action: row.string(7), uid: row.string(8))
    }

    /// The newest `limit` entries, newest first, as `GET /v1/access-log` lists them.
    static func entries(in db: Database, limit: Int) throws -> [JSONValue] {
        try db.prepare(selectColumns + " ORDER BY id DESC LIMIT ?").rows([.integer(Int64(limit))]) { row in
            let entry = entry(from: row)
            return .object([
                "id": .integer(row.int64(0)), "time": .string(entry.at),
                "caller_uid": entry.callerUID.map { .integer(Int64($0)) } ?? .null,
                "caller_pid": entry.callerPID.map { .integer(Int64($0)) } ?? .null,
                "method": .string(entry.method), "target": .string(entry.target), "status": .integer(Int64(entry.status)),
                // What was decided when the entry was written; an entry from before issue 13 (no hash,
                // no `action` stored) is read as the daemon decides now, from its decoded query.
                "operator_action": (row.isNull(9) ? legacyAction(entry) : entry.action).map { .string($0) } ?? .null,
                "uid": entry.uid.map { .string($0) } ?? .null,
            ])
        }
    }

    /// The result of ``verify(in:)``.
    struct VerifyReport: Sendable {
        var ok: Bool
        /// Chained entries found good.
        var checked: Int64
        /// Entries from before the chain began (no hash), not checked.
        var unchained: Int64
        var firstBadID: Int64?
        var error: String?

        /// The `access_log` member of `GET /v1/verify`.
        var json: JSONValue {
            var object: JSONObject = ["ok": .bool(ok), "checked": .integer(checked), "unchained": .integer(unchained)]
            if let firstBadID { object["first_bad_id"] = .integer(firstBadID) }
            if let error { object["error"] = .string(error) }
            return .object(object)
        }
    }

    /// Walks the access log in id order and recomputes every chained entry's hash; stops at the first
    /// bad one (a changed, removed or inserted entry, or an entry without a hash after the chain began).
    static func verify(in db: Database) throws -> VerifyReport {
        let statement = try db.prepare(selectColumns + " ORDER BY id")
        defer { statement.reset() }
        try statement.bind([])
        var previous: [UInt8]? = nil
        var previousID: Int64 = 0
        var report = VerifyReport(ok: true, checked: 0, unchained: 0)
        while try statement.step() {
            let id = statement.int64(0)
            func bad(_ why: String) -> VerifyReport {
                VerifyReport(ok: false, checked: report.checked, unchained: report.unchained, firstBadID: id, error: why)
            }
            guard let stored = statement.blob(9) else {
                if previous != nil { return bad("entry \(id) has no hash, but the chain began before it") }
                report.unchained += 1
                previousID = id
                continue
            }
            if previous != nil, id != previousID + 1 { return bad("id gap after \(previousID): the next entry is \(id)") }
            let hash = chain(previous: previous ?? genesis, entry(from: statement).canonicalBytes(id: id))
            guard stored == hash else { return bad("hash mismatch (the entry or one before it was changed)") }
            previous = hash
            previousID = id
            report.checked += 1
        }
        return report
    }
}

/// One access-log entry as written: who asked (`SO_PEERCRED`), what, the answer's status, what was
/// decided about it (`action`) and the person uid it resolved to.
struct AccessLogEntry: Sendable, Hashable {
    var at: String
    var callerUID: UInt32?
    var callerPID: Int32?
    var method: String
    var target: String
    var status: Int
    /// `reveal_protected`, `change`, or `nil` for a plain read.
    var action: String?
    /// The person uid a read named or resolved to (`/v1/persons/{uid}`, `?source=&subject=`, history).
    var uid: String?

    /// The bytes the chain hashes: the canonical JSON (keys sorted, compact) of every stored field and
    /// `id`, nulls included, so each field is covered and no two entries serialise alike.
    func canonicalBytes(id: Int64) -> [UInt8] {
        let object: JSONObject = [
            "id": .integer(id), "at": .string(at), "caller_uid": callerUID.map { .integer(Int64($0)) } ?? .null,
            "caller_pid": callerPID.map { .integer(Int64($0)) } ?? .null, "method": .string(method),
            "target": .string(target), "status": .integer(Int64(status)), "action": action.map { .string($0) } ?? .null,
            "uid": uid.map { .string($0) } ?? .null,
        ]
        return JSONValue.object(object).canonicalBytes
    }
}
