/// The `at_rest_keys` table (which ``StateSchema`` creates): one row per wrapping of the single data
/// key of `my_number` under a key-encryption key (KEK). A rotation adds a wrapping with a higher
/// `generation`; what a rotation means is RenkeiDaemon's `AtRestKeyStore`, the rows are here.
public enum AtRestKeys {
    /// One wrapping of the data key.
    public struct Wrapping: Sendable, Equatable {
        /// The data key's id (the same in every row).
        public var keyID: String
        /// The id of the KEK it is wrapped under.
        public var kekID: String
        /// Higher for a later rotation.
        public var generation: Int64
        /// The wrapped data key.
        public var wrapped: [UInt8]

        /// Creates a wrapping.
        public init(keyID: String, kekID: String, generation: Int64, wrapped: [UInt8]) {
            self.keyID = keyID
            self.kekID = kekID
            self.generation = generation
            self.wrapped = wrapped
        }
    }

    /// Every wrapping, lowest generation first.
    /// - Throws: ``StoreError``.
    public static func wrappings(in db: Database) throws -> [Wrapping] {
        try db.prepare("SELECT key_id, kek_id, generation, wrapped FROM at_rest_keys ORDER BY generation").rows([]) { row in
            Wrapping(keyID: row.string(0) ?? "", kekID: row.string(1) ?? "", generation: row.int64(2), wrapped: row.blob(3) ?? [])
        }
    }

    /// Adds a wrapping, created at `at` (RFC 3339).
    /// - Throws: ``StoreError``.
    public static func insert(_ wrapping: Wrapping, at: String, in db: Database) throws(StoreError) {
        try db.prepare("INSERT INTO at_rest_keys(key_id, kek_id, generation, wrapped, created_at) VALUES (?, ?, ?, ?, ?)")
            .run([
                .text(wrapping.keyID), .text(wrapping.kekID), .integer(wrapping.generation), .blob(wrapping.wrapped),
                .text(at),
            ])
    }

    /// Removes the wrappings of a generation below `generation` (a finished rotation's old ones).
    /// - Throws: ``StoreError``.
    public static func deleteGenerations(below generation: Int64, in db: Database) throws(StoreError) {
        try db.prepare("DELETE FROM at_rest_keys WHERE generation < ?").run([.integer(generation)])
    }

    /// Removes the wrappings of a generation above `generation` and any under the KEK `kekID` (before
    /// a new rotation to that KEK is written).
    /// - Throws: ``StoreError``.
    public static func deletePending(above generation: Int64, orKEK kekID: String, in db: Database) throws(StoreError) {
        try db.prepare("DELETE FROM at_rest_keys WHERE generation > ? OR kek_id = ?").run([.integer(generation), .text(kekID)])
    }
}
