public import RenkeiCore

/// The projection's tables (which ``StateSchema`` creates): persons (internal record and rendered
/// view), households, the (source, subject) index, reviews, link decisions, the checkpoint, and each
/// subscription's sent state.
///
/// Views are derived data: `POST /v1/rebuild` replaces every row from the log.
public enum ProjectionStore {
    /// The lsn of the stored views (their checkpoint), `nil` when nothing is stored yet.
    public static func checkpoint(in db: Database) throws -> Int64? {
        let metaBytes = try db.prepare("SELECT meta FROM projection_meta WHERE id = 1").rows([]) { $0.blob(0) ?? [] }.first
        return try metaBytes.map { try ProjectionMeta(decoding: $0).lsn }
    }

    /// Loads the stored projection (empty when nothing is stored yet), matching later records with
    /// `thresholds` and `weights` (`linking` in the configuration).
    /// - Parameter isCancelled: asked every 1,000 persons; `true` stops the load with `CancellationError`.
    public static func load(
        from db: Database, thresholds: LinkingThresholds = LinkingThresholds(), weights: MatchWeights = .standard,
        isCancelled: () -> Bool = { false }
    ) throws -> Projection {
        let metaBytes = try db.prepare("SELECT meta FROM projection_meta WHERE id = 1").rows([]) { $0.blob(0) ?? [] }.first
        guard let metaBytes else { return Projection(thresholds: thresholds, weights: weights) }
        let meta = try ProjectionMeta(decoding: metaBytes)
        var count = 0
        let persons = try db.prepare("SELECT record FROM persons ORDER BY uid").rows([]) { row in
            count += 1
            if count % 1000 == 0, isCancelled() { throw CancellationError() }
            return try PersonRecord(decoding: row.blob(0) ?? [])
        }
        let households = try db.prepare("SELECT record FROM households ORDER BY household_no").rows([]) {
            try HouseholdRecord(decoding: $0.blob(0) ?? [])
        }
        let reviews = try db.prepare("SELECT item FROM reviews ORDER BY id").rows([]) { try ReviewItem(decoding: $0.blob(0) ?? []) }
        let decisions = try db.prepare("SELECT decisions FROM link_decisions WHERE id = 1").rows([]) {
            try LinkDecisions(decoding: $0.blob(0) ?? [])
        }.first ?? LinkDecisions()
        let findings = try ReconciliationStore.current(in: db)
        return Projection(
            restoring: persons, households: households, meta: meta, reviews: reviews, decisions: decisions,
            findings: findings, thresholds: thresholds, weights: weights)
    }

    /// Writes what changed since the last save, and the checkpoint.
    /// - Parameter persons: whether to write the dirty persons too (a rebuild writes them itself,
    ///   with ``savePerson(_:view:in:replacing:)``, while it plans their deltas).
    public static func saveDirty(_ projection: Projection, in db: Database, persons: Bool = true) throws {
        if persons {
            for uid in projection.dirtyPersons.sorted() {
                guard let record = projection.personRecord(uid), let view = projection.personView(uid) else { continue }
                try savePerson(record, view: view, in: db, links: projection.dirtyLinks.contains(uid) ? .replace : .keep)
            }
        }
        let putHousehold = try db.prepare("INSERT OR REPLACE INTO households(household_no, record) VALUES (?, ?)")
        let deleteHousehold = try db.prepare("DELETE FROM households WHERE household_no = ?")
        for householdNo in projection.dirtyHouseholds.sorted() {
            if let household = projection.householdRecord(householdNo) {
                try putHousehold.run([.text(householdNo), .blob(household.encoded)])
            } else {
                try deleteHousehold.run([.text(householdNo)])
            }
        }
        let putReview = try db.prepare("INSERT OR REPLACE INTO reviews(id, item) VALUES (?, ?)")
        let deleteReview = try db.prepare("DELETE FROM reviews WHERE id = ?")
        for id in projection.dirtyReviews.sorted() {
            if let item = projection.review(id) {
                try putReview.run([.text(id), .blob(item.encoded)])
            } else {
                try deleteReview.run([.text(id)])
            }
        }
        if projection.decisionsDirty {
            try db.prepare("INSERT OR REPLACE INTO link_decisions(id, decisions) VALUES (1, ?)")
                .run([.blob(projection.decisions.encoded)])
        }
        try ReconciliationStore.saveDirty(projection.reconciliation, in: db)
        try saveMeta(projection.meta, in: db)
    }

    /// What ``savePerson(_:view:in:links:)`` does with a person's (source, subject) rows.
    public enum LinkRows: Sendable {
        /// Leave them: the person's links did not change.
        case keep
        /// Delete and write them again.
        case replace
        /// Write them (none exist: right after ``clearViews(in:)``).
        case insert
    }

    /// Writes one person's row (record and rendered view) and, as `links` says, its (source, subject) rows.
    public static func savePerson(_ record: PersonRecord, view: JSONObject, in db: Database, links: LinkRows = .replace) throws {
        try db.prepare("INSERT OR REPLACE INTO persons(uid, record, view) VALUES (?, ?, ?)")
            .run([.text(record.uid), .blob(record.encoded), .blob(JSONValue.object(view).serializedBytes)])
        guard links != .keep else { return }
        if links == .replace { try db.prepare("DELETE FROM person_links WHERE uid = ?").run([.text(record.uid)]) }
        let putLink = try db.prepare("INSERT OR REPLACE INTO person_links(source, subject, uid) VALUES (?, ?, ?)")
        // A record whose link has ended (its subject reissued to someone else) keeps no row.
        for source in record.records where source.linkEndedLSN == nil {
            try putLink.run([.text(source.link.source), .text(source.link.subject), .text(record.uid)])
        }
    }

    /// Writes the checkpoint (the lsn the views are at, and the uid counters).
    public static func saveMeta(_ meta: ProjectionMeta, in db: Database) throws {
        try db.prepare("INSERT OR REPLACE INTO projection_meta(id, meta) VALUES (1, ?)").run([.blob(meta.encoded)])
    }

    /// Removes every person and household row (before a rebuild writes them anew).
    public static func clearViews(in db: Database) throws {
        try db.execute("DELETE FROM persons; DELETE FROM households; DELETE FROM person_links; DELETE FROM projection_meta; DELETE FROM reviews; DELETE FROM link_decisions;")
        try ReconciliationStore.clear(in: db)
    }

    /// What `subscription` was last sent about `uid`, or `nil` when nothing was.
    public static func sentState(subscription: String, uid: String, in db: Database) throws -> SentState? {
        try sentStateBytes(subscription: subscription, uid: uid, in: db).map { try SentState(decoding: $0) }
    }

    /// The stored ``SentState/encoded`` bytes of (subscription, uid), unparsed.
    public static func sentStateBytes(subscription: String, uid: String, in db: Database) throws -> [UInt8]? {
        let statement = try db.prepare("SELECT state FROM sent_states WHERE subscription = ? AND uid = ?")
        defer { statement.reset() }
        try statement.bind([.text(subscription), .text(uid)])
        return try statement.step() ? statement.blob(0) ?? [] : nil
    }

    /// Stores what `subscription` was sent about `uid` (in the transaction that plans the delta).
    public static func putSentState(_ state: SentState, subscription: String, uid: String, in db: Database) throws {
        try db.prepare("INSERT OR REPLACE INTO sent_states(subscription, uid, state) VALUES (?, ?, ?)")
            .run([.text(subscription), .text(uid), .blob(state.encoded)])
    }

    /// The stored state of what `subscription` was last sent about household `householdNo`, or `nil`.
    public static func householdSentState(subscription: String, householdNo: String, in db: Database) throws -> JSONObject? {
        try db.prepare("SELECT state FROM household_sent_states WHERE subscription = ? AND household_no = ?")
            .rows([.text(subscription), .text(householdNo)]) { (try? JSONParser.parse($0.blob(0) ?? []))?.objectValue }
            .first ?? nil
    }

    /// Stores what `subscription` was sent about household `householdNo`.
    public static func putHouseholdSentState(
        _ state: JSONObject, subscription: String, householdNo: String, in db: Database
    ) throws {
        try db.prepare("INSERT OR REPLACE INTO household_sent_states(subscription, household_no, state) VALUES (?, ?, ?)")
            .run([.text(subscription), .text(householdNo), .blob(JSONValue.object(state).serializedBytes)])
    }

    // MARK: - Reads for the status socket (any connection)

    /// The stored record of `uid`, if the uid was ever allocated.
    public static func personRecord(_ uid: String, in db: Database) throws -> PersonRecord? {
        try db.prepare("SELECT record FROM persons WHERE uid = ?").rows([.text(uid)]) {
            try PersonRecord(decoding: $0.blob(0) ?? [])
        }.first
    }

    /// Every stored person record, in uid order.
    public static func personRecords(in db: Database) throws -> [PersonRecord] {
        try db.prepare("SELECT record FROM persons ORDER BY uid").rows([]) { try PersonRecord(decoding: $0.blob(0) ?? []) }
    }

    /// The operator's link decisions and the last estimate (empty when none).
    public static func linkDecisions(in db: Database) throws -> LinkDecisions {
        try db.prepare("SELECT decisions FROM link_decisions WHERE id = 1").rows([]) {
            try LinkDecisions(decoding: $0.blob(0) ?? [])
        }.first ?? LinkDecisions()
    }

    /// The rendered view of `uid`, or `nil` when there is no such person.
    public static func view(uid: String, in db: Database) throws -> JSONObject? {
        try db.prepare("SELECT view FROM persons WHERE uid = ?").rows([.text(uid)]) { row in
            (try? JSONParser.parse(row.blob(0) ?? []))?.objectValue
        }.first ?? nil
    }

    /// The uid a (source, subject) record is linked to, or `nil` when none.
    public static func uid(source: String, subject: String, in db: Database) throws -> String? {
        try db.prepare("SELECT uid FROM person_links WHERE source = ? AND subject = ?")
            .rows([.text(source), .text(subject)]) { $0.string(0) }.first ?? nil
    }

    /// Every open review item, by id.
    public static func reviews(in db: Database) throws -> [ReviewItem] {
        try db.prepare("SELECT item FROM reviews ORDER BY id").rows([]) { try ReviewItem(decoding: $0.blob(0) ?? []) }
    }

    /// The open review item `id`, or `nil`.
    public static func review(_ id: String, in db: Database) throws -> ReviewItem? {
        try db.prepare("SELECT item FROM reviews WHERE id = ?").rows([.text(id)]) { try ReviewItem(decoding: $0.blob(0) ?? []) }.first
    }

    /// The stored household `householdNo`, or `nil`.
    public static func household(_ householdNo: String, in db: Database) throws -> HouseholdRecord? {
        try db.prepare("SELECT record FROM households WHERE household_no = ?").rows([.text(householdNo)]) { row in
            try? HouseholdRecord(decoding: row.blob(0) ?? [])
        }.first ?? nil
    }
}
