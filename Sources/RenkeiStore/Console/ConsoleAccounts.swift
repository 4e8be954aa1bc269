/// The web console's staff accounts (issue 18): name, role, scrypt password hash and lock-out state,
/// in `console_users` (migration 6). Written on the writer's connection, read on any.
///
/// Accounts are operator state like the access log, not a view of the event log: a rebuild leaves them alone.
public enum ConsoleAccounts {
    /// Migration 6: the accounts table, and who (staff) and why (note) on access-log entries. Like
    /// every migration it may run over a database that already has them (one adopted as from before
    /// versioning): each object is created only when missing.
    static func migrate(_ db: Database) throws(StoreError) {
        try db.execute(schema)
        let columns = try LegacyAdoption.columns(of: "access_log", in: db)
        for column in ["staff", "note"] where !columns.contains(column) {
            try db.execute("ALTER TABLE access_log ADD COLUMN \(column) TEXT")
        }
        try db.execute("CREATE INDEX IF NOT EXISTS access_log_by_staff ON access_log(staff) WHERE staff IS NOT NULL")
    }

    /// The accounts table (migration 6).
    static let schema = """
        CREATE TABLE IF NOT EXISTS console_users(
            name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL, must_change INTEGER NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER,
            generation INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        """

    /// One account as stored.
    public struct Account: Sendable, Hashable {
        /// The login name.
        public var name: String
        /// `viewer`, `reviewer` or `admin`.
        public var role: String
        /// ``RenkeiCrypto/PasswordHash`` text (`scrypt$…`).
        public var passwordHash: String
        /// Whether the password is a one-time one that must be changed at the next login.
        public var mustChange: Bool
        /// Whether the account may no longer log in.
        public var disabled: Bool
        /// Failed logins in a row.
        public var failures: Int
        /// Until when (Unix seconds) logins are refused after too many failures.
        public var lockedUntil: Int64?
        /// Bumped on every reset, disable and password change: sessions of an older generation end.
        public var generation: Int64
        /// When the account was created and last changed (RFC 3339).
        public var createdAt: String
        /// See ``createdAt``.
        public var updatedAt: String

        /// Creates an account.
        public init(
            name: String, role: String, passwordHash: String, mustChange: Bool, disabled: Bool = false, failures: Int = 0,
            lockedUntil: Int64? = nil, generation: Int64 = 0, createdAt: String, updatedAt: String
        ) {
            self.name = name
            self.role = role
            self.passwordHash = passwordHash
            self.mustChange = mustChange
            self.disabled = disabled
            self.failures = failures
            self.lockedUntil = lockedUntil
            self.generation = generation
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    static let columns =
        "SELECT name, role, password, must_change, disabled, failures, locked_until, generation, created_at, updated_at FROM console_users"

    static func account(_ row: Statement) -> Account {
        Account(
            name: row.string(0) ?? "", role: row.string(1) ?? "", passwordHash: row.string(2) ?? "",
            mustChange: row.int64(3) != 0, disabled: row.int64(4) != 0, failures: Int(row.int64(5)),
            lockedUntil: row.isNull(6) ? nil : row.int64(6), generation: row.int64(7), createdAt: row.string(8) ?? "",
            updatedAt: row.string(9) ?? "")
    }

    /// The account `name`, or `nil`.
    /// - Throws: ``StoreError``.
    public static func account(_ name: String, in db: Database) throws -> Account? {
        try db.prepare(columns + " WHERE name = ?").rows([.text(name)]) { account($0) }.first
    }

    /// Every account, by name.
    /// - Throws: ``StoreError``.
    public static func all(in db: Database) throws -> [Account] {
        try db.prepare(columns + " ORDER BY name").rows([]) { account($0) }
    }

    /// Writes `account` (insert or replace). Run on the writer's connection.
    /// - Throws: ``StoreError``.
    public static func put(_ account: Account, in db: Database) throws {
        try db.prepare(
            """
            INSERT INTO console_users(name, role, password, must_change, disabled, failures, locked_until, generation,
                created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET role = excluded.role, password = excluded.password,
                must_change = excluded.must_change, disabled = excluded.disabled, failures = excluded.failures,
                locked_until = excluded.locked_until, generation = excluded.generation, updated_at = excluded.updated_at
            """
        ).run([
            .text(account.name), .text(account.role), .text(account.passwordHash), .integer(account.mustChange ? 1 : 0),
            .integer(account.disabled ? 1 : 0), .integer(Int64(account.failures)),
            account.lockedUntil.map { .integer($0) } ?? .null, .integer(account.generation), .text(account.createdAt),
            .text(account.updatedAt),
        ])
    }

    /// The newest access-log entries of the console that name `target` fragments (a review's
    /// decisions), newest first: who decided, when and with what note.
    /// - Throws: ``StoreError``.
    public static func decisions(onReview id: String, in db: Database) throws -> [AccessLogEntry] {
        try db.prepare(
            AccessLog.selectColumns
                + " WHERE (target LIKE ? OR target LIKE ?) AND method = 'POST' AND status = 200 ORDER BY id DESC LIMIT 20"
        ).rows([.text("/v1/reviews/\(id)/%"), .text("/reviews/\(id)/%")]) { AccessLog.entry(from: $0) }
    }
}
