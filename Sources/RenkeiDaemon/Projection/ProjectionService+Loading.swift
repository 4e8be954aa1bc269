import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

extension ProjectionService {
    /// Events applied per writer turn while catching up, so appends interleave with the catch-up.
    static let catchUpChunk = 5000

    /// Reads the stored views into memory on a thread of its own (a read-only connection, one read
    /// transaction, so it sees exactly the checkpoint), then catches up with the log on the writer
    /// thread a chunk at a time, and goes live. Nothing happens unless the views are loading.
    ///
    /// If the stored views cannot be read, they are rebuilt from the log instead (on the writer thread).
    /// Returns when the views are live, or when the service stops (``stop()``) part-way.
    func loadAndGoLive(databasePath: String, writer: LogWriter) async {
        guard case .startLoader(let checkpoint) = lifecycle.withLock({ $0.start() }) else { return }
        let loaded = await readStoredViews(databasePath: databasePath, checkpoint: checkpoint)
        switch lifecycle.withLock({ $0.loaded(readable: loaded != nil) }) {
        case .discard: return
        case .rebuildFromLog, .install: await goLive(loaded, writer: writer)
        }
    }

    /// The loader thread's work, awaited without holding a task of the pool while it reads.
    /// - Returns: the views, or `nil` when they could not be read (or the service stopped).
    private func readStoredViews(databasePath: String, checkpoint: Int64) async -> Projection? {
        let thresholds = thresholds
        let weights = weights
        return await withCheckedContinuation { (continuation: CheckedContinuation<Projection?, Never>) in
            let thread = Thread { [self] in
                let clock = ContinuousClock()
                let started = clock.now
                let loaded: Projection?
                do {
                    let db = try Database(path: databasePath, readOnly: true)
                    try db.execute("BEGIN")
                    defer { try? db.execute("COMMIT") }
                    var stored = try ProjectionStore.load(from: db, thresholds: thresholds, weights: weights) {
                        self.lifecycle.withLock { $0.isStopping }
                    }
                    stored.homeMunicipality = homeMunicipality
                    loaded = stored
                } catch {
                    if !lifecycle.withLock({ $0.isStopping }) {
                        logger.error("projection: the stored views could not be read (\(error)); rebuilding them from the log")
                    }
                    continuation.resume(returning: nil)
                    return
                }
                if let loaded, !lifecycle.withLock({ $0.isStopping }) {
                    let elapsed = clock.now - started
                    let seconds = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
                    logger.notice(
                        "projection: loaded \(loaded.personCount) persons at lsn \(loaded.lsn) (checkpoint \(checkpoint)) in "
                            + String(format: "%.2f", seconds) + " s; catching up with the log")
                }
                continuation.resume(returning: loaded)
            }
            thread.name = "renkei-views-loader"
            thread.start()
        }
    }

    /// The service stops: a running load stops reading, the catch-up stops at its next chunk.
    func stop() {
        switch lifecycle.withLock({ $0.stop() }) {
        case .cancelLoader: logger.info("projection: stopping while the views load; the next start loads them again")
        case .none: break
        }
        rebuildRequests.continuation.finish()
    }

    /// Installs `loaded` and applies the log after it, one chunk per writer turn; `nil` rebuilds.
    private func goLive(_ loaded: Projection?, writer: LogWriter) async {
        let stopping = { self.lifecycle.withLock { $0.isStopping } }
        do {
            guard let loaded else {
                try await writer.perform { db in try self.rebuild(db) }
                return
            }
            try await writer.perform { _ in
                self.projection.withLock { $0 = loaded }
                self.lifecycle.withLock { $0.installed() }
            }
            var applied: Int64 = 0
            while true {
                let (count, action) = try await writer.perform { db in try self.catchUpStep(db) }
                applied += Int64(count)
                switch action {
                case .continueCatchingUp: continue
                case .stop: return
                case .announceLive:
                    logger.notice("projection: live at lsn \(lsn) (\(applied) event(s) applied after the checkpoint)")
                    return
                }
            }
        } catch {
            // `closed`: the service is stopping; anything else was logged where it happened.
            if !stopping() { logger.error("projection: could not go live: \(error)") }
        }
    }

    /// Applies up to ``catchUpChunk`` events after the views' lsn (writer thread); at the head, the
    /// views go live in the same turn, so no commit can fall between the two.
    /// - Returns: how many events were applied, and what to do next.
    private func catchUpStep(_ db: Database) throws -> (Int, ProjectionLifecycle.CatchUpAction) {
        let chunk = try EventLog.read(in: db, after: projection.withLock { $0.lsn }, limit: Self.catchUpChunk)
        if !chunk.isEmpty {
            do {
                try apply(chunk, in: db)
            } catch {
                logger.error("projection: could not save the views while catching up: \(error); reloading and catching up")
                recover(db)
                return (chunk.count, .stop)
            }
            onDeltas()
        }
        let reachedHead = chunk.count < Self.catchUpChunk
        return (chunk.count, lifecycle.withLock { $0.caughtUpChunk(reachedHead: reachedHead) })
    }
}

/// The projector as a service: loads the views after a start and catches up, then runs the
/// rebuilds asked for on the status socket, each as a child task. On cancellation the load stops
/// at its next step; a rebuild on the writer thread cannot be interrupted and is waited for.
///
/// Applying committed events is not a task of its own: it happens on the log writer's thread, in
/// the commit handler (``ProjectionService/handleCommit(_:events:)``).
struct ProjectorService: Service {
    let projection: ProjectionService
    let databasePath: String
    let writer: LogWriter

    var name: String { "projector" }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await projection.loadAndGoLive(databasePath: databasePath, writer: writer) }
            // Ends when the task is cancelled.
            for await _ in projection.rebuildRequests.stream {
                group.addTask { await projection.runRebuild(writer: writer) }
            }
            projection.stop()
        }
    }
}
