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

/// The projection's lifecycle as one state machine (in the manner of swift-nio's
/// `ProtocolNegotiationHandlerStateMachine`): loading after a start, catching up, ready, a rebuild
/// with its progress and heartbeat, stopping. Its methods change the state and return what to do;
/// ``ProjectionService`` holds it under one lock and carries the actions out after releasing it.
struct ProjectionLifecycle: Sendable {
    /// A running rebuild.
    struct Rebuild: Sendable, Equatable {
        /// The last lsn applied (0 until the first chunk).
        var done: Int64
        /// The log's head when the rebuild began (0 while it is only claimed).
        var target: Int64
        /// When it last made progress (ms since 1970): a rebuild holds the writer thread for as long
        /// as it takes, and the watchdog counts it alive while this keeps moving.
        var heartbeatMs: Int64
    }

    private(set) var readiness: Readiness
    /// Set while a rebuild is claimed or runs.
    private(set) var rebuild: Rebuild?
    /// Set once the service stops: the loader and the catch-up stop at their next step.
    private(set) var isStopping = false

    /// - Parameter readiness: `.ready` for a fresh state, else `.loading` at the stored checkpoint.
    init(readiness: Readiness) {
        self.readiness = readiness
    }

    /// Whether committed events are applied as they come.
    var isLive: Bool { readiness == .ready }

    /// The lsn the views are known to have reached when the views in memory do not tell it (while loading).
    var checkpointWhileLoading: Int64? {
        if case .loading(let checkpoint) = readiness { return checkpoint }
        return nil
    }

    // MARK: Loading after a start

    enum StartAction: Equatable {
        /// Read the stored views at this checkpoint on the loader thread.
        case startLoader(checkpoint: Int64)
        /// Nothing to load (a fresh state is live at once).
        case none
    }

    /// The projector service starts.
    mutating func start() -> StartAction {
        guard !isStopping, case .loading(let checkpoint) = readiness else { return .none }
        return .startLoader(checkpoint: checkpoint)
    }

    enum LoadedAction: Equatable {
        /// Install the loaded views and catch up with the log.
        case install
        /// The stored views could not be read: rebuild them from the log.
        case rebuildFromLog
        /// Stopping: drop what was read.
        case discard
    }

    /// The loader thread has finished.
    /// - Parameter readable: whether the stored views were read.
    mutating func loaded(readable: Bool) -> LoadedAction {
        if isStopping { return .discard }
        return readable ? .install : .rebuildFromLog
    }

    /// The loaded views are in memory (writer thread): the catch-up begins.
    mutating func installed() {
        readiness = .catchingUp
    }

    enum CatchUpAction: Equatable {
        /// Apply the next chunk.
        case continueCatchingUp
        /// Live: announce it.
        case announceLive
        /// Stopping: leave the rest to the next start.
        case stop
    }

    /// One catch-up chunk was applied (writer thread).
    /// - Parameter reachedHead: whether it was the last (shorter than a whole chunk).
    mutating func caughtUpChunk(reachedHead: Bool) -> CatchUpAction {
        if reachedHead {
            readiness = .ready
            return .announceLive
        }
        return isStopping ? .stop : .continueCatchingUp
    }

    /// The views were recovered from the stored checkpoint and caught up (after a database error):
    /// they are live whatever happened.
    mutating func recovered() {
        readiness = .ready
    }

    // MARK: Rebuilds

    enum RebuildRequestAction: Equatable {
        /// Claimed: record the request and start it.
        case start
        /// `503`: the views are still loading after the start.
        case refuseLoading(state: String)
        /// `409`: one is running.
        case refuseRunning
    }

    /// `POST /v1/rebuild`: claims the rebuild, so a second request answers `409` even before the
    /// rebuild reaches the writer thread.
    mutating func rebuildRequested(nowMs: Int64) -> RebuildRequestAction {
        guard isLive else { return .refuseLoading(state: readiness.name) }
        guard rebuild == nil else { return .refuseRunning }
        rebuild = Rebuild(done: 0, target: 0, heartbeatMs: nowMs)
        return .start
    }

    /// A claimed rebuild will not run (its request could not be audited, or the service stops).
    mutating func rebuildAbandoned() {
        rebuild = nil
    }

    /// The rebuild holds the writer thread and reads up to `target`.
    mutating func rebuildBegan(target: Int64, nowMs: Int64) {
        rebuild = Rebuild(done: 0, target: target, heartbeatMs: nowMs)
    }

    /// A chunk of the log was applied by the rebuild.
    mutating func rebuildProgressed(done: Int64, nowMs: Int64) {
        rebuild?.done = done
        rebuild?.heartbeatMs = nowMs
    }

    /// Long work on the writer thread (a rebuild's writing, a reload of the views) is still moving.
    mutating func beat(nowMs: Int64) {
        rebuild?.heartbeatMs = nowMs
    }

    /// The rebuilt views are installed: live.
    mutating func rebuildSucceeded() {
        readiness = .ready
    }

    /// The rebuild failed and the stored views could not be loaded again either: nothing is
    /// applied to the empty placeholder until a restart loads them (``Readiness/loading(checkpoint:)``).
    mutating func rebuildLeftNoViews(checkpoint: Int64) {
        readiness = .loading(checkpoint: checkpoint)
    }

    /// The rebuild is over, whatever came of it.
    mutating func rebuildEnded() {
        rebuild = nil
    }

    /// Whether a running rebuild made progress within `boundMs` of `nowMs` (the watchdog's question).
    func rebuildIsAdvancing(nowMs: Int64, boundMs: Int64) -> Bool {
        guard let rebuild else { return false }
        return nowMs - rebuild.heartbeatMs <= boundMs
    }

    // MARK: Stopping

    enum StopAction: Equatable {
        /// Tell the loader thread to stop reading.
        case cancelLoader
        case none
    }

    /// The service stops.
    mutating func stop() -> StopAction {
        let wasLoading = !isStopping && checkpointWhileLoading != nil
        isStopping = true
        return wasLoading ? .cancelLoader : .none
    }
}
