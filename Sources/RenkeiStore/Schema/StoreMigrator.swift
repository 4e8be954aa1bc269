/// Numbered schema migrations, versioned by `PRAGMA user_version`, in the manner of GRDB's
/// `DatabaseMigrator`: migrations are registered once, in order, never edited after release, and
/// each runs in its own transaction together with the version it brings the database to, so a crash
/// leaves the database at the previous version or the next one, never in between.
///
/// Unlike GRDB (a `grdb_migrations` table of identifiers), the applied version is SQLite's own
/// `user_version` header field (https://www.sqlite.org/pragma.html#pragma_user_version): migration
/// `n` is applied when `user_version >= n`.
///
/// A database written before versioning existed has `user_version` 0 but tables: ``legacyAdoption``
/// brings it to exactly the schema of migration ``legacyVersion`` (idempotent DDL and the column
/// checks the old code ran at every start), after which the later migrations run as usual.
public struct StoreMigrator: Sendable {
    /// One numbered step of the schema.
    public struct Migration: Sendable {
        /// The `user_version` the database has once this migration ran (1, 2, …; no gaps).
        public var version: Int32
        /// What the migration does, for logs and errors.
        public var name: String
        /// The DDL (and data moves) of the step; runs inside the migration's transaction.
        public var migrate: @Sendable (Database) throws(StoreError) -> Void

        /// Creates a migration.
        public init(version: Int32, name: String, migrate: @escaping @Sendable (Database) throws(StoreError) -> Void) {
            self.version = version
            self.name = name
            self.migrate = migrate
        }
    }

    /// What ``migrate(_:upTo:)`` did.
    public struct Report: Sendable, Equatable {
        /// `user_version` before.
        public var from: Int32
        /// `user_version` after.
        public var to: Int32
        /// Whether the database was written before versioning and was adopted (``legacyAdoption``).
        public var adoptedLegacy: Bool

        /// Creates a report.
        public init(from: Int32, to: Int32, adoptedLegacy: Bool) {
            self.from = from
            self.to = to
            self.adoptedLegacy = adoptedLegacy
        }
    }

    /// The registered migrations, in version order.
    public let migrations: [Migration]
    /// The version a legacy (unversioned, non-empty) database is brought to by ``legacyAdoption``.
    public let legacyVersion: Int32
    /// Brings an unversioned database that has tables to the schema of ``legacyVersion``.
    public let legacyAdoption: @Sendable (Database) throws(StoreError) -> Void

    /// The version of the newest registered migration.
    public var currentVersion: Int32 { migrations.last?.version ?? 0 }

    /// Creates a migrator. Versions must run 1, 2, 3, … without gaps (checked: a bug otherwise).
    public init(
        migrations: [Migration], legacyVersion: Int32,
        legacyAdoption: @escaping @Sendable (Database) throws(StoreError) -> Void
    ) {
        for (index, migration) in migrations.enumerated() {
            precondition(migration.version == Int32(index + 1), "migration versions must be 1, 2, 3, … (bug in Renkei)")
        }
        precondition(legacyVersion >= 1 && legacyVersion <= Int32(migrations.count), "legacyVersion must be a registered version")
        self.migrations = migrations
        self.legacyVersion = legacyVersion
        self.legacyAdoption = legacyAdoption
    }

    /// The database's `PRAGMA user_version`.
    /// - Throws: ``StoreError``.
    public static func userVersion(of db: Database) throws(StoreError) -> Int32 {
        let statement = try db.prepare("PRAGMA user_version")
        defer { statement.reset() }
        guard try statement.step() else { return 0 }
        return Int32(truncatingIfNeeded: statement.int64(0))
    }

    /// Whether the database holds no table, index, trigger or view yet (a new file).
    static func isEmpty(_ db: Database) throws(StoreError) -> Bool {
        let statement = try db.prepare("SELECT COUNT(*) FROM sqlite_master")
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int64(0) == 0
    }

    /// Brings the database to version `target` (default: ``currentVersion``): adopts a legacy
    /// database first, then runs every migration above its version, each in its own transaction.
    /// - Throws: ``StoreError`` with code `newerSchema` when the database's version is above
    ///   ``currentVersion`` (written by a newer Renkei: nothing is changed), or the error of the
    ///   migration that failed (that migration is rolled back; the earlier ones stay).
    @discardableResult
    public func migrate(_ db: Database, upTo target: Int32? = nil) throws(StoreError) -> Report {
        let target = target ?? currentVersion
        precondition(target >= 0 && target <= currentVersion, "no migration \(target) (bug in Renkei)")
        let from = try Self.userVersion(of: db)
        guard from <= currentVersion else {
            throw StoreError(
                .newerSchema,
                "the state database \(db.path) has schema version \(from), but this renkeid knows versions up to "
                    + "\(currentVersion): a newer Renkei wrote it. Run that newer renkeid again (reinstall it), or stop "
                    + "and restore a backup taken before the upgrade (runbook: backup-restore); do not delete the database")
        }
        var version = from
        var adopted = false
        if version == 0, try !Self.isEmpty(db) {
            try db.inTransaction { () throws(StoreError) in
                try legacyAdoption(db)
                try Self.setUserVersion(legacyVersion, in: db)
            }
            version = legacyVersion
            adopted = true
        }
        for migration in migrations where migration.version > version && migration.version <= target {
            try db.inTransaction { () throws(StoreError) in
                try migration.migrate(db)
                try Self.setUserVersion(migration.version, in: db)
            }
            version = migration.version
        }
        return Report(from: from, to: version, adoptedLegacy: adopted)
    }

    /// Sets `PRAGMA user_version` (transactional: it is a field of the database header, page 1).
    static func setUserVersion(_ version: Int32, in db: Database) throws(StoreError) {
        // PRAGMA takes no bound parameters; `version` is an integer, so the text is safe.
        try db.execute("PRAGMA user_version = \(version)")
    }
}
