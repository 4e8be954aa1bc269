import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

/// Keeps the projection in step with the log, and turns every view change into planned deltas.
///
/// All of its database work runs on the log writer's thread (the commit handler and
/// `LogWriter.perform`), so projection rows, sent states and outbox rows are written in one
/// transaction per log batch, after the batch's own commit.
final class ProjectionService: Sendable {
    /// The views in memory, used on the writer thread to apply events; while a rebuild runs, only a
    /// placeholder holding their checkpoint (see ``rebuild(_:)``).
    let projection: Mutex<Projection>
    let policies: [SubscriptionPolicy]
    let logger: Logger
    let onDeltas: @Sendable () -> Void
    /// Loading, catching up, ready, rebuilding, stopping: one state machine under one lock (see
    /// ``ProjectionLifecycle``); the work its actions ask for is done here and in the `+Loading` and
    /// `+Rebuild` files.
    let lifecycle: Mutex<ProjectionLifecycle>
    /// Where timestamps come from (the outbox's `created_at`, the rebuild's heartbeat).
    let wallClock: WallClock
    /// `POST /v1/rebuild` requests, for the projector service (``ProjectorService``) to run.
    let rebuildRequests = AsyncStream<Void>.makeStream()

    /// Long work on the writer thread is still moving (the watchdog's heartbeat of a rebuild).
    func rebuildBeat() {
        let now = wallClock.nowMs()
        lifecycle.withLock { $0.beat(nowMs: now) }
    }
    /// `linking` from the configuration, for rebuilds.
    let thresholds: LinkingThresholds
    /// `linking.weights` from the configuration, for rebuilds.
    let weights: MatchWeights
    /// Seals a plain `my_number` met in an event logged before numbers were sealed at ingest.
    let vault: MyNumberVault
    /// The configured `municipality`: numbers of events from other municipalities are scoped
    /// (``Projection/homeMunicipality``), for every projection this service builds.
    let homeMunicipality: String?

    /// - Parameters:
    ///   - projection: the views in memory; ignored (replaced by what ``startLoading(databasePath:writer:)``
    ///     reads) when `readiness` is `.loading`.
    ///   - readiness: `.ready` when `projection` is the whole state (nothing stored yet), else
    ///     `.loading` with the stored checkpoint.
    init(
        projection: Projection, policies: [SubscriptionPolicy], logger: Logger,
        thresholds: LinkingThresholds = LinkingThresholds(), weights: MatchWeights = .standard,
        readiness: Readiness = .ready, vault: MyNumberVault, wallClock: WallClock = .system,
        homeMunicipality: String? = nil, onDeltas: @escaping @Sendable () -> Void
    ) {
        var projection = projection
        projection.homeMunicipality = homeMunicipality
        self.homeMunicipality = homeMunicipality
        self.projection = Mutex(projection)
        self.vault = vault
        self.thresholds = thresholds
        self.weights = weights
        self.policies = policies.sorted { $0.name < $1.name }
        self.logger = logger
        self.lifecycle = Mutex(ProjectionLifecycle(readiness: readiness))
        self.wallClock = wallClock
        self.onDeltas = onDeltas
    }

    /// The lsn the views (stored and in memory) have reached: the stored checkpoint while loading.
    var lsn: Int64 {
        if let checkpoint = lifecycle.withLock({ $0.checkpointWhileLoading }) { return checkpoint }
        return projection.withLock { $0.lsn }
    }

    /// Where the views stand (`projection_state`).
    var readiness: Readiness { lifecycle.withLock { $0.readiness } }

    /// Whether events are applied as they are committed (``Readiness/ready``).
    var isLive: Bool { lifecycle.withLock { $0.isLive } }

    /// Applies newly committed events (writer thread). On a database error the in-memory state is
    /// reloaded from the last saved checkpoint and caught up from the log.
    ///
    /// While the views load after a start (not ``isLive``), nothing is applied here: the events are in
    /// the log, and the catch-up that follows the load applies them.
    func handleCommit(_ db: Database, events: [LoggedEvent]) {
        guard isLive else { return }
        do {
            try apply(events, in: db)
        } catch {
            logger.error("projection: could not save the views after lsn \(events.last?.lsn ?? 0): \(error); reloading and catching up")
            recover(db)
        }
        onDeltas()
    }

    func apply(_ events: [LoggedEvent], in db: Database) throws {
        try db.transaction {
            try projection.withLock { projection in
                for event in events where event.lsn > projection.lsn {
                    let effect = projection.apply(vault.sealed(event))
                    try planDeltas(
                        for: effect.persons.map(\.uid), lsn: event.lsn, projection: projection, db: db, effect: effect,
                        cause: { effect.cause })
                    try HouseholdDeltas.plan(
                        Self.householdsToPlan(effect, projection: projection, policies: policies), cause: effect.cause, lsn: event.lsn,
                        projection: projection, policies: policies, db: db, nowMs: wallClock.nowMs(),
                        causeConcernsProtected: effect.persons.contains { projection.personRecord($0.uid)?.isProtected == true })
                }
                try ProjectionStore.saveDirty(projection, in: db)
                projection.clearDirty()
            }
        }
    }

    /// The households an event changed, plus — when a subscription hears of households only through
    /// `linked_to` — the households of every person it changed: a new link can bring a member into
    /// such a subscription's scope without changing the household itself. Planning compares with what
    /// each subscription was sent, so this sends only real differences — the same ones a rebuild would
    /// find. Without such a subscription, a household whose record did not change looks the same to
    /// every subscriber, and is not planned again.
    static func householdsToPlan(_ effect: ProjectionEffect, projection: Projection, policies: [SubscriptionPolicy]) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for householdNo in effect.households.map(\.householdNo) where seen.insert(householdNo).inserted {
            result.append(householdNo)
        }
        let scopedByLinks = policies.contains {
            $0.linkedTo != nil && $0.receives(HouseholdDeltas.kind) && $0.fields.contains("household_no")
        }
        guard scopedByLinks else { return result }
        for change in effect.persons {
            guard let householdNo = projection.personRecord(change.uid)?.memberOf else { continue }
            if seen.insert(householdNo).inserted { result.append(householdNo) }
        }
        return result
    }

    /// Plans and queues the deltas of `uids` for every subscription.
    ///
    /// A subscription whose stored state already holds what it may see of the person (most of them,
    /// for most events, and nearly all during a rebuild) is skipped without parsing that state.
    /// - Parameter cause: the event behind the change, asked for only when a delta is planned; `nil`
    ///   skips the uid (its event is not in the log).
    func planDeltas(
        for uids: [String], lsn: Int64, projection: Projection, db: Database, effect: ProjectionEffect? = nil,
        view knownView: JSONObject? = nil, cause: () throws -> DeltaCause?
    ) throws {
        let now = wallClock.nowMs()
        var known: DeltaCause??
        func resolvedCause() throws -> DeltaCause? {
            if let known { return known }
            let loaded = try cause()
            known = .some(loaded)
            return loaded
        }
        for uid in uids {
            guard let view = knownView ?? projection.personView(uid) else { continue }
            let merge = effect?.merges.last { $0.retired == uid }
                ?? view["merged_into"]?.stringValue.map { ProjectionEffect.Merge(retired: uid, kept: projection.resolve($0)) }
            let unlink = effect?.unlinks.first { $0.uid == uid }
            for policy in policies {
                let stored: [UInt8]?
                if merge == nil && unlink == nil {
                    guard DeltaPlanner.inScope(policy: policy, view: view) else { continue }
                    stored = try ProjectionStore.sentStateBytes(subscription: policy.name, uid: uid, in: db)
                    if DeltaPlanner.leavesUnchanged(policy: policy, view: view, stored: stored) { continue }
                } else {
                    stored = try ProjectionStore.sentStateBytes(subscription: policy.name, uid: uid, in: db)
                }
                let previous = try stored.map { bytes in try SentState(decoding: bytes) }
                guard let cause = try resolvedCause() else { break }
                let plan: (delta: PlannedDelta?, newState: SentState?)
                if let merge {
                    if previous?.visible["merged_into"] != nil { continue }
                    plan = DeltaPlanner.planMerged(
                        policy: policy, retired: uid, kept: merge.kept, version: view["version"]?.integerValue ?? 0,
                        keptView: projection.personView(merge.kept) ?? [:], previous: previous, cause: cause, lsn: lsn)
                } else if let unlink {
                    plan = DeltaPlanner.planUnlinked(
                        policy: policy, uid: uid, newUID: unlink.newUID, view: view, previous: previous, cause: cause, lsn: lsn)
                } else {
                    plan = DeltaPlanner.plan(policy: policy, uid: uid, view: view, previous: previous, cause: cause, lsn: lsn)
                }
                if let state = plan.newState, state != previous {
                    try ProjectionStore.putSentState(state, subscription: policy.name, uid: uid, in: db)
                }
                if let delta = plan.delta {
                    try Outbox.enqueue(delta, in: db, nowMs: now)
                }
            }
        }
    }

    /// Reloads the saved projection and applies whatever the log holds beyond it (start-up, recovery,
    /// and after a failed rebuild). The views are live afterwards, even when this fails (then they may
    /// lag the log, which the error logged says).
    ///
    /// It keeps a failed rebuild's heartbeat moving (``rebuildBeat()``), so the watchdog does not take
    /// the reload of a large city's views for a stuck writer.
    /// - Returns: whether the stored views were loaded into memory (catching up may still have failed).
    @discardableResult
    func recover(_ db: Database) -> Bool {
        defer { lifecycle.withLock { $0.recovered() } }
        var loaded = false
        do {
            // `isCancelled` is asked every 1,000 persons: a beat, never a cancellation.
            var stored = try ProjectionStore.load(from: db, thresholds: thresholds, weights: weights) {
                self.rebuildBeat()
                return false
            }
            stored.homeMunicipality = homeMunicipality
            projection.withLock { $0 = stored }
            loaded = true
            try catchUp(db)
        } catch {
            logger.error("projection: recovery failed: \(error); views may lag the log until `renkeictl rebuild`")
        }
        return loaded
    }

    /// Applies log events after the projection's checkpoint, in chunks.
    func catchUp(_ db: Database) throws {
        while true {
            let after = lsn
            let chunk = try EventLog.read(in: db, after: after, limit: 5000)
            if chunk.isEmpty { return }
            try apply(chunk, in: db)
            rebuildBeat()
        }
    }
}
