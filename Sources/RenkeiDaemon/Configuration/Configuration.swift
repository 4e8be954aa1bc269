public import Foundation
public import RenkeiCore

/// The daemon's configuration file (contract §5), parsed and checked.
///
/// Every problem is reported as a ``RenkeiError`` with code `invalidConfiguration` whose message
/// names the file and the key, and says what to write instead.
public struct Configuration: Sendable {
    /// Settings of one source system.
    public struct Source: Sendable, Hashable {
        /// The source name (`resident`, `tax`, …).
        public var name: String
        /// The spool folder, if files are dropped for this source.
        public var spool: String?
        /// The file holding the push bearer token, if this source pushes over HTTP.
        public var tokenFile: String?
        /// The raw `csv` settings (used by the CSV reader).
        public var csv: JSONObject?
        /// The HTTP pull settings, checked (`sources.<name>.pull`).
        public var pull: Pull?
        /// `gaiji`: the 外字 table file (TSV) this source's Private Use characters are mapped with.
        public var gaijiFile: String?
        /// The table read from ``gaijiFile`` (empty without one: every Private Use character stays
        /// unmapped, and is counted).
        public var gaiji = GaijiTable()
        /// The largest spool file read (`max_file_bytes`); a larger one is refused into `rejected/` unread.
        public var maxFileBytes: Int64 = Source.defaultMaxFileBytes
        /// `files`: spool files read through a mapping, possibly as full snapshots (issue 16).
        public var files: Files?

        /// 1 GiB: a full registry export of a large city as CSV is a few hundred MiB.
        public static let defaultMaxFileBytes: Int64 = 1 << 30
    }

    /// `sources.<name>.pull`: the change feed a source is polled on.
    public struct Pull: Sendable, Hashable {
        /// The feed URL (`http` or `https`, never with credentials in it).
        public var url: String
        /// Seconds between polls once the feed is drained (`interval_s`, default 30).
        public var intervalSeconds: Double
        /// Request headers, values read from files (`headers`, as a subscription's).
        public var headers: [String: String]
    }

    /// `ingest_tls`: the push listener's certificate chain and private key (PEM files).
    public struct IngestTLS: Sendable, Hashable {
        /// `cert_file`: the server certificate, then its intermediates.
        public var certificateFile: String
        /// `key_file`: the certificate's unencrypted private key, readable by renkeid alone.
        public var keyFile: String
    }

    /// TLS settings of a subscription.
    public struct TLS: Sendable, Hashable {
        /// A CA bundle to trust instead of the system's.
        public var caFile: String?
        /// A client certificate for mutual TLS.
        public var clientCertificate: String?
        /// The client certificate's key.
        public var clientKey: String?
    }

    /// One downstream subscription.
    public struct Subscription: Sendable, Hashable {
        /// Which persons, kinds and fields it may see.
        public var policy: SubscriptionPolicy
        /// Where deltas are POSTed.
        public var url: String
        /// The file with `whsec_…` signing secrets (one, or two while rotating).
        public var secretFile: String?
        /// Deltas in flight at once (different uids).
        public var maxInFlight: Int
        /// Attempts before a delta is dead-lettered.
        public var maxAttempts: Int
        /// Total timeout of one attempt, in seconds.
        public var timeoutSeconds: Double
        /// Connect (TCP + TLS handshake) timeout of one attempt, in seconds (`connect_timeout_s`, default 10,
        /// never more than `timeout_s`).
        public var connectTimeoutSeconds: Double = 10
        /// The first retry waits up to this long (full jitter), doubling per attempt (`retry_base_s`, default 0.5).
        public var retryBaseSeconds: Double = 0.5
        /// Extra request headers; values read from files (`{"Authorization": {"file": "…"}}`) or given.
        public var headers: [String: String]
        /// TLS settings.
        public var tls: TLS
        /// `mode`: `live` (the default) sends; `shadow` plans, filters and records but sends nothing (issue 17).
        public var mode: Mode = .live
        /// `file` (issue 17): write the deltas into a folder instead of POSTing them (``url`` is then
        /// `file://` and the folder).
        public var file: FileTarget? = nil
    }

    /// The 6-digit municipality code.
    public var municipality: String
    /// Where the database lives.
    public var stateDirectory: String
    /// Where the JSON Schemas are read from (resolved: see ``resolveSchemasDirectory``).
    public var schemasDirectory: String
    /// The status socket path.
    public var statusSocket: String
    /// The group the status socket is given (mode 0660), if any: its members may use the read-only
    /// commands (`status_socket_group`; see ``StatusAccess``).
    public var statusSocketGroup: String?
    /// The group whose members may also use the deciding commands — links, review decisions, replay,
    /// rebuild, dead-letter and subscription actions, `reveal=protected`, backup (`status_socket_admin_group`).
    public var statusSocketAdminGroup: String?
    /// The only folder `POST /v1/backup` writes to (`backup_dir`, default `<state_dir>/backups`).
    public var backupDirectory: String
    /// `host:port` of the push listener, if configured.
    public var ingestListen: String?
    /// `ingest_tls`: serve push over HTTPS with this certificate.
    public var ingestTLS: IngestTLS?
    /// `ingest_allow_plaintext`: allow plain HTTP push on an address other hosts can reach (default false).
    public var ingestAllowPlaintext: Bool = false
    /// `ingest_max_connections`: push connections served at once (default 64).
    public var ingestMaxConnections: Int = 64
    /// `ingest_max_connections_per_peer`: push connections one IP address may hold at once (default 16).
    public var ingestMaxConnectionsPerPeer: Int = 16
    /// `console`: the staff web console (issue 18); `nil` when not configured.
    public var console: Console?
    /// Sources by name.
    public var sources: [String: Source]
    /// Linking thresholds.
    public var autoLink: Double
    /// Review threshold.
    public var review: Double
    /// `linking.weights` over the defaults (``MatchWeights/standard`` when not configured).
    public var matchWeights: MatchWeights
    /// `linking.estimate_at_records`: sizes (records from sources other than the registry) at which
    /// the daemon appends `operator.linking_estimated` on its own, once each; empty when off.
    public var linkingEstimateAtRecords: [Int] = ConfigReader.Linking.defaultEstimateAtRecords
    /// Subscriptions by name.
    public var subscriptions: [String: Subscription]
    /// Minimum log level (`debug`, `info`, `notice`, `warning`, `error`).
    public var logLevel: String
    /// How often spool folders are scanned, in seconds.
    public var spoolPollInterval: Double
    /// `secrets.at_rest_key_file`: the key-encryption key under which `my_number` is held at rest
    /// (contract §7; default `/etc/renkei/secrets/at-rest.key`).
    public var atRestKeyFile: String

    /// `linking.auto_link` and `linking.review` as the projection takes them.
    public var linkingThresholds: LinkingThresholds { LinkingThresholds(autoLink: autoLink, review: review) }

    /// The default path of the configuration file.
    public static let defaultPath = "/etc/renkei/renkei.json"

    /// Reads and checks a configuration file.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the file and key.
    public static func load(path: String) throws(RenkeiError) -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RenkeiError(
                .invalidConfiguration,
                "\(path): cannot read the configuration file (does it exist, and may this user read it?)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(data))
        } catch {
            throw RenkeiError(.invalidConfiguration, "\(path): not valid JSON: \(error)")
        }
        return try Configuration(json: value, file: path)
    }

    /// Checks a parsed configuration.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the file and key.
    public init(json: JSONValue, file: String) throws(RenkeiError) {
        var reader = ConfigReader(file: file)
        guard let root = json.objectValue else { throw reader.error("", "the file must hold one JSON object") }
        try reader.allowOnly(
            root, path: "",
            ["municipality", "state_dir", "schemas_dir", "status_socket", "status_socket_group", "status_socket_admin_group",
             "backup_dir", "ingest_listen", "ingest_tls", "ingest_allow_plaintext", "ingest_max_connections",
             "ingest_max_connections_per_peer", "sources", "linking", "subscriptions", "log_level", "spool_poll_interval_s",
             "secrets", "console"])
        municipality = try reader.string(root, "municipality", path: "")
        guard municipality.utf8.count == 6, municipality.allSatisfy(\.isASCII), municipality.allSatisfy(\.isNumber) else {
            throw reader.error("municipality", "must be the 6-digit 全国地方公共団体コード, e.g. \"131016\"")
        }
        stateDirectory = try reader.optionalString(root, "state_dir", path: "") ?? "/var/lib/renkei"
        schemasDirectory = Configuration.resolveSchemasDirectory(try reader.optionalString(root, "schemas_dir", path: ""))
        statusSocket = try reader.optionalString(root, "status_socket", path: "") ?? "/run/renkei/status.sock"
        statusSocketGroup = try reader.optionalString(root, "status_socket_group", path: "")
        statusSocketAdminGroup = try reader.optionalString(root, "status_socket_admin_group", path: "")
        let backupDir = try reader.optionalString(root, "backup_dir", path: "")
        if let backupDir, !backupDir.hasPrefix("/") {
            throw reader.error("backup_dir", "must be an absolute path (default: <state_dir>/backups)")
        }
        backupDirectory = backupDir ?? stateDirectory + "/backups"
        ingestListen = try reader.optionalString(root, "ingest_listen", path: "")
        logLevel = try reader.optionalString(root, "log_level", path: "") ?? "info"
        guard ["debug", "info", "notice", "warning", "error"].contains(logLevel) else {
            throw reader.error("log_level", "must be one of debug, info, notice, warning, error")
        }
        spoolPollInterval = try reader.optionalNumber(root, "spool_poll_interval_s", path: "") ?? 0.5
        let secrets = try reader.optionalObject(root, "secrets", path: "") ?? JSONObject()
        try reader.allowOnly(secrets, path: "secrets", ["at_rest_key_file"])
        atRestKeyFile = try reader.optionalString(secrets, "at_rest_key_file", path: "secrets") ?? AtRestKeyStore.defaultKeyFile

        sources = [:]
        for member in try reader.object(root, "sources", path: "") {
            let path = "sources.\(member.key)"
            guard let object = member.value.objectValue else { throw reader.error(path, "must be an object") }
            guard member.key.range(of: "^[a-z][a-z0-9_]{0,31}$", options: .regularExpression) != nil,
                member.key != "operator"
            else {
                throw reader.error(path, "a source name is lowercase letters, digits and _ (and not 'operator')")
            }
            try reader.allowOnly(object, path: path, ["spool", "token_file", "csv", "pull", "max_file_bytes", "gaiji", "files"])
            var source = Source(
                name: member.key,
                spool: try reader.optionalString(object, "spool", path: path),
                tokenFile: try reader.optionalString(object, "token_file", path: path),
                csv: object["csv"]?.objectValue,
                pull: nil)
            if let pull = try reader.optionalObject(object, "pull", path: path) {
                source.pull = try reader.pull(pull, path: "\(path).pull")
            }
            if let gaijiFile = try reader.optionalString(object, "gaiji", path: path) {
                source.gaijiFile = gaijiFile
                source.gaiji = try Self.loadGaiji(gaijiFile, key: "\(path).gaiji", reader: reader)
            }
            if let files = try reader.optionalObject(object, "files", path: path) {
                source.files = try reader.files(files, path: "\(path).files")
            }
            if let limit = try reader.optionalInt(object, "max_file_bytes", path: path, range: 1...(1 << 40)) {
                source.maxFileBytes = Int64(limit)
            }
            sources[member.key] = source
        }

        let linking = try reader.linking(root)
        autoLink = linking.autoLink
        review = linking.review
        matchWeights = linking.weights
        linkingEstimateAtRecords = linking.estimateAtRecords

        subscriptions = [:]
        for member in try reader.optionalObject(root, "subscriptions", path: "") ?? JSONObject() {
            subscriptions[member.key] = try reader.subscription(name: member.key, value: member.value, sources: sources)
        }
        try readIngestSecurity(root, reader: reader)
        try readConsole(root, reader: reader)
    }

    /// Reads a source's 外字 table (issue 16); errors name the configuration key, the file and the line.
    static func loadGaiji(_ file: String, key: String, reader: ConfigReader) throws(RenkeiError) -> GaijiTable {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw reader.error(key, "cannot read the 外字 table \(file) (does it exist, and may this user read it?)")
        }
        do {
            return try GaijiTable(tsv: Array(data), file: file)
        } catch {
            throw reader.error(key, error.message)
        }
    }

    /// The schemas folder: the configured one; else `/usr/share/renkei/schemas` if present; else the
    /// `Schemas/` folder of the source tree this binary was built from (so a development build runs
    /// without installing).
    public static func resolveSchemasDirectory(_ configured: String?) -> String {
        if let configured { return configured }
        let installed = "/usr/share/renkei/schemas"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: installed, isDirectory: &isDirectory), isDirectory.boolValue {
            return installed
        }
        // #filePath is …/Sources/RenkeiDaemon/Configuration/Configuration.swift
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas").path
    }
}
