import RenkeiCore
import RenkeiStore
import RenkeiSystem

// The access log's rules that need the HTTP layer; its table and chain are RenkeiStore's ``AccessLog``.
extension AccessLog {
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

    /// The newest `limit` entries, newest first, as `GET /v1/access-log` lists them.
    static func entries(in db: Database, limit: Int) throws -> [JSONValue] {
        try newest(limit, in: db).map { record in
            let entry = record.entry
            return .object([
                "id": .integer(record.id), "time": .string(entry.at),
                "caller_uid": entry.callerUID.map { .integer(Int64($0)) } ?? .null,
                "caller_pid": entry.callerPID.map { .integer(Int64($0)) } ?? .null,
                "method": .string(entry.method), "target": .string(entry.target), "status": .integer(Int64(entry.status)),
                // What was decided when the entry was written; an entry from before issue 13 (no hash,
                // no `action` stored) is read as the daemon decides now, from its decoded query.
                "operator_action": (record.isChained ? entry.action : legacyAction(entry)).map { .string($0) } ?? .null,
                "uid": entry.uid.map { .string($0) } ?? .null,
                // Issue 18: the console's staff account (null on the socket) and the note or reason given.
                "staff": entry.staff.map { .string($0) } ?? .null,
                "note": entry.note.map { .string($0) } ?? .null,
            ])
        }
    }
}
