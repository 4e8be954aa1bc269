import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem
import Synchronization

/// HTTP push on `ingest_listen` (contract §6): `POST /v1/sources/{source}/events` with
/// `Authorization: Bearer <token>`, body JSONL or a JSON array, answered after the durable commit
/// with {`accepted`, `duplicates`, `rejected`}.
///
/// Status codes: 401 missing or wrong token, 403 a valid token of another source, 404 unknown
/// source (or one without `token_file`), 405 not POST, 413 body too large, 400 not JSON at all,
/// 503 the log cannot be written (nothing accepted) or too many connections. 401, 403, 404, 405 and
/// 413 are decided from the request head, before any body is read and without `100 Continue`.
/// Limits (header size, body size, slow headers and bodies, idle keep-alive, connections in all
/// and per client address) are the server's; with `ingest_tls` it speaks only HTTPS (TLS 1.2+).
final class PushIngest: Sendable {
    /// Each pushing source's token bytes.
    let tokens: [String: [UInt8]]
    let ingestor: Ingestor
    let logger: Logger
    let server: HTTPServer
    private let handler: Handler

    /// Reads the token files and prepares the listener (nothing is bound until ``start()``).
    /// - Parameters:
    ///   - listen: the `ingest_listen` value, e.g. `127.0.0.1:8470`.
    ///   - sources: the configured sources; those with `token_file` may push.
    ///   - ingestor: validates and appends.
    ///   - limits: the listener's limits (tests shorten the timeouts).
    ///   - tls: `ingest_tls`: serve HTTPS with this certificate and key.
    ///   - logger: for the listener and per-request summaries (counts only, never event content).
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) for a bad address, an unreadable or empty token
    ///   file, or a certificate or key that cannot be loaded.
    init(
        listen: String, sources: [Configuration.Source], ingestor: Ingestor,
        limits: HTTPServerLimits = PushIngest.defaultLimits, tls: Configuration.IngestTLS? = nil, logger: Logger
    ) throws(RenkeiError) {
        guard let address = ListenAddress.parse(listen) else {
            throw RenkeiError(.invalidConfiguration, "ingest_listen: \(listen) is not host:port (e.g. 127.0.0.1:8470) or a socket path")
        }
        var tokens: [String: [UInt8]] = [:]
        for source in sources {
            guard let file = source.tokenFile else { continue }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw RenkeiError(.invalidConfiguration, "sources.\(source.name).token_file: cannot read \(file) (does it exist, and may this user read it?)")
            }
            // The token is the file's first line, without surrounding whitespace.
            let text = String(decoding: data, as: UTF8.self)
            let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !token.isEmpty else {
                throw RenkeiError(.invalidConfiguration, "sources.\(source.name).token_file: \(file) is empty; write the bearer token on its first line")
            }
            tokens[source.name] = Array(token.utf8)
        }
        self.tokens = tokens
        self.ingestor = ingestor
        self.logger = logger
        let context = try tls.map { settings throws(RenkeiError) in try Self.loadTLS(settings) }
        let handler = Handler()
        self.handler = handler
        server = HTTPServer(
            address: address, limits: limits, tls: context, headCheck: { head in handler.check(head) }, logger: logger,
            // Off the cooperative pool, like the status socket: a source's push is answered even while
            // the pool is busy.
            handlerExecutor: DispatchTaskExecutor(label: "renkei-push"),
            handler: { request in await handler.handle(request) })
        handler.push.withLock { $0 = self }
    }

    /// The listener's limits: 16 KiB of headers received within 10 s, bodies up to 64 MiB, 64
    /// connections of which one client address may hold 16.
    static let defaultLimits = HTTPServerLimits(
        maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 * 1024, headerTimeout: .seconds(10), bodyTimeout: .seconds(30),
        idleTimeout: .seconds(30), maxConnections: 64, maxConnectionsPerPeer: 16)

    /// The default limits with the configured connection caps.
    static func limits(for configuration: Configuration) -> HTTPServerLimits {
        var limits = defaultLimits
        limits.maxConnections = configuration.ingestMaxConnections
        limits.maxConnectionsPerPeer = configuration.ingestMaxConnectionsPerPeer
        return limits
    }

    /// Loads `ingest_tls`'s certificate and key (also used to check them before a reload).
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming `ingest_tls` and the file at fault.
    static func loadTLS(_ settings: Configuration.IngestTLS) throws(RenkeiError) -> TLSContext {
        do {
            return try TLSContext(certificateFile: settings.certificateFile, keyFile: settings.keyFile)
        } catch {
            throw RenkeiError(.invalidConfiguration, "ingest_tls: \(error.message)")
        }
    }

    /// Binds and starts serving.
    /// - Throws: ``SystemError`` naming the failed step (port in use, permission).
    func start() throws(SystemError) { try server.start() }

    /// Stops accepting; requests in progress finish up to `deadline`.
    func stop(deadline: Duration = .seconds(5)) async {
        await server.stop(deadline: deadline)
        handler.push.withLock { $0 = nil }  // breaks the service → server → handler → service cycle
    }

    /// The bound TCP port (useful with port 0).
    var boundPort: Int? { server.boundPort }

    // MARK: - Requests

    /// What the head of a request decides: the source it may push to, or the refusal.
    enum Admission {
        case source(String)
        case refused(HTTPResponse)
    }

    /// Routing, method and bearer token, from the request head alone: the server calls this before
    /// it reads any body or sends `100 Continue`, and ``handle(_:)`` again for the whole request.
    func admit(method: String, path: String, headers: HTTPHeaders) -> Admission {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "v1", parts[2] == "sources", parts[4] == "events" else {
            return .refused(.error(404, "no such endpoint: push to POST /v1/sources/{source}/events"))
        }
        let source = String(parts[3])
        guard let expected = tokens[source] else {
            return .refused(.error(404, "source '\(source)' does not accept push here (not configured, or no token_file)"))
        }
        guard method == "POST" else {
            var response = HTTPResponse.error(405, "use POST to push events to /v1/sources/\(source)/events")
            response.headers.add(name: "Allow", value: "POST")
            return .refused(response)
        }
        if let refusal = authorize(headers, source: source, expected: expected) { return .refused(refusal) }
        return .source(source)
    }

    /// Answers one request.
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let source: String
        switch admit(method: request.method, path: request.path, headers: request.headers) {
        case .refused(let response): return response
        case .source(let admitted): source = admitted
        }
        let lines: [InputLine]
        switch Ingestor.splitBody(request.body) {
        case .failure(let error):
            return .error(400, "the body is a JSON array that does not parse (\(error)); send JSONL or a JSON array of events")
        case .success(let split):
            lines = split
        }
        guard !lines.isEmpty else {
            return .error(400, "the body holds no events; send JSONL (one event a line) or a JSON array of events")
        }
        if Self.isNotJSONAtAll(lines) {
            return .error(400, "the body is not JSON at all; send JSONL (application/x-ndjson) or a JSON array (application/json)")
        }
        do {
            let provenance = Provenance(via: .push, peer: request.remoteAddress, source: source)
            let report = try await ingestor.ingest(lines, expectedSource: source, provenance: provenance)
            logger.info("push \(source): \(report.accepted) accepted, \(report.duplicates) duplicates, \(report.rejected.count) rejected")
            return .json(200, report.json)
        } catch {
            logger.error("push \(source): could not write the log: \(error)")
            return .error(503, "could not write the log (\(error.message)); nothing from this request was accepted: send it again")
        }
    }

    /// Nil when the bearer token is this source's; else the 401 or 403 answer.
    private func authorize(_ headers: HTTPHeaders, source: String, expected: [UInt8]) -> HTTPResponse? {
        let unauthorized: HTTPResponse = {
            var response = HTTPResponse.error(401, "missing or wrong bearer token: send Authorization: Bearer <the token in \(source)'s token_file>")
            response.headers.add(name: "WWW-Authenticate", value: "Bearer realm=\"renkei\"")
            return response
        }()
        guard let header = headers["Authorization"] else { return unauthorized }
        let scheme = header.prefix { $0 != " " }
        guard scheme.lowercased() == "bearer" else { return unauthorized }
        let given = Array(header.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces).utf8)
        // Compare with every token in constant time, so timing tells nothing about which matched.
        var ownMatches = false
        var otherMatches = false
        for (name, token) in tokens {
            let equal = constantTimeEquals(token, given)
            if name == source { ownMatches = ownMatches || equal } else { otherMatches = otherMatches || equal }
        }
        if ownMatches { return nil }
        if otherMatches {
            return .error(403, "this token belongs to another source: a push endpoint accepts only its own source's events")
        }
        return unauthorized
    }

    /// True when no line is JSON of any kind (then the client sent something else entirely).
    static func isNotJSONAtAll(_ lines: [InputLine]) -> Bool {
        for line in lines where line.bytes.count <= Ingestor.maximumLineBytes {
            if (try? JSONParser.parse(line.bytes)) != nil { return false }
        }
        return lines.contains { $0.bytes.count <= Ingestor.maximumLineBytes }
    }

    /// Holds the service weakly-late: the server's handler is made before `self` is complete.
    private final class Handler: Sendable {
        let push = Mutex<PushIngest?>(nil)
        func check(_ head: HTTPRequestHead) -> HTTPResponse? {
            guard let push = push.withLock({ $0 }) else { return .error(503, "the ingest listener is starting") }
            if case .refused(let response) = push.admit(method: head.method, path: head.path, headers: head.headers) {
                return response
            }
            return nil
        }
        func handle(_ request: HTTPRequest) async -> HTTPResponse {
            guard let push = push.withLock({ $0 }) else { return .error(503, "the ingest listener is starting") }
            return await push.handle(request)
        }
    }
}

/// The push listener as a service: it accepts on its own threads from ``PushIngest/start()`` on;
/// cancelled, it stops accepting and lets requests being committed finish (up to 5 s).
struct PushListenerService: Service {
    let push: PushIngest

    var name: String { "push listener" }

    func run() async {
        await waitUntilCancelled()
        await push.stop(deadline: .seconds(5))
    }
}
