import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

extension ProjectionService {
    /// Events per chunk a rebuild reads and parses ahead of applying them. Parsed events are large
    /// (a chunk of 10,000 added about 12 MiB to the peak RSS in the replay bench): three chunks of
    /// 2,000 in memory (two parsed ahead, one being applied) cost less than the one chunk of 10,000
    /// a rebuild held when it read the log itself.
    static let rebuildChunk = 2_000

    /// Rebuilds every view from lsn 1 (writer thread). Deltas go out only where a subscriber's copy
    /// differs from the rebuilt view, under the same delta ids.
    ///
    /// The views in memory are dropped first, keeping only their checkpoint (``lsn``, `projection_lsn`
    /// in `/v1/status`), so the old and the rebuilt views are never in memory together: person,
    /// household and review reads answer from the stored views, and no event is applied while the
    /// rebuild holds the writer thread. If the rebuild fails, its transaction leaves the stored views
    /// as they were, and they are loaded into memory again (``recover(_:)``) before the error is thrown.
    /// - Throws: what stopped the rebuild (reading the log, or writing the views).
    func rebuild(_ db: Database) throws {
        let target = try EventLog.head(in: db).lsn
        let began = wallClock.nowMs()
        lifecycle.withLock { $0.rebuildBegan(target: target, nowMs: began) }
        defer { lifecycle.withLock { $0.rebuildEnded() } }
        let checkpoint = lsn
        projection.withLock { views in
            views = Projection(
                restoring: [], households: [], meta: views.meta, thresholds: thresholds, weights: weights)
            views.homeMunicipality = homeMunicipality
        }
        // Views loaded after a start were allocated on the loader's thread, in another malloc arena than
        // the writer thread's: without a trim, their freed pages would stay resident beside the new views.
        ProcessMemory.releaseFreed()
        do {
            try rebuildViews(db, target: target)
        } catch {
            ProcessMemory.releaseFreed()
            if !recover(db) {
                // The placeholder holds no persons: applying events to it would take them for new people.
                lifecycle.withLock { $0.rebuildLeftNoViews(checkpoint: checkpoint) }
                logger.error(
                    "projection: after the failed rebuild the stored views could not be loaded again; no event "
                        + "is applied to them until renkeid is restarted (a start loads them, or rebuilds them "
                        + "from the log)")
            }
            throw error
        }
    }

    /// Builds the views of every event up to `target` in a fresh projection, replaces the stored
    /// views with them in one transaction, and installs them in memory.
    ///
    /// The log is read and parsed on a thread of its own (``LogChunkReader``, over its own read-only
    /// connection to the file the writer's connection opened), up to two chunks ahead: this thread
    /// applies chunk N while chunk N+1 is parsed.
    private func rebuildViews(_ db: Database, target: Int64) throws {
        var fresh = Projection(thresholds: thresholds, weights: weights)
        fresh.homeMunicipality = homeMunicipality
        // Each view is built once, in the pass below, not after every event (so no view cache grows).
        fresh.cachesViews = false
        let reader = LogChunkReader(
            databasePath: db.path, after: 0, through: target, chunkSize: Self.rebuildChunk, ahead: 2)
        defer { reader.stop() }
        while let chunk = try reader.next() {
            for event in chunk { _ = fresh.apply(vault.sealed(event)) }
            let done = chunk.last?.lsn ?? target
            let now = wallClock.nowMs()
            lifecycle.withLock { $0.rebuildProgressed(done: done, nowMs: now) }
        }
        try db.transaction {
            try ProjectionStore.clearViews(in: db)
            try ProjectionStore.saveDirty(fresh, in: db, persons: false)
            // One pass over the persons: each view is built once, written, and compared with what
            // every subscription holds.
            for (index, uid) in fresh.dirtyPersons.sorted().enumerated() {
                if index % 1000 == 0 { rebuildBeat() }
                guard let record = fresh.personRecord(uid) else { continue }
                let view = record.view
                try ProjectionStore.savePerson(record, view: view, in: db, links: .insert)
                try planDeltas(for: [uid], lsn: record.lsn, projection: fresh, db: db, view: view) {
                    try EventLog.cause(in: db, lsn: record.lsn)
                }
            }
            for (index, householdNo) in fresh.dirtyHouseholds.sorted().enumerated() {
                if index % 1000 == 0 { rebuildBeat() }
                guard let record = fresh.householdRecord(householdNo), let cause = try EventLog.cause(in: db, lsn: record.lsn)
                else { continue }
                try HouseholdDeltas.plan(
                    [householdNo], cause: cause, lsn: record.lsn, projection: fresh, policies: policies,
                    db: db, nowMs: wallClock.nowMs())
            }
        }
        // The transaction rewrote every view: its pages (gigabytes for a large city) sit in the WAL. Copy
        // them now, while the operator waits for the rebuild anyway, not in the next commit (a person
        // read waits for its access-log commit: 4.9 s after a restart at 1M residents).
        do {
            if try !db.checkpointAndTruncateWAL() {
                logger.info("projection: the WAL could not be emptied after the rebuild (a reader was busy); SQLite copies it later")
            }
        } catch {
            logger.warning("projection: checkpoint after the rebuild failed: \(error); SQLite copies the WAL later")
        }
        fresh.clearDirty()
        projection.withLock { $0 = fresh }
        lifecycle.withLock { $0.rebuildSucceeded() }
        onDeltas()
        logger.notice("projection: rebuilt \(fresh.personCount) persons from \(target) events")
    }

    /// The `rebuild` member of `/v1/status`.
    var rebuildJSON: JSONValue {
        guard let progress = lifecycle.withLock({ $0.rebuild }) else { return .null }
        return ["done_lsn": .integer(progress.done), "target_lsn": .integer(progress.target)]
    }

    /// Claims a rebuild for `POST /v1/rebuild` (see ``ProjectionLifecycle/rebuildRequested(nowMs:)``);
    /// ``startClaimedRebuild()`` then starts it, or ``abandonClaimedRebuild()`` gives the claim up.
    func claimRebuild() -> ProjectionLifecycle.RebuildRequestAction {
        let now = wallClock.nowMs()
        return lifecycle.withLock { $0.rebuildRequested(nowMs: now) }
    }

    /// Gives up a claimed rebuild that will not run.
    func abandonClaimedRebuild() {
        lifecycle.withLock { $0.rebuildAbandoned() }
    }

    /// Hands a claimed rebuild to the projector service, which runs it as a child task.
    func startClaimedRebuild() {
        if case .terminated = rebuildRequests.continuation.yield(()) {
            // The projector has stopped: the rebuild never runs.
            abandonClaimedRebuild()
        }
    }

    /// Runs one rebuild on the writer thread (the projector service's child task).
    func runRebuild(writer: LogWriter) async {
        do {
            try await writer.perform { db in try self.rebuild(db) }
        } catch {
            abandonClaimedRebuild()
            logger.error("rebuild failed: \(error); the previous views stay in place")
        }
    }
}
