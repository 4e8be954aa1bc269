/// An SQLite result code, primary or extended (<https://www.sqlite.org/rescode.html>).
///
/// Shaped like GRDB's `ResultCode`: a raw value with named constants, so that codes this file does
/// not name still round-trip. A primary code pattern matches its extended codes in `switch`.
public struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw SQLite result code.
    public let rawValue: Int32

    /// Creates a result code from its raw value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code: the least significant 8 bits of an extended code.
    public var primary: ResultCode { ResultCode(rawValue: rawValue & 0xFF) }

    /// `true` when a primary pattern is the primary code of `code`, or an extended pattern equals it.
    public static func ~= (pattern: ResultCode, code: ResultCode) -> Bool {
        pattern == pattern.primary ? pattern == code.primary : pattern == code
    }

    public var description: String { "\(rawValue)" }

    // MARK: - Primary result codes (https://www.sqlite.org/rescode.html#primary_result_code_list)

    /// Successful result.
    public static let SQLITE_OK = ResultCode(rawValue: 0)
    /// Generic error, such as an SQL syntax error or a missing table.
    public static let SQLITE_ERROR = ResultCode(rawValue: 1)
    /// Internal logic error in SQLite.
    public static let SQLITE_INTERNAL = ResultCode(rawValue: 2)
    /// Access permission denied.
    public static let SQLITE_PERM = ResultCode(rawValue: 3)
    /// An operation was aborted.
    public static let SQLITE_ABORT = ResultCode(rawValue: 4)
    /// The database file is locked by another connection.
    public static let SQLITE_BUSY = ResultCode(rawValue: 5)
    /// A table is locked by a conflicting use of the same connection.
    public static let SQLITE_LOCKED = ResultCode(rawValue: 6)
    /// A memory allocation failed.
    public static let SQLITE_NOMEM = ResultCode(rawValue: 7)
    /// Attempt to write a read-only database.
    public static let SQLITE_READONLY = ResultCode(rawValue: 8)
    /// Interrupted by `sqlite3_interrupt()`.
    public static let SQLITE_INTERRUPT = ResultCode(rawValue: 9)
    /// The operating system reported an I/O error.
    public static let SQLITE_IOERR = ResultCode(rawValue: 10)
    /// The database file is malformed.
    public static let SQLITE_CORRUPT = ResultCode(rawValue: 11)
    /// Unknown opcode in `sqlite3_file_control()`.
    public static let SQLITE_NOTFOUND = ResultCode(rawValue: 12)
    /// The disk is full.
    public static let SQLITE_FULL = ResultCode(rawValue: 13)
    /// The database file could not be opened.
    public static let SQLITE_CANTOPEN = ResultCode(rawValue: 14)
    /// Database lock protocol error.
    public static let SQLITE_PROTOCOL = ResultCode(rawValue: 15)
    /// The database schema changed.
    public static let SQLITE_SCHEMA = ResultCode(rawValue: 17)
    /// A string or blob exceeds the size limit.
    public static let SQLITE_TOOBIG = ResultCode(rawValue: 18)
    /// A constraint (UNIQUE, NOT NULL, CHECK, a trigger's RAISE…) was violated.
    public static let SQLITE_CONSTRAINT = ResultCode(rawValue: 19)
    /// Data type mismatch.
    public static let SQLITE_MISMATCH = ResultCode(rawValue: 20)
    /// The library was used incorrectly (a bug in the caller).
    public static let SQLITE_MISUSE = ResultCode(rawValue: 21)
    /// Authorization denied.
    public static let SQLITE_AUTH = ResultCode(rawValue: 23)
    /// A bind parameter index is out of range.
    public static let SQLITE_RANGE = ResultCode(rawValue: 25)
    /// The file is not a database.
    public static let SQLITE_NOTADB = ResultCode(rawValue: 26)
    /// `sqlite3_step()` has another row ready.
    public static let SQLITE_ROW = ResultCode(rawValue: 100)
    /// `sqlite3_step()` has finished executing.
    public static let SQLITE_DONE = ResultCode(rawValue: 101)

    // MARK: - Extended result codes (https://www.sqlite.org/rescode.html#extended_result_code_list)

    /// fsync() failed: the data may not be on disk.
    public static let SQLITE_IOERR_FSYNC = ResultCode(rawValue: 10 | (4 << 8))
    /// A WAL read transaction's snapshot is stale.
    public static let SQLITE_BUSY_SNAPSHOT = ResultCode(rawValue: 5 | (2 << 8))
    /// A CHECK constraint failed.
    public static let SQLITE_CONSTRAINT_CHECK = ResultCode(rawValue: 19 | (1 << 8))
    /// A NOT NULL constraint failed.
    public static let SQLITE_CONSTRAINT_NOTNULL = ResultCode(rawValue: 19 | (5 << 8))
    /// A PRIMARY KEY constraint failed.
    public static let SQLITE_CONSTRAINT_PRIMARYKEY = ResultCode(rawValue: 19 | (6 << 8))
    /// A trigger raised an error.
    public static let SQLITE_CONSTRAINT_TRIGGER = ResultCode(rawValue: 19 | (7 << 8))
    /// A UNIQUE constraint failed.
    public static let SQLITE_CONSTRAINT_UNIQUE = ResultCode(rawValue: 19 | (8 << 8))
    /// A FOREIGN KEY constraint failed.
    public static let SQLITE_CONSTRAINT_FOREIGNKEY = ResultCode(rawValue: 19 | (3 << 8))
    /// The database was opened read-only.
    public static let SQLITE_READONLY_DBMOVED = ResultCode(rawValue: 8 | (4 << 8))
}
