public import Foundation
public import RenkeiCore
import RenkeiHTTP
import RenkeiStore
public import RenkeiSystem
import Synchronization

/// The running daemon: log writer, projection, ingest, delivery and the status socket, wired
/// together and started and stopped in order.
public final class RenkeiService: Sendable {
    /// The daemon's version, as `/v1/status` reports it.
    public static let version = "0.1.0"

    let configuration: Configuration
    let logger: Logger
    let databasePath: String
    let writer: LogWriter
    /// The store's threads for blocking reads (status routes, delivery lanes, verify, backup).
    let store: StoreExecutor
    let ingestor: Ingestor
    let spool: SpoolIngest
    // Issue 5 (push and pull ingest): the listener on `ingest_listen` and one puller per `pull` source.
    let push: PushIngest?
    let pulls: [PullSource]
    let projection: ProjectionService
    let delivery: DeliveryService
    let client: HTTPClient
    /// The at-rest data key of `my_number` and the key file it was unwrapped with (see ``AtRestKeyStore``).
    let atRest: Mutex<AtRestKeyStore.Opened>
    let startedAt: Date
    /// What the services' sleeps and timers run on (``ContinuousClock`` in the daemon).
    let clock: any Clock<Duration>
    /// Where the services' timestamps come from.
    let wallClock: WallClock
    /// Who may do what on the status socket (``StatusAccess``), from the configured groups.
    let access: StatusAccess
    /// The log's head when this process opened it: per-source counters are seeded from the log up
    /// to here (``seedSourceCounters()``), and count live appends after it.
    let startHead: Int64
    /// How long deliveries in flight may still take once the lanes stop: set when a stop begins
    /// (``beginStop(deadline:)``).
    private let stopGrace = StopGrace()
    /// The group ``start()`` runs, for ``stop(deadline:)``.
    private let embedded = Mutex<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)
    /// The group of ``makeGroup()``, for ``beginStop(deadline:)``.
    private let group = Mutex<ServiceGroup?>(nil)
    /// The console of the running group (issue 18), for tests' bound port.
    let console = Mutex<ConsoleServer?>(nil)

    /// Opens the state and checks everything that can be checked before serving: the schemas,
    /// the secrets, the database. Projection catches up with the log here.
    /// - Throws: ``RenkeiError`` or a store error, with a message naming what to fix.
    public convenience init(configuration: Configuration, logger: Logger) async throws {
        try await self.init(configuration: configuration, logger: logger, deliveryQueueWindow: DeliveryService.defaultQueueWindow)
    }

    /// - Parameter deliveryQueueWindow: see ``DeliveryService/defaultQueueWindow`` (tests make it small).
    /// - Parameters:
    ///   - clock: what the services' sleeps and timers run on (tests pass a ``ManualClock``).
    ///   - wallClock: where timestamps come from.
    init(
        configuration: Configuration, logger: Logger, deliveryQueueWindow: Int,
        clock: any Clock<Duration> = ContinuousClock(), wallClock: WallClock = .system
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
        startedAt = wallClock.now()
        access = try StatusAccess(configuration: configuration)
        let schemas = try Self.loadSchemas(from: configuration.schemasDirectory)
        let validator = EventValidator(schemas: schemas)
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: StateFiles.folderMode])
        } catch {
            throw RenkeiError(.io, "cannot create state_dir \(configuration.stateDirectory): check ownership (systemd: StateDirectory=renkei)", cause: error)
        }
        databasePath = configuration.stateDirectory + "/renkei.db"
        store = StoreExecutor(path: databasePath)
        StateFiles.restrictModes(databasePath: databasePath, logger: logger)
        // The key file is checked before the database is opened: a daemon without it never starts.
        let kek = try AtRestKeyStore.loadKeyFile(configuration.atRestKeyFile)
        writer = try LogWriter(path: databasePath)
        // Only the views' checkpoint is read here: the views themselves load after READY=1 (see
        // `Readiness`), so a restart over a large log is ready in well under a second.
        // Opening the writer brought the schema to the current version (``StateSchema``).
        let (checkpoint, head, paused) = try await writer.perform { db in
            (
                try ProjectionStore.checkpoint(in: db), try EventLog.head(in: db).lsn,
                try Outbox.pausedSubscriptions(in: db)
            )
        }
        // Issue 17: the modes this start runs with; a subscription switched from shadow to live keeps
        // back what it planned in shadow (before its lane reads the outbox and anything new is planned).
        let modes = configuration.subscriptions.mapValues(\.mode.rawValue)
        let keptBack = try await writer.perform { db in try Outbox.applyModes(modes, in: db) }
        for (name, count) in keptBack.sorted(by: { $0.key < $1.key }) {
            logger.notice(
                "subscription \(name): switched from shadow to live; \(count) delta(s) planned in shadow and not recorded yet are kept back "
                    + "(shadowed), nothing is sent retroactively; renkeictl subscription replay \(name) --from-lsn N sends from lsn N")
        }
        let keyFile = configuration.atRestKeyFile
        let opened = try await writer.perform { db in try AtRestKeyStore.open(kek: kek, keyFile: keyFile, in: db) }
        for note in opened.notes { logger.notice(note) }
        atRest = Mutex(opened)
        let vault = MyNumberVault(cipher: opened.cipher)
        startHead = head
        let subscriptions = configuration.subscriptions.values.sorted { $0.policy.name < $1.policy.name }
        client = HTTPClient(maxConnections: 64)
        let delivery = try DeliveryService(
            subscriptions: subscriptions, paused: paused, writer: writer, store: store, client: client,
            vault: vault, logger: logger.labelled("delivery"), queueWindow: deliveryQueueWindow, wallClock: wallClock, clock: clock)
        self.delivery = delivery
        // A fresh state (no views stored, empty log) is live at once; otherwise the views load in the background.
        projection = ProjectionService(
            projection: Projection(thresholds: configuration.linkingThresholds, weights: configuration.matchWeights),
            policies: subscriptions.map(\.policy), logger: logger.labelled("projection"),
            thresholds: configuration.linkingThresholds, weights: configuration.matchWeights,
            readiness: checkpoint == nil && head == 0 ? .ready : .loading(checkpoint: checkpoint ?? 0),
            vault: vault, wallClock: wallClock, homeMunicipality: configuration.municipality, onDeltas: { delivery.wake() })
        let statistics = SourceStatistics(
            sources: configuration.sources.keys,
            withGaijiTables: Set(configuration.sources.values.filter { $0.gaijiFile != nil }.map(\.name)))
        ingestor = Ingestor(
            validator: validator, writer: writer, statistics: statistics, configuredSources: Set(configuration.sources.keys),
            vault: vault, logger: logger.labelled("ingest"), wallClock: wallClock,
            gaijiTables: configuration.sources.mapValues(\.gaiji), municipality: configuration.municipality)
        spool = SpoolIngest(sources: Array(configuration.sources.values), ingestor: ingestor, logger: logger.labelled("spool"))
        try spool.prepareFolders()
        // Issue 5: push listener and pullers (token files and pull settings are checked here, at start-up).
        let allSources = configuration.sources.values.sorted { $0.name < $1.name }
        if let listen = configuration.ingestListen {
            // Issue 13: HTTPS with ingest_tls, and the connection caps.
            push = try PushIngest(
                listen: listen, sources: allSources, ingestor: ingestor, limits: PushIngest.limits(for: configuration),
                tls: configuration.ingestTLS, logger: logger.labelled("push"))
        } else {
            push = nil
        }
        var pulls: [PullSource] = []
        for source in allSources {
            guard let pull = source.pull else { continue }
            pulls.append(
                try PullSource(
                    source: source.name, pull: pull,
                    rejectedFolder: PullSource.rejectedFolder(for: source, stateDirectory: configuration.stateDirectory),
                    ingestor: ingestor, client: client, logger: logger.labelled("pull"), clock: clock, wallClock: wallClock))
        }
        self.pulls = pulls
        let projection = projection
        // Issue 14: `linking.estimate_at_records`, checked after each batch the projection applies.
        let autoEstimate = AutoEstimate(
            sizes: configuration.linkingEstimateAtRecords,
            estimator: LinkingEstimator(
                store: store,
                decisions: OperatorDecisions(validator: validator, writer: writer, operatorUID: UserDatabase.effectiveUserID),
                sameHousehold: configuration.matchWeights.sameHousehold, logger: logger.labelled("linking")))
        writer.setCommitHandler { db, events in
            projection.handleCommit(db, events: events)
            autoEstimate.check(projection)
        }
    }

    /// Reads every `*.json` under the schemas folder.
    static func loadSchemas(from directory: String) throws(RenkeiError) -> SchemaSet {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw RenkeiError(.invalidConfiguration, "schemas_dir \(directory): cannot read the folder (install Schemas/ there, or set schemas_dir)")
        }
        var files: [String: [UInt8]] = [:]
        while let name = enumerator.nextObject() as? String {
            guard name.hasSuffix(".json"), let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            files[name] = Array(data)
        }
        guard !files.isEmpty else {
            throw RenkeiError(.invalidConfiguration, "schemas_dir \(directory): no *.json schema files found")
        }
        return try SchemaSet(files: files)
    }

    /// Binds the status socket and the push listener (so that a start fails here, before
    /// `READY=1`), and returns every part of the daemon as one ``ServiceGroup``, in start order:
    /// the status server; the delivery lanes; the projector; the ingest sources (pull, push, spool).
    /// A graceful shutdown stops them in the reverse order: no new input, the projector, deliveries
    /// in flight finish (up to the deadline given to ``beginStop(deadline:)``), the status socket last.
    /// - Throws: ``SystemError`` when a socket cannot be bound.
    public func makeGroup() throws -> ServiceGroup {
        seedSourceCounters()
        let socketPath = configuration.statusSocket
        try? FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: socketPath).deletingLastPathComponent().path, withIntermediateDirectories: true)
        let routes = StatusRoutes(service: self)
        let server = HTTPServer(
            address: .unix(path: socketPath, mode: 0o660, group: configuration.statusSocketGroup),
            logger: logger.labelled("status"),
            // Off the cooperative pool: the routes read SQLite synchronously, and an operator's request
            // must be answered even while delivery and projection work keep the pool busy.
            handlerExecutor: DispatchTaskExecutor(label: "renkei-status"),
            handler: { request in await routes.handle(request) })
        try server.start()
        if let warning = access.startupWarning { logger.warning(warning) }
        // Issue 5: push and pull.
        try push?.start()
        // Issue 18: the staff console on `console.listen` (HTTPS), beside the status socket.
        var consoleServices: [any Service] = []
        if let settings = configuration.console {
            let console = try ConsoleServer(service: self, settings: settings, logger: logger.labelled("console"))
            try console.start()
            self.console.withLock { $0 = console }
            consoleServices.append(ConsoleServerService(console: console))
            logger.notice("console: \(settings.tls == nil ? "http" : "https")://\(settings.listen)/")
        }
        let stopGrace = stopGrace
        let lanes: [any Service] = delivery.lanes.keys.sorted().compactMap { name in
            delivery.lanes[name].map { LaneService(delivery: delivery, lane: $0, grace: { stopGrace.duration }) }
        }
        var ingest: [any Service] = pulls
        if let push { ingest.append(PushListenerService(push: push)) }
        ingest.append(SpoolService(spool: spool, interval: configuration.spoolPollInterval, clock: clock))
        let group = ServiceGroup(
            stages: [
                [StatusServerService(server: server)] + consoleServices,
                lanes,
                [ProjectorService(projection: projection, databasePath: databasePath, writer: writer)],
                ingest,
            ],
            logger: logger)
        self.group.withLock { $0 = group }
        logger.notice("serving: status socket \(socketPath), \(configuration.sources.count) source(s), \(configuration.subscriptions.count) subscription(s)")
        return group
    }

    /// Runs `group` (from ``makeGroup()``) until it stops, then closes the HTTP client and the log.
    /// - Throws: ``ServiceGroupError`` when a service failed (the others have been stopped).
    public func run(_ group: ServiceGroup) async throws {
        defer { logger.notice("stopped") }
        do {
            try await group.run()
        } catch {
            await client.shutdown()
            await writer.close()
            throw error
        }
        await client.shutdown()
        await writer.close()
    }

    /// Starts the graceful shutdown of the running group; once the lanes stop, deliveries in flight
    /// may take up to `deadline`.
    public func beginStop(deadline: Duration) {
        stopGrace.set(deadline)
        group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// Starts serving in a task of its own, for code that embeds a service (tests, benchmarks);
    /// renkeid runs ``makeGroup()`` and ``run(_:)`` in its own group instead.
    public func start() throws {
        let group = try makeGroup()
        let task = Task { [self] in
            do {
                try await run(group)
            } catch {
                logger.error("\(error)")
            }
        }
        embedded.withLock { $0 = (group, task) }
    }

    /// Stops what ``start()`` started, in order (see ``makeGroup()``), and waits until it has stopped.
    public func stop(deadline: Duration = .seconds(10)) async {
        guard let running = embedded.withLock({ $0 }) else {
            // Never started: only close the state.
            await client.shutdown()
            await writer.close()
            return
        }
        beginStop(deadline: deadline)
        await running.task.value
    }

    /// A new read-only connection, for tests (the daemon reads through ``store``).
    func reader() throws -> Database {
        try Database(path: databasePath, readOnly: true)
    }

    /// Writes the access-log entry of `request` (contract §6; hash-chained, issue 13) and waits for its commit.
    /// - Parameter uid: the person uid the request named or resolved to, if any.
    /// - Throws: when the entry could not be written (logged here as an error); the caller decides the answer.
    func recordAccess(_ request: HTTPRequest, status: Int, uid: String? = nil) async throws {
        let entry = AccessLogEntry(
            at: Timestamp.rfc3339(wallClock.now()), callerUID: request.peer?.uid, callerPID: request.peer?.pid,
            method: request.method, target: request.target, status: status,
            action: AccessLog.operatorAction(method: request.method, query: request.query), uid: uid)
        do {
            _ = try await writer.perform { db in try AccessLog.append(entry, in: db) }
        } catch {
            logger.error("access log: could not record \(entry.method) \(entry.target): \(error)")
            throw error
        }
    }

    /// `POST /v1/replay`; the events' provenance names the caller's uid (`SO_PEERCRED`).
    func replay(body: [UInt8], peer: PeerCredentials? = nil) async -> HTTPResponse {
        switch Ingestor.splitBody(body) {
        case .failure(let error):
            return .error(400, "the body is neither JSONL nor a JSON array: \(error)")
        case .success(let lines):
            do {
                let provenance = Provenance(via: .replay, uid: peer.map { Int64($0.uid) })
                let report = try await ingestor.ingest(lines, expectedSource: nil, provenance: provenance)
                logger.info("replay: \(report.accepted) accepted, \(report.duplicates) duplicates, \(report.rejected.count) rejected")
                return .json(200, report.json)
            } catch {
                logger.error("replay: could not write the log: \(error)")
                return .error(503, "could not write the log (\(error)); nothing from this request was accepted: send it again")
            }
        }
    }

    /// `POST /v1/rebuild`: starts a rebuild on the writer thread and answers `202` at once (`409` while
    /// one runs, `503` while the views load after a start).
    ///
    /// - Parameter request: the request to record in the access log with its `202`, before the rebuild
    ///   takes the writer thread: recorded afterwards, the access-log write (which every audited answer
    ///   waits for) would wait for the whole rebuild, and `renkeictl rebuild` would time out on a large
    ///   city instead of showing progress. `StatusRoutes` records every other answer itself.
    func startRebuild(auditing request: HTTPRequest? = nil) async -> HTTPResponse {
        switch projection.claimRebuild() {
        case .refuseLoading(let state):
            var response = HTTPResponse.error(
                503, "the views are still loading after the start (projection_state \(state) "
                    + "in GET /v1/status); a rebuild can start once it is ready")
            response.headers["Retry-After"] = "10"
            return response
        case .refuseRunning:
            return .error(409, "a rebuild is already running; follow it in GET /v1/status")
        case .start:
            break
        }
        let response = HTTPResponse.json(202, ["rebuild": "started"])
        if let request {
            do {
                try await recordAccess(request, status: response.status)
            } catch {
                // Not audited, not started (issue 13: audited requests fail closed).
                projection.abandonClaimedRebuild()
                return StatusRoutes.unaudited
            }
        }
        // The projector service runs it as a child task.
        projection.startClaimedRebuild()
        return response
    }

    /// Walks both hash chains: the event log's and the access log's (issue 13).
    func verify() async throws -> (events: VerifyReport, accessLog: AccessLog.VerifyReport) {
        try await store.read { db in (try EventLog.verify(in: db), try AccessLog.verify(in: db)) }
    }

    func statusJSON() throws -> JSONValue {
        try statusJSON(reader: reader())
    }

    /// `GET /v1/status`, read through `reader`.
    func statusJSON(reader: Database) throws -> JSONValue {
        let head = try EventLog.head(in: reader).lsn
        var status: JSONObject = [
            "version": .string(Self.version),
            "uptime_s": .integer(Int64(wallClock.now().timeIntervalSince(startedAt))),
            "head_lsn": .integer(head),
            "projection_lsn": .integer(projection.lsn),
            "projection_state": .string(projection.readiness.name),
            "rebuild": projection.rebuildJSON,
            "sources": ingestor.statistics.statusJSON(now: wallClock.now()),
            "subscriptions": delivery.statusJSON(reader: reader),
        ]
        // Issue 16: held snapshot runs, shown until an operator decides (only with a snapshot source).
        if configuration.sources.values.contains(where: { $0.files?.snapshotKey != nil }) {
            let held = try Snapshots.runs(state: .held, in: reader)
            status["snapshots"] = ["held": .array(held.map(\.json))]
        }
        return .object(status)
    }
}

/// How long a stop lets deliveries in flight finish: set when the stop begins.
final class StopGrace: Sendable {
    private let value = Mutex<Duration>(.seconds(10))

    var duration: Duration { value.withLock { $0 } }

    func set(_ duration: Duration) {
        value.withLock { $0 = duration }
    }
}
