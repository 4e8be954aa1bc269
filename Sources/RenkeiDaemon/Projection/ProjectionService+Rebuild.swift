import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

extension ProjectionService {
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
        rebuildProgress.withLock { $0 = (0, target) }
        rebuildBeat()
        defer { rebuildProgress.withLock { $0 = nil } }
        let checkpoint = lsn
        projection.withLock { views in
            views = Projection(restoring: [], households: [], meta: views.meta, thresholds: thresholds, weights: weights)
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
                readiness.withLock { $0 = .loading(checkpoint: checkpoint) }
                logger.error(
                    "projection: after the failed rebuild the stored views could not be loaded again; no event is "
                        + "applied to them until renkeid is restarted (a start loads them, or rebuilds them from the log)")
            }
            throw error
        }
    }

    /// Builds the views of every event up to `target` in a fresh projection, replaces the stored
    /// views with them in one transaction, and installs them in memory.
    private func rebuildViews(_ db: Database, target: Int64) throws {
        var fresh = Projection(thresholds: thresholds, weights: weights)
        // Each view is built once, in the pass below, not after every event.
        fresh.cachesViews = false
        var after: Int64 = 0
        while after < target {
            let chunk = try EventLog.read(in: db, after: after, limit: 10_000)
            guard let last = chunk.last else { break }
            for event in chunk where event.lsn <= target { _ = fresh.apply(event) }
            fresh.dropViewCache()
            after = last.lsn
            rebuildProgress.withLock { $0 = (min(after, target), target) }
            rebuildBeat()
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
                    db: db, nowMs: Timestamp.nowMs())
            }
        }
        fresh.clearDirty()
        projection.withLock { $0 = fresh }
        readiness.withLock { $0 = .ready }
        onDeltas()
        logger.notice("projection: rebuilt \(fresh.personCount) persons from \(target) events")
    }

    /// The `rebuild` member of `/v1/status`.
    var rebuildJSON: JSONValue {
        guard let progress = rebuildProgress.withLock({ $0 }) else { return .null }
        return ["done_lsn": .integer(progress.done), "target_lsn": .integer(progress.target)]
    }
}
