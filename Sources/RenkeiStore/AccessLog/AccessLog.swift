public import RenkeiCore
import RenkeiCrypto

/// The append-only access log of the status socket (contract §6): who (peer uid from
/// `SO_PEERCRED`) asked what, when, and what was answered — as 統合宛名 systems keep who looked up whom.
///
/// Each entry also stores what was decided about it (`action`: `reveal_protected`, `change`, or none)
/// and the person uid a read resolved to (`uid`), and is hash-chained like the event log (issue 13):
/// `hash(n) = SHA-256(hash(n−1) ‖ canonical bytes of entry n)` (``AccessLogEntry/canonicalBytes(id:)``),
/// the first chained entry on 32 zero bytes. Entries written before the chain existed (a database
/// from an earlier version) have no hash: the chain starts at the first entry that has one, and
/// ``verify(in:)`` counts the earlier ones as `unchained`; once it has started, an entry without a
/// hash is a break. The table and its append-only triggers are ``StateSchema``'s.
public enum AccessLog {
    /// `hash(0)`: 32 zero bytes.
    public static let genesis = [UInt8](repeating: 0, count: SHA256.byteCount)

    /// Appends `entry`, chained on the newest entry (on ``genesis`` when that one has no hash: the
    /// first entry after an upgrade starts the chain). Run on the writer's connection.
    /// - Returns: the entry's id.
    @discardableResult
    public static func append(_ entry: AccessLogEntry, in db: Database) throws -> Int64 {
        let last = try db.prepare("SELECT id, hash FROM access_log ORDER BY id DESC LIMIT 1").rows([]) {
            (id: $0.int64(0), hash: $0.blob(1))
        }.first
        let id = (last?.id ?? 0) + 1
        let hash = chain(previous: last?.hash ?? genesis, entry.canonicalBytes(id: id))
        try db.prepare(
            """
            INSERT INTO access_log(id, at, caller_uid, caller_pid, method, target, status, action, uid, hash, staff, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).run([
            .integer(id), .text(entry.at), entry.callerUID.map { .integer(Int64($0)) } ?? .null,
            entry.callerPID.map { .integer(Int64($0)) } ?? .null, .text(entry.method), .text(entry.target),
            .integer(Int64(entry.status)), entry.action.map { .text($0) } ?? .null, entry.uid.map { .text($0) } ?? .null,
            .blob(hash), entry.staff.map { .text($0) } ?? .null, entry.note.map { .text($0) } ?? .null,
        ])
        return id
    }

    static func chain(previous: [UInt8], _ record: [UInt8]) -> [UInt8] {
        var hasher = SHA256.Hasher()
        hasher.update(previous)
        hasher.update(record)
        return hasher.finalize()
    }

    static let selectColumns = "SELECT id, at, caller_uid, caller_pid, method, target, status, action, uid, hash, staff, note FROM access_log"

    static func entry(from row: Statement) -> AccessLogEntry {
        AccessLogEntry(
            at: row.string(1) ?? "", callerUID: row.isNull(2) ? nil : UInt32(truncatingIfNeeded: row.int64(2)),
            callerPID: row.isNull(3) ? nil : Int32(truncatingIfNeeded: row.int64(3)), method: row.string(4) ?? "",
            target: row.string(5) ?? "", status: Int(row.int64(6)), action: row.string(7), uid: row.string(8),
            staff: row.string(10), note: row.string(11))
    }

    /// One stored entry: its id, the entry, and whether it is chained (has a hash; entries from
    /// before issue 13 have none).
    public struct Record: Sendable {
        /// The entry's id (its place in the chain).
        public var id: Int64
        /// What was stored.
        public var entry: AccessLogEntry
        /// Whether the entry has a hash.
        public var isChained: Bool
    }

    /// The newest `limit` entries, newest first.
    /// - Throws: ``StoreError``.
    public static func newest(_ limit: Int, in db: Database) throws -> [Record] {
        try db.prepare(selectColumns + " ORDER BY id DESC LIMIT ?").rows([.integer(Int64(limit))]) { row in
            Record(id: row.int64(0), entry: entry(from: row), isChained: !row.isNull(9))
        }
    }

    /// The result of ``verify(in:)``.
    public struct VerifyReport: Sendable {
        /// Whether every chained entry is good.
        public var ok: Bool
        /// Chained entries found good.
        public var checked: Int64
        /// Entries from before the chain began (no hash), not checked.
        public var unchained: Int64
        /// The first bad entry, when not ok.
        public var firstBadID: Int64?
        /// What is wrong with it.
        public var error: String?

        /// The `access_log` member of `GET /v1/verify`.
        public var json: JSONValue {
            var object: JSONObject = ["ok": .bool(ok), "checked": .integer(checked), "unchained": .integer(unchained)]
            if let firstBadID { object["first_bad_id"] = .integer(firstBadID) }
            if let error { object["error"] = .string(error) }
            return .object(object)
        }
    }

    /// Walks the access log in id order and recomputes every chained entry's hash; stops at the first
    /// bad one (a changed, removed or inserted entry, or an entry without a hash after the chain began).
    public static func verify(in db: Database) throws -> VerifyReport {
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
public struct AccessLogEntry: Sendable, Hashable {
    /// When (RFC 3339).
    public var at: String
    /// The caller's uid and pid from `SO_PEERCRED`.
    public var callerUID: UInt32?
    /// See ``callerUID``.
    public var callerPID: Int32?
    /// The request's method and target (path and query as sent).
    public var method: String
    /// See ``method``.
    public var target: String
    /// The answer's HTTP status.
    public var status: Int
    /// `reveal_protected`, `change`, or `nil` for a plain read.
    public var action: String?
    /// The person uid a read named or resolved to (`/v1/persons/{uid}`, `?source=&subject=`, history).
    public var uid: String?
    /// The console's staff account that asked (issue 18); `nil` on the status socket.
    public var staff: String?
    /// What the staff member wrote with it: a reveal's reason, a decision's note (issue 18).
    public var note: String?

    /// Creates an entry.
    public init(
        at: String, callerUID: UInt32?, callerPID: Int32?, method: String, target: String, status: Int,
        action: String? = nil, uid: String? = nil, staff: String? = nil, note: String? = nil
    ) {
        self.at = at
        self.callerUID = callerUID
        self.callerPID = callerPID
        self.method = method
        self.target = target
        self.status = status
        self.action = action
        self.uid = uid
        self.staff = staff
        self.note = note
    }

    /// The bytes the chain hashes: the canonical JSON (keys sorted, compact) of every stored field and
    /// `id`, nulls included, so each field is covered and no two entries serialise alike. `staff` and
    /// `note` (issue 18) are members only when set, so entries written before them hash as they did.
    public func canonicalBytes(id: Int64) -> [UInt8] {
        var object: JSONObject = [
            "id": .integer(id), "at": .string(at), "caller_uid": callerUID.map { .integer(Int64($0)) } ?? .null,
            "caller_pid": callerPID.map { .integer(Int64($0)) } ?? .null, "method": .string(method),
            "target": .string(target), "status": .integer(Int64(status)), "action": action.map { .string($0) } ?? .null,
            "uid": uid.map { .string($0) } ?? .null,
        ]
        if let staff { object["staff"] = .string(staff) }
        if let note { object["note"] = .string(note) }
        return JSONValue.object(object).canonicalBytes
    }
}
