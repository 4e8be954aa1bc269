internal import CSQLite

/// One SQLite connection (`sqlite3*`).
///
/// Not thread-safe: a `Database` is owned by one thread or serial executor for its whole life
/// (``LogWriter`` owns its own on a dedicated thread). It closes its connection in `deinit`.
///
/// A read-write connection uses WAL journaling with `synchronous=FULL`, so a returned COMMIT has been
/// fsync'd to the write-ahead log; it waits up to ``busyTimeoutMilliseconds`` for other connections'
/// locks and enforces foreign keys.
public final class Database {
    /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
    public static let busyTimeoutMilliseconds: Int32 = 5000

    /// The page cache of a read-write connection, in KiB (SQLite's default is 2,000).
    public static let writerCacheKiB = 32_768

    /// The file this connection opened.
    public let path: String
    /// Whether this connection was opened read-only.
    public let isReadOnly: Bool

    let handle: OpaquePointer
    private var statementCache: [String: Statement] = [:]

    /// Opens (and for read-write, creates) the database file at `path`.
    /// - Parameters:
    ///   - path: The database file.
    ///   - readOnly: Open without write access; the file must exist.
    /// - Throws: ``StoreError`` with code `open` naming the path and SQLite's reason.
    public init(path: String, readOnly: Bool = false) throws(StoreError) {
        self.path = path
        self.isReadOnly = readOnly
        var connection: OpaquePointer?
        // SQLITE_OPEN_NOMUTEX: "multi-thread" mode, safe as long as no two threads use this connection
        // at the same time, which the ownership rule above guarantees.
        // https://www.sqlite.org/c3ref/open.html
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            // "Whether or not an error occurs when it is opened, resources associated with the database
            // connection handle should be released by passing it to sqlite3_close() when it is no longer
            // required." A nil handle means SQLite could not even allocate one.
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let extended = connection.map { sqlite3_extended_errcode($0) } ?? code
            sqlite3_close_v2(connection)
            throw StoreError(
                .open, "cannot open the database at \(path): " + StoreError.advice(for: ResultCode(rawValue: code)),
                resultCode: ResultCode(rawValue: extended), sqliteMessage: message)
        }
        self.handle = connection
        // From here on `deinit` closes the handle, even if configuration below throws.
        try configure()
    }

    private func configure() throws(StoreError) {
        // sqlite3_busy_timeout: sleeps and retries while a table is locked, up to the given time.
        // https://www.sqlite.org/c3ref/busy_timeout.html
        sqlite3_busy_timeout(handle, Self.busyTimeoutMilliseconds)
        guard !isReadOnly else { return }
        // journal_mode=WAL is persistent in the file and returns the resulting mode as a row; a
        // filesystem without shared memory support answers something else, which we refuse because
        // durability below assumes WAL. https://www.sqlite.org/pragma.html#pragma_journal_mode
        let statement = try prepare("PRAGMA journal_mode = WAL")
        defer { statement.reset() }
        guard try statement.step(), statement.string(0)?.lowercased() == "wal" else {
            throw StoreError(
                .open, "cannot switch \(path) to WAL journaling: put state_dir on a local filesystem",
                sql: statement.sql)
        }
        // synchronous=FULL in WAL mode: the WAL is fsync'd at every commit, so a committed transaction
        // survives power loss. https://www.sqlite.org/pragma.html#pragma_synchronous
        try execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")
        // cache_size: the default 2 MiB page cache overflows within one projection batch (views, sent
        // states, outbox and their indexes), and SQLite then spills dirty pages to the WAL in the middle
        // of the transaction (sqlite3PcacheFetchStress in profiles). A negative value is KiB.
        // https://www.sqlite.org/pragma.html#pragma_cache_size
        try execute("PRAGMA cache_size = -\(Self.writerCacheKiB)")
    }

    deinit {
        // Drop our references first; a Statement a caller still holds keeps its sqlite3_stmt alive.
        statementCache.removeAll()
        // sqlite3_close_v2: with statements still unfinalized, the connection becomes a "zombie" that
        // is freed when the last one is finalized, so a Statement outliving its Database stays memory
        // safe. https://www.sqlite.org/c3ref/close.html
        sqlite3_close_v2(handle)
    }

    // MARK: - Running SQL

    /// Copies every page of the write-ahead log into the database file and empties the log file
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), waiting for readers as `busy_timeout` allows.
    ///
    /// SQLite checkpoints on its own after each commit, but never truncates: after one very large
    /// transaction the log stays as large, and whichever commit comes next pays for copying it.
    /// https://www.sqlite.org/pragma.html#pragma_wal_checkpoint
    /// - Returns: whether the log was copied and emptied (`false` when a reader or writer kept it busy).
    /// - Throws: ``StoreError`` when the pragma fails.
    @discardableResult
    public func checkpointAndTruncateWAL() throws(StoreError) -> Bool {
        let statement = try prepare("PRAGMA wal_checkpoint(TRUNCATE)")
        defer { statement.reset() }
        // One row: busy (0 or 1), pages in the log, pages checkpointed.
        guard try statement.step() else { return false }
        return statement.int64(0) == 0
    }

    /// Runs one or more SQL statements separated by semicolons, without bindings.
    /// - Throws: ``StoreError`` naming the statement that failed and SQLite's message.
    public func execute(_ sql: String) throws(StoreError) {
        var remaining = sql
        while !remaining.isEmpty {
            // Not cached: ad-hoc scripts (schema, pragmas) run once.
            let (statement, tail) = try Statement.prepare(remaining, connection: handle, persistent: false)
            if let statement {
                while try statement.step() {}
            }
            guard tail.utf8.count < remaining.utf8.count else { return }
            remaining = tail
        }
    }

    /// A prepared statement for one SQL statement, from this connection's cache when it was prepared
    /// before (reset, with its bindings cleared).
    ///
    /// The cache hands out the same instance for the same text: finish with it (step to the end,
    /// or ``Statement/reset()``) before preparing the same SQL again.
    /// - Throws: ``StoreError`` naming the SQL when SQLite refuses it or it holds more than one statement.
    public func prepare(_ sql: String) throws(StoreError) -> Statement {
        if let cached = statementCache[sql] {
            cached.reset()
            return cached
        }
        let (statement, tail) = try Statement.prepare(sql, connection: handle, persistent: true)
        guard let statement else {
            throw StoreError(.invalidArgument, "there is no SQL statement to prepare (bug in Renkei)", sql: sql)
        }
        guard tail.allSatisfy({ $0.isWhitespace || $0 == ";" }) else {
            throw StoreError(
                .invalidArgument, "prepare takes exactly one SQL statement; use execute for scripts (bug in Renkei)",
                sql: sql)
        }
        statementCache[sql] = statement
        return statement
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when it throws.
    ///
    /// `IMMEDIATE` takes the write lock up front, so the transaction cannot fail half way for lack of it.
    /// - Returns: What `body` returned.
    /// - Throws: `body`'s error unchanged (after the rollback), or a ``StoreError`` from BEGIN or COMMIT.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try prepare("BEGIN IMMEDIATE").run([])
        let value: T
        do {
            value = try body()
            try prepare("COMMIT").run([])
        } catch {
            rollbackIfNeeded()
            throw error
        }
        return value
    }

    /// Whether a transaction is open on this connection.
    public var isInsideTransaction: Bool {
        // sqlite3_get_autocommit: non-zero outside BEGIN…COMMIT. https://www.sqlite.org/c3ref/get_autocommit.html
        sqlite3_get_autocommit(handle) == 0
    }

    /// Rolls back the open transaction, if any; errors are ignored (after a failed COMMIT or an I/O
    /// error SQLite may already have rolled back on its own).
    func rollbackIfNeeded() {
        guard isInsideTransaction else { return }
        // https://www.sqlite.org/lang_transaction.html: "if certain kinds of errors occur within a
        // transaction, the transaction may or may not be rolled back automatically" — so check first.
        try? prepare("ROLLBACK").run([])
    }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 {
        // https://www.sqlite.org/c3ref/last_insert_rowid.html
        sqlite3_last_insert_rowid(handle)
    }

    /// The number of rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
    public var changes: Int {
        // https://www.sqlite.org/c3ref/changes.html
        Int(sqlite3_changes64(handle))
    }
}
