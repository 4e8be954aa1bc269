import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

/// The staff web console (issue 18), served by renkeid itself over HTTPS on `console.listen`.
///
/// Why inside renkeid rather than a companion process: the console needs exactly what the status
/// routes use — the store's read threads, the writer for the access log and account state, and the
/// review-decision code — and a companion talking to the status socket would have to be trusted to
/// name the staff member in the access log (the socket only knows the companion's uid), or the socket
/// would need a second, weaker authentication path. In-process, each request's staff account comes
/// from its own session, and the same code decides as `renkeictl` does.
///
/// Every page is rendered on the server (``ConsolePages``); assets are embedded (``ConsoleAssets``);
/// the Content-Security-Policy allows only this origin's own stylesheet and script. See
/// `ConsoleServer+Routes.swift` for the pages and `ConsoleServer+Auth.swift` for sessions and login.
final class ConsoleServer: Sendable {
    let service: RenkeiService
    let settings: Configuration.Console
    let sessions: ConsoleSessions
    let accounts: ConsoleAccountBook
    let server: HTTPServer
    private let box: HandlerBox
    /// Console decisions run one at a time, so one review is never decided twice by two clerks at once.
    let decisions = DecisionGate()

    /// The session cookie's name. `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
    static let cookieName = "__Host-renkei_session"

    /// Loads the certificate and prepares the listener (nothing is bound until ``start()``).
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) for a bad address or TLS files.
    init(service: RenkeiService, settings: Configuration.Console, logger: Logger) throws(RenkeiError) {
        guard let address = ListenAddress.parse(settings.listen) else {
            throw RenkeiError(.invalidConfiguration, "console.listen: \(settings.listen) is not host:port")
        }
        let context = try settings.tls.map { tls throws(RenkeiError) in try Self.loadTLS(tls) }
        self.service = service
        self.settings = settings
        sessions = ConsoleSessions(idleTimeoutSeconds: settings.idleTimeout)
        accounts = ConsoleAccountBook(writer: service.writer, store: service.store, wallClock: service.wallClock)
        let box = HandlerBox()
        self.box = box
        server = HTTPServer(
            address: address,
            limits: HTTPServerLimits(
                maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024, headerTimeout: .seconds(10), bodyTimeout: .seconds(10),
                idleTimeout: .seconds(30), maxConnections: 128, maxConnectionsPerPeer: 32),
            tls: context, logger: logger,
            handlerExecutor: DispatchTaskExecutor(label: "renkei-console"),
            handler: { request in await box.handle(request) })
        box.server.withLock { $0 = self }
    }

    /// Loads `console.tls`'s certificate and key.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming `console.tls` and the file at fault.
    static func loadTLS(_ tls: Configuration.IngestTLS) throws(RenkeiError) -> TLSContext {
        do {
            return try TLSContext(certificateFile: tls.certificateFile, keyFile: tls.keyFile)
        } catch {
            throw RenkeiError(.invalidConfiguration, "console.tls: \(error.message)")
        }
    }

    /// Checks `console.tls` before a reload (nothing is kept).
    static func checkTLS(_ tls: Configuration.IngestTLS) throws(RenkeiError) { _ = try loadTLS(tls) }

    /// Whether the console speaks TLS (cookies are `Secure` either way).
    var isTLS: Bool { settings.tls != nil }

    /// Binds and starts serving.
    func start() throws(SystemError) { try server.start() }

    /// The bound port (tests listen on port 0).
    var boundPort: Int? { server.boundPort }

    /// Stops accepting; requests in progress get `deadline`.
    func stop(deadline: Duration) async { await server.stop(deadline: deadline) }

    /// Answers one request, with the security headers on every answer.
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        var response: HTTPResponse
        do {
            response = try await route(request)
        } catch {
            service.logger.error("console: \(request.method) \(request.path) failed: \(error)")
            response = ConsolePages.plain(500, "内部エラーが発生しました。管理者に連絡してください (internal error; see the daemon's log).")
        }
        Self.secure(&response, tls: isTLS)
        return response
    }

    /// Strict CSP (this origin's stylesheet and script only, no inline code, no framing), no caching of
    /// personal data, no referrer, no MIME sniffing; HSTS over TLS.
    static func secure(_ response: inout HTTPResponse, tls: Bool) {
        response.headers["Content-Security-Policy"] =
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        // same-origin, not no-referrer: with no-referrer, browsers send `Origin: null` on form posts, and the
        // Origin check of every POST needs the real one; nothing is sent to other origins either way.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if response.headers["Cache-Control"] == nil { response.headers["Cache-Control"] = "no-store" }
        if tls { response.headers["Strict-Transport-Security"] = "max-age=31536000" }
    }
}

/// Breaks the server → handler → server cycle at stop, like PushIngest's handler.
final class HandlerBox: Sendable {
    let server = Mutex<ConsoleServer?>(nil)

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let server = server.withLock({ $0 }) else { return ConsolePages.plain(503, "停止中です (stopping)") }
        return await server.handle(request)
    }
}

/// Serialises the console's decisions: one body at a time, in arrival order (an actor would not do:
/// it lets another call in at each suspension).
final class DecisionGate: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state -> Bool in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if proceed { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiters.isEmpty {
                    state.busy = false
                    return nil
                }
                return state.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}

/// The console as a service of renkeid's group (stage 1, beside the status socket).
struct ConsoleServerService: Service {
    let console: ConsoleServer

    var name: String { "console" }

    func run() async {
        await waitUntilCancelled()
        await console.stop(deadline: .seconds(2))
        console.releaseHandler()
    }
}

extension ConsoleServer {
    /// Drops the handler's reference to the server once it has stopped.
    func releaseHandler() { box.server.withLock { $0 = nil } }
}
