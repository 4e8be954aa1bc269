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
    let ingestor: Ingestor
    let spool: SpoolIngest
    // Issue 5 (push and pull ingest): the listener on `ingest_listen` and one puller per `pull` source.
    let push: PushIngest?
    let pulls: [PullSource]
    private let pullTasks = Mutex<[Task<Void, Never>]>([])
    let projection: ProjectionService
    let delivery: DeliveryService
    let client: HTTPClient
    /// The at-rest data key of `my_number` and the key file it was unwrapped with (see ``AtRestKeyStore``).
    let atRest: Mutex<AtRestKeyStore.Opened>
    let startedAt = Date()
    /// Who may do what on the status socket (``StatusAccess``), from the configured groups.
    let access: StatusAccess
    /// The log's head when this process opened it: per-source counters are seeded from the log up
    /// to here (``seedSourceCounters()``), and count live appends after it.
    let startHead: Int64
    private let statusServer = Mutex<HTTPServer?>(nil)
    private let spoolTask = Mutex<Task<Void, Never>?>(nil)
    private let rebuildTask = Mutex<Task<Void, Never>?>(nil)

    /// Opens the state and checks everything that can be checked before serving: the schemas,
    /// the secrets, the database. Projection catches up with the log here.
    /// - Throws: ``RenkeiError`` or a store error, with a message naming what to fix.
    public convenience init(configuration: Configuration, logger: Logger) async throws {
        try await self.init(configuration: configuration, logger: logger, deliveryQueueWindow: DeliveryService.defaultQueueWindow)
    }

    /// - Parameter deliveryQueueWindow: see ``DeliveryService/defaultQueueWindow`` (tests make it small).
    init(configuration: Configuration, logger: Logger, deliveryQueueWindow: Int) async throws {
        self.configuration = configuration
        self.logger = logger
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
        StateFiles.restrictModes(databasePath: databasePath, logger: logger)
        // The key file is checked before the database is opened: a daemon without it never starts.
        let kek = try AtRestKeyStore.loadKeyFile(configuration.atRestKeyFile)
        writer = try LogWriter(path: databasePath)
        // Only the views' checkpoint is read here: the views themselves load after READY=1 (see
        // `Readiness`), so a restart over a large log is ready in well under a second.
        let (checkpoint, head, paused) = try await writer.perform { db in
            try EventLog.createSchema(in: db)
            try ProjectionStore.createSchema(in: db)
            try DeliveryStore.createSchema(in: db)
            try AccessLog.createSchema(in: db)
            return (
                try ProjectionStore.checkpoint(in: db), try EventLog.head(in: db).lsn,
                try DeliveryStore.pausedSubscriptions(in: db)
            )
        }
        let keyFile = configuration.atRestKeyFile
        let opened = try await writer.perform { db in
            try AtRestKeyStore.createSchema(in: db)
            return try AtRestKeyStore.open(kek: kek, keyFile: keyFile, in: db)
        }
        for note in opened.notes { logger.notice(note) }
        atRest = Mutex(opened)
        let vault = MyNumberVault(cipher: opened.cipher)
        startHead = head
        let subscriptions = configuration.subscriptions.values.sorted { $0.policy.name < $1.policy.name }
        client = HTTPClient(maxConnections: 64)
        let delivery = try DeliveryService(
            subscriptions: subscriptions, paused: paused, writer: writer, databasePath: databasePath, client: client,
            vault: vault, logger: logger.labelled("delivery"), queueWindow: deliveryQueueWindow)
        self.delivery = delivery
        // A fresh state (no views stored, empty log) is live at once; otherwise the views load in the background.
        projection = ProjectionService(
            projection: Projection(thresholds: configuration.linkingThresholds, weights: configuration.matchWeights),
            policies: subscriptions.map(\.policy), logger: logger.labelled("projection"),
            thresholds: configuration.linkingThresholds, weights: configuration.matchWeights,
            readiness: checkpoint == nil && head == 0 ? .ready : .loading(checkpoint: checkpoint ?? 0),
            vault: vault, onDeltas: { delivery.wake() })
        let statistics = SourceStatistics(sources: configuration.sources.keys)
        ingestor = Ingestor(
            validator: validator, writer: writer, statistics: statistics, configuredSources: Set(configuration.sources.keys),
            vault: vault, logger: logger.labelled("ingest"))
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
                    ingestor: ingestor, client: client, logger: logger.labelled("pull")))
        }
        self.pulls = pulls
        let projection = projection
        // Issue 14: `linking.estimate_at_records`, checked after each batch the projection applies.
        let autoEstimate = AutoEstimate(
            sizes: configuration.linkingEstimateAtRecords,
            estimator: LinkingEstimator(
                databasePath: databasePath,
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

    /// Starts serving: delivery, the status socket, spool scanning.
    public func start() throws {
        seedSourceCounters()
        projection.startLoading(databasePath: databasePath, writer: writer)
        delivery.start()
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
        statusServer.withLock { $0 = server }
        if let warning = access.startupWarning { logger.warning(warning) }
        let spool = spool
        let interval = configuration.spoolPollInterval
        spoolTask.withLock { $0 = Task { await spool.run(interval: interval) } }
        // Issue 5: push and pull.
        try push?.start()
        pullTasks.withLock { tasks in tasks = pulls.map { pull in Task { await pull.run() } } }
        logger.notice("serving: status socket \(socketPath), \(configuration.sources.count) source(s), \(configuration.subscriptions.count) subscription(s)")
    }

    /// Stops in order: no new input, the current batch finishes, deliveries in flight finish up to
    /// `deadline`, then the log closes.
    public func stop(deadline: Duration = .seconds(10)) async {
        projection.cancelLoading()
        let spoolTask = spoolTask.withLock { $0 }
        spoolTask?.cancel()
        // Issue 5: no new pushes or pulls; a request being committed finishes first.
        let pullTasks = pullTasks.withLock { $0 }
        for task in pullTasks { task.cancel() }
        await push?.stop(deadline: .seconds(5))
        for task in pullTasks { await task.value }
        await spoolTask?.value
        await delivery.stop(deadline: deadline)
        await rebuildTask.withLock({ $0 })?.value
        await statusServer.withLock({ $0 })?.stop(deadline: .seconds(2))
        await client.shutdown()
        await writer.close()
        logger.notice("stopped")
    }

    /// A new read-only connection (status requests).
    func reader() throws -> Database {
        try Database(path: databasePath, readOnly: true)
    }

    /// Writes the access-log entry of `request` (contract §6; hash-chained, issue 13) and waits for its commit.
    /// - Parameter uid: the person uid the request named or resolved to, if any.
    /// - Throws: when the entry could not be written (logged here as an error); the caller decides the answer.
    func recordAccess(_ request: HTTPRequest, status: Int, uid: String? = nil) async throws {
        let entry = AccessLogEntry(
            at: Timestamp.rfc3339(Date()), callerUID: request.peer?.uid, callerPID: request.peer?.pid,
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
        guard projection.isLive else {
            var response = HTTPResponse.error(
                503, "the views are still loading after the start (projection_state \(projection.readiness.withLock { $0 }.name) "
                    + "in GET /v1/status); a rebuild can start once it is ready")
            response.headers["Retry-After"] = "10"
            return response
        }
        // Claimed here, so a second request answers 409 even before the rebuild's task exists.
        let claimed = projection.rebuildProgress.withLock { progress -> Bool in
            guard progress == nil else { return false }
            progress = (0, 0)
            return true
        }
        guard claimed else { return .error(409, "a rebuild is already running; follow it in GET /v1/status") }
        let response = HTTPResponse.json(202, ["rebuild": "started"])
        if let request {
            do {
                try await recordAccess(request, status: response.status)
            } catch {
                // Not audited, not started (issue 13: audited requests fail closed).
                projection.rebuildProgress.withLock { $0 = nil }
                return StatusRoutes.unaudited
            }
        }
        let projection = projection
        let logger = logger
        let writer = writer
        rebuildTask.withLock { task in
            task = Task {
                do {
                    try await writer.perform { db in try projection.rebuild(db) }
                } catch {
                    projection.rebuildProgress.withLock { $0 = nil }
                    logger.error("rebuild failed: \(error); the previous views stay in place")
                }
            }
        }
        return response
    }

    /// Walks both hash chains: the event log's and the access log's (issue 13).
    func verify() async throws -> (events: VerifyReport, accessLog: AccessLog.VerifyReport) {
        let path = databasePath
        return try await Task.detached {
            let db = try Database(path: path, readOnly: true)
            return (try EventLog.verify(in: db), try AccessLog.verify(in: db))
        }.value
    }

    func statusJSON() throws -> JSONValue {
        let reader = try reader()
        let head = try EventLog.head(in: reader).lsn
        return [
            "version": .string(Self.version),
            "uptime_s": .integer(Int64(Date().timeIntervalSince(startedAt))),
            "head_lsn": .integer(head),
            "projection_lsn": .integer(projection.lsn),
            "projection_state": .string(projection.readiness.withLock { $0 }.name),
            "rebuild": projection.rebuildJSON,
            "sources": ingestor.statistics.statusJSON(now: Date()),
            "subscriptions": delivery.statusJSON(reader: reader),
        ]
    }
}
