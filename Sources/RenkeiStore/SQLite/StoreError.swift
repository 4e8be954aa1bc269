/// An error from Renkei's store: what failed, what to do, and what SQLite said.
///
/// Shaped like swift-nio's `FileSystemError`. It carries the SQL text of the failing statement but
/// never its bound values, which may hold personal data (names, addresses, 個人番号).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case open, sql, corruptLog, closed, invalidArgument, newerSchema
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The database file could not be opened or configured.
        public static let open = Code(.open)
        /// SQLite refused a statement: a preparation, bind, step or commit failed.
        public static let sql = Code(.sql)
        /// A log row could not be read back (its body is not a valid envelope).
        public static let corruptLog = Code(.corruptLog)
        /// The writer was closed before the request could run.
        public static let closed = Code(.closed)
        /// The caller passed something the store cannot take (a bug in the caller).
        public static let invalidArgument = Code(.invalidArgument)
        /// The database's schema version (`PRAGMA user_version`) is newer than this build knows: a newer
        /// Renkei wrote it, and this one must not touch it.
        public static let newerSchema = Code(.newerSchema)

        public var description: String { "\(value)" }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to do about it, for an operator.
    public var message: String
    /// The SQLite primary result code, when SQLite reported the failure.
    public var resultCode: ResultCode?
    /// The SQLite extended result code (for example `SQLITE_CONSTRAINT_UNIQUE`), when known.
    public var extendedResultCode: ResultCode?
    /// `sqlite3_errmsg()` at the time of the failure, when SQLite reported it.
    public var sqliteMessage: String?
    /// The SQL text involved (never the bound values).
    public var sql: String?
    /// Where the error was raised.
    public var location: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong and what to do about it.
    ///   - resultCode: The SQLite extended (or primary) result code, if any.
    ///   - sqliteMessage: SQLite's own message, if any.
    ///   - sql: The SQL text involved, if any.
    public init(
        _ code: Code, _ message: String, resultCode: ResultCode? = nil, sqliteMessage: String? = nil,
        sql: String? = nil, file: StaticString = #fileID, line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.resultCode = resultCode?.primary
        self.extendedResultCode = resultCode
        self.sqliteMessage = sqliteMessage
        self.sql = sql
        self.location = "\(file):\(line)"
    }

    public var description: String {
        var text = message
        if let resultCode {
            text += " [SQLite error \(resultCode)"
            if let extendedResultCode, extendedResultCode != resultCode { text += ", extended \(extendedResultCode)" }
            if let sqliteMessage { text += ": \(sqliteMessage)" }
            text += "]"
        }
        if let sql { text += " while running: \(sql)" }
        return text
    }

    /// Advice for an operator, chosen by the SQLite result code.
    static func advice(for code: ResultCode) -> String {
        switch code {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "the database is locked by another connection; make sure only one renkeid uses this state_dir"
        case .SQLITE_FULL:
            return "the disk is full; free space on the volume holding state_dir, then retry"
        case .SQLITE_IOERR:
            return "the operating system reported an I/O error; check the disk and the kernel log (dmesg)"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return "the database file is damaged; restore state_dir from a backup and run `renkeictl verify`"
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            return "the database cannot be written; check the path and that the daemon's user owns state_dir"
        case .SQLITE_CONSTRAINT:
            return "a database constraint refused the change"
        default:
            return "this is probably a bug in Renkei; report it with this message"
        }
    }
}
