import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

/// Where the views in memory stand after a start (`projection_state` in `/v1/status`).
///
/// renkeid sends `READY=1` as soon as the log is open: reading a large city's stored views into
/// memory takes seconds, and the log never waits for it. Meanwhile events are accepted and logged
/// durably as always; the stored views (what person, household and review reads answer from)
/// stay at the checkpoint until the views are loaded and have caught up with the log.
enum Readiness: Sendable, Equatable {
    /// The stored views (at lsn `checkpoint`) are being read into memory on a thread of their own.
    case loading(checkpoint: Int64)
    /// In memory; the events logged after the checkpoint are being applied, a chunk per writer turn.
    case catchingUp
    /// Every committed event is applied as it is committed.
    case ready

    /// `loading`, `catching_up` or `ready`.
    var name: String {
        switch self {
        case .loading: return "loading"
        case .catchingUp: return "catching_up"
        case .ready: return "ready"
        }
    }
}

extension ProjectionService {
    /// Events applied per writer turn while catching up, so appends interleave with the catch-up.
    static let catchUpChunk = 5000

    /// Reads the stored views into memory on a thread of its own (a read-only connection, one read
    /// transaction, so it sees exactly the checkpoint), then catches up with the log on the writer
    /// thread a chunk at a time, and goes live. Nothing happens unless ``readiness`` is `.loading`.
    ///
    /// If the stored views cannot be read, they are rebuilt from the log instead (on the writer thread).
    func startLoading(databasePath: String, writer: LogWriter) {
        guard case .loading(let checkpoint) = readiness.withLock({ $0 }) else { return }
        let thresholds = thresholds
        let weights = weights
        let service = self
        let thread = Thread {
            let clock = ContinuousClock()
            let started = clock.now
            let loaded: Projection?
            do {
                let db = try Database(path: databasePath, readOnly: true)
                try db.execute("BEGIN")
                defer { try? db.execute("COMMIT") }
                loaded = try ProjectionStore.load(from: db, thresholds: thresholds, weights: weights) {
                    service.loadCancelled.load(ordering: .relaxed)
                }
            } catch {
                if service.loadCancelled.load(ordering: .relaxed) { return }
                service.logger.error(
                    "projection: the stored views could not be read (\(error)); rebuilding them from the log")
                loaded = nil
            }
            if service.loadCancelled.load(ordering: .relaxed) { return }
            if let loaded {
                let seconds = Double((clock.now - started).components.attoseconds) / 1e18
                    + Double((clock.now - started).components.seconds)
                service.logger.notice(
                    "projection: loaded \(loaded.personCount) persons at lsn \(loaded.lsn) (checkpoint \(checkpoint)) in "
                        + String(format: "%.2f", seconds) + " s; catching up with the log")
            }
            Task { await service.goLive(loaded, writer: writer) }
        }
        thread.name = "renkei-views-loader"
        thread.start()
    }

    /// Asks a running load to stop (the service is stopping).
    func cancelLoading() {
        loadCancelled.store(true, ordering: .relaxed)
    }

    /// Installs `loaded` and applies the log after it, one chunk per writer turn; `nil` rebuilds.
    private func goLive(_ loaded: Projection?, writer: LogWriter) async {
        do {
            guard let loaded else {
                try await writer.perform { db in try self.rebuild(db) }
                return
            }
            try await writer.perform { _ in
                self.projection.withLock { $0 = loaded }
                self.readiness.withLock { $0 = .catchingUp }
            }
            var applied: Int64 = 0
            while !loadCancelled.load(ordering: .relaxed) {
                let (count, done) = try await writer.perform { db in try self.catchUpStep(db) }
                applied += Int64(count)
                if done { break }
            }
            if !loadCancelled.load(ordering: .relaxed) {
                logger.notice("projection: live at lsn \(lsn) (\(applied) event(s) applied after the checkpoint)")
            }
        } catch {
            // `closed`: the service is stopping; anything else was logged where it happened.
            if !loadCancelled.load(ordering: .relaxed) { logger.error("projection: could not go live: \(error)") }
        }
    }

    /// Applies up to ``catchUpChunk`` events after the views' lsn (writer thread); at the head, the
    /// views go live in the same turn, so no commit can fall between the two.
    /// - Returns: how many events were applied, and whether the views are live now.
    private func catchUpStep(_ db: Database) throws -> (Int, Bool) {
        let chunk = try EventLog.read(in: db, after: projection.withLock { $0.lsn }, limit: Self.catchUpChunk)
        if !chunk.isEmpty {
            do {
                try apply(chunk, in: db)
            } catch {
                logger.error("projection: could not save the views while catching up: \(error); reloading and catching up")
                recover(db)
                return (chunk.count, true)
            }
            onDeltas()
        }
        guard chunk.count < Self.catchUpChunk else { return (chunk.count, false) }
        readiness.withLock { $0 = .ready }
        return (chunk.count, true)
    }
}
