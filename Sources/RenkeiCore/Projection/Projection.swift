/// The unified-ID projection (contract §3): a pure function from the log to persons and households.
///
/// Feed it validated events in lsn order with ``apply(_:)``; read views with ``personView(_:)``,
/// ``personReply(_:revealProtected:)`` and ``householdView(_:revealProtected:)``. It does no I/O:
/// the daemon stores the records named by ``dirtyPersons`` and ``dirtyHouseholds`` after each
/// batch and restarts with ``init(restoring:households:meta:)``.
///
/// Every lookup is a dictionary access; an event touches only the persons and households it names.
public struct Projection: Sendable {
    /// A (source, subject) pair: the key of a link.
    struct LinkKey: Hashable, Sendable {
        var source: String
        var subject: String
    }

    /// Person records by uid.
    var persons: [String: PersonRecord] = [:]
    /// Household records by 世帯番号: the state last published, with its version.
    var households: [String: HouseholdRecord] = [:]
    /// The membership index: 世帯番号 → member uids, ascending.
    var householdMembers: [String: [String]] = [:]
    /// Every link's owner: (source, subject) → uid.
    var linkIndex: [LinkKey: String] = [:]
    /// How many of ``linkIndex``'s records are registry (`resident`) records.
    var registryRecords = 0
    /// 宛名番号 → uid, for resident records and for reservations made by records that arrived first.
    var atenaIndex: [String: String] = [:]
    /// How records without a key find their person: weights and thresholds.
    var linker = Linker()
    /// The blocking index over every live person's match keys, by uid number.
    var matchIndex = MatchIndex()
    /// Open review items by id, and the id of the open item for each (source, subject).
    var reviews: [String: ReviewItem] = [:]
    var reviewByRecord: [LinkKey: String] = [:]
    /// Candidate uid → ids of the open items naming it, so a merge finds the items to retarget.
    var reviewsByCandidate: [String: Set<String>] = [:]
    /// Operator decisions later matching must respect.
    public internal(set) var decisions = LinkDecisions()
    /// child uid → guardian uids listing it under `guardian_of` (kept through merges).
    var guardiansOfChild: [String: [String]] = [:]
    /// The reconciliation findings (突合, issue 17), kept current after every event.
    public internal(set) var reconciliation = ReconciliationLedger()
    /// The checks evaluated after every event (``ReconciliationChecks/standard``; empty: none, as
    /// the bench's baseline runs).
    public var reconciliationChecks: [any ReconciliationCheck] = ReconciliationChecks.standard

    /// The daemon's own municipality (config `municipality`): an event naming another one has its
    /// numbers scoped by it (``scopedToMunicipality(_:)``); `nil`: no scoping.
    public var homeMunicipality: String?
    /// While an event is applied: the code its new source records are held under (its own, else
    /// ``homeMunicipality``; `nil` for operator events, which create no records of their own).
    var applyingMunicipality: String?

    /// The counters: next uid number and the last applied lsn.
    public internal(set) var meta = ProjectionMeta()
    /// Uids whose records changed since ``clearDirty()``.
    public internal(set) var dirtyPersons: Set<String> = []
    /// Household numbers whose records changed since ``clearDirty()``.
    public internal(set) var dirtyHouseholds: Set<String> = []
    /// Review ids opened or closed since ``clearDirty()``.
    public internal(set) var dirtyReviews: Set<String> = []
    /// Uids created, or whose `links` changed, since ``clearDirty()``: only their (source, subject)
    /// rows need writing (a subset of ``dirtyPersons``).
    public internal(set) var dirtyLinks: Set<String> = []
    /// Whether ``decisions`` changed since ``clearDirty()``.
    public internal(set) var decisionsDirty = false
    /// The views (without version and lsn) of the persons ``commit(_:cause:)`` changed since
    /// ``clearDirty()`` or ``dropViewCache()``, by uid, while ``cachesViews`` is on: planning and saving
    /// reuse them instead of building each view again. Only persons changed since then are held, so
    /// it stays small.
    var viewCache: [String: JSONObject] = [:]
    /// Whether ``commit(_:cause:)`` builds and keeps the JSON view of every person it changed (on by
    /// default: the daemon plans deltas and saves views after each batch). A rebuild turns it off: it
    /// builds each view once, at the end, and events only compare ``PersonViewParts``.
    public var cachesViews = true

    /// An empty projection (before lsn 1).
    /// - Parameters:
    ///   - thresholds: `linking.auto_link` and `linking.review` from the configuration.
    ///   - weights: match weights (the defaults unless configured).
    public init(thresholds: LinkingThresholds = LinkingThresholds(), weights: MatchWeights = .standard) {
        linker = Linker(weights: weights, thresholds: thresholds)
    }

    /// The lsn of the last applied event (0 before any).
    public var lsn: Int64 { meta.lsn }

    /// The number of persons (uids allocated).
    public var personCount: Int { persons.count }

    /// Forgets which records changed, after the daemon has stored them.
    public mutating func clearDirty() {
        dirtyPersons.removeAll(keepingCapacity: true)
        dirtyHouseholds.removeAll(keepingCapacity: true)
        dirtyReviews.removeAll(keepingCapacity: true)
        dirtyLinks.removeAll(keepingCapacity: true)
        decisionsDirty = false
        reconciliation.clearDirty()
        dropViewCache()
    }

    /// Forgets the views computed so far (part of ``clearDirty()``). A rebuild, which keeps everything
    /// dirty until its end, turns ``cachesViews`` off instead, so the cache never holds every person.
    mutating func dropViewCache() {
        viewCache.removeAll(keepingCapacity: true)
    }

    /// An open review item, if any.
    public func review(_ id: String) -> ReviewItem? { reviews[id] }

    /// Every open review item, by id.
    public var openReviews: [ReviewItem] { reviews.values.sorted { $0.id < $1.id } }

    /// The stored form of one person, if the uid exists.
    public func personRecord(_ uid: String) -> PersonRecord? { persons[uid] }

    /// The stored form of one household, if known.
    public func householdRecord(_ householdNo: String) -> HouseholdRecord? { households[householdNo] }

    /// The uid whose links hold (`source`, `subject`), if any.
    public func uid(source: String, subject: String) -> String? {
        linkIndex[LinkKey(source: source, subject: subject)]
    }

    /// The uid that owns or has reserved a 宛名番号, if any.
    public func uid(atenaNo: String) -> String? { atenaIndex[atenaNo] }

    /// The full internal person view, `my_number` included; `nil` for an unknown uid.
    ///
    /// For delta planning only: never write it to a log line or a status-socket reply.
    public func personView(_ uid: String) -> JSONObject? {
        guard let record = persons[uid] else { return nil }
        guard var view = viewCache[uid] else { return record.view }
        view.appendUnique("version", .integer(record.version))
        view.appendUnique("lsn", .integer(record.lsn))
        return view
    }

    /// Formats a uid number: `U` + 10 digits.
    public static func formatUID(_ number: Int64) -> String {
        let digits = String(number)
        return "U" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    // MARK: - Applying events

    /// Applies one logged event and reports what changed.
    ///
    /// Events at or below ``lsn`` were applied already and change nothing (a restart may hand them
    /// over again). Types the projection does not handle yet (operator decisions, unknown sources)
    /// advance ``lsn`` and change nothing.
    /// - Parameter logged: a schema-valid event, the next in lsn order.
    /// - Returns: the persons and households whose views changed, with old and new versions.
    @discardableResult
    public mutating func apply(_ logged: LoggedEvent) -> ProjectionEffect {
        let cause = DeltaCause(logged.event)
        guard logged.lsn > meta.lsn else { return ProjectionEffect(lsn: logged.lsn, cause: cause) }
        meta.lsn = logged.lsn
        var change = Change(lsn: logged.lsn)
        let event = scopedToMunicipality(logged.event)
        applyingMunicipality = event.source == EventValidator.operatorSource ? nil : event.municipality ?? homeMunicipality
        switch event.source {
        case "resident": applyResident(event, &change)
        case "tax": applyTax(event, &change)
        case "childcare": applyChildcare(event, &change)
        case "library": applyLibrary(event, &change)
        case EventValidator.operatorSource:
            if event.type == Self.findingExplainedType {
                applyFindingExplained(event, lsn: logged.lsn, recordedAt: logged.recordedAt)
            } else {
                applyOperator(event, &change)
            }
        default: break
        }
        rescoreChanged(&change)
        if !change.merges.isEmpty { retargetReviews(after: change.merges) }
        let effect = commit(change, cause: cause)
        // Every person the event touched, not only those whose view changed: a withdrawn second card
        // leaves the view as it was (it shows the active one) but ends a duplicate registration.
        reconcile(change.order, lsn: logged.lsn, recordedAt: logged.recordedAt)
        return effect
    }

    /// The persons an event touched, with what they looked like before it.
    struct Change {
        struct Before {
            /// What the view was made of; `nil` when created by this event.
            var parts: PersonViewParts?
            var memberOf: String?
            /// ``PersonRecord/linkedSources`` before the event.
            var linkedSources: [String] = []
        }
        var lsn: Int64
        var order: [String] = []
        var before: [String: Before] = [:]
        /// Uids whose links were decided by this event already (no rescoring).
        var decided: Set<String> = []
        /// Resident uids registered by this event (`reason`), for reverse scoring and 再転入.
        var registered: [(uid: String, reason: String)] = []
        var merges: [ProjectionEffect.Merge] = []
        var unlinks: [ProjectionEffect.Unlink] = []
    }

    /// Allocates the next uid, with an empty record created at `change.lsn`.
    mutating func allocate(_ change: inout Change, atenaNo: String? = nil) -> String {
        let uid = Self.formatUID(meta.nextUID)
        meta.nextUID += 1
        persons[uid] = PersonRecord(uid: uid, lsn: change.lsn, atenaNo: atenaNo)
        if let atenaNo { atenaIndex[atenaNo] = uid }
        change.order.append(uid)
        change.before[uid] = Change.Before(parts: nil, memberOf: nil)
        return uid
    }

    /// Mutates one person, remembering the view before the first mutation in this event.
    mutating func update(_ uid: String, _ change: inout Change, _ body: (inout PersonRecord) -> Void) {
        guard var record = persons[uid] else { return }
        if change.before[uid] == nil {
            change.order.append(uid)
            change.before[uid] = Change.Before(
                parts: PersonViewParts(record), memberOf: record.memberOf, linkedSources: record.linkedSources)
        }
        body(&record)
        persons[uid] = record
    }

    /// Links (`source`, `subject`) to `uid` unless it is already linked.
    mutating func addLink(_ link: PersonLink, to uid: String, _ change: inout Change) {
        let key = LinkKey(source: link.source, subject: link.subject)
        guard linkIndex[key] == nil else { return }
        linkIndex[key] = uid
        if link.source == "resident" { registryRecords += 1 }
        let municipality = applyingMunicipality
        update(uid, &change) { $0.records.append(SourceRecord(link: link, municipality: municipality)) }
    }

    /// Bumps versions of changed persons and refreshes the households they were or are in.
    private mutating func commit(_ change: Change, cause: DeltaCause) -> ProjectionEffect {
        var effect = ProjectionEffect(lsn: change.lsn, cause: cause)
        effect.merges = change.merges
        effect.unlinks = change.unlinks
        var touchedHouseholds: Set<String> = []
        // Households whose member gained or lost a source: a `linked_to` subscription's view of the
        // household changed, so the household gets a new version (and its delta a new id).
        var rescopedHouseholds: Set<String> = []
        for uid in change.order {
            guard var record = persons[uid], let before = change.before[uid] else { continue }
            dirtyPersons.insert(uid)
            let new = PersonViewParts(record)
            guard let old = before.parts else {
                if cachesViews { viewCache[uid] = new.json }
                dirtyLinks.insert(uid)
                if let new = record.memberOf { touchedHouseholds.insert(new) }
                reindex(uid, parts: new)
                effect.persons.append(.init(uid: uid, oldVersion: nil, newVersion: record.version))
                continue
            }
            // An unchanged view changes neither the person, nor their households, nor their profile.
            guard new.differs(from: old) else { continue }
            if cachesViews { viewCache[uid] = new.json }
            // A household is made of its members' membership, protection, tax and linked sources: a
            // move within it or a corrected postal code leaves it as it is.
            let rescoped = before.linkedSources != record.linkedSources
            if before.memberOf != record.memberOf || rescoped || new.differs(from: old, in: .household) {
                if let old = before.memberOf { touchedHouseholds.insert(old) }
                if let new = record.memberOf {
                    touchedHouseholds.insert(new)
                    if rescoped { rescopedHouseholds.insert(new) }
                }
            }
            // The match profile is made of a few view fields: a changed postal code, tax or library
            // record leaves the blocking index as it is.
            if new.differs(from: old, in: .profile) { reindex(uid, parts: new) }
            // The view lists every link (and none once merged away), so its `links` tell.
            if new.differs(from: old, in: .links) { dirtyLinks.insert(uid) }
            record.version += 1
            record.lsn = change.lsn
            persons[uid] = record
            effect.persons.append(.init(uid: uid, oldVersion: record.version - 1, newVersion: record.version))
            if before.memberOf != record.memberOf {
                if let old = before.memberOf { removeMember(uid, from: old) }
                if let new = record.memberOf { addMember(uid, to: new) }
            }
        }
        // Created persons may already be members (a resident record in one event).
        for uid in change.order where change.before[uid]?.parts == nil {
            if let new = persons[uid]?.memberOf { addMember(uid, to: new) }
        }
        for householdNo in touchedHouseholds.sorted() {
            if let householdChange = refreshHousehold(
                householdNo, lsn: change.lsn, rescoped: rescopedHouseholds.contains(householdNo))
            {
                effect.households.append(householdChange)
            }
        }
        return effect
    }
}
