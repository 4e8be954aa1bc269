internal import CCurl
import Foundation
import Synchronization

/// An asynchronous outbound HTTP client: one libcurl multi handle driven by one dedicated thread.
///
/// Requests from any task are handed to that thread, which runs them concurrently over a shared
/// connection pool (HTTP/1.1 keep-alive, HTTP/2 multiplexing over TLS). Call `globalInit()` once
/// from `main` before starting threads, and `shutdown()` before exit.
public final class HTTPClient: Sendable {
    private let engine = Engine()

    /// `nil` before the first call; then `.some(nil)` on success or the failure every send answers.
    private static let globalInitResult = Mutex<TransportFailure??>(nil)

    /// Initializes libcurl for the process; later calls do nothing.
    ///
    /// libcurl requires `curl_global_init` before any other call and, in older versions, while no
    /// other thread uses it, so call this from `main` first thing. `init` calls it too, as a net.
    public static func globalInit() {
        _ = initializeGlobally()
    }

    /// Runs `curl_global_init` once; returns why it failed, if it did.
    static func initializeGlobally() -> TransportFailure? {
        globalInitResult.withLock { result in
            if let done = result { return done }
            // curl_global_init(CURL_GLOBAL_DEFAULT): sets up TLS and sockets; it is not reference
            // counted here, and curl_global_cleanup is never called (the process ends instead).
            let code = renkei_curl_global_init_default()
            let failure =
                code == CURLE_OK
                ? nil
                : TransportFailure(
                    kind: .other,
                    message: "curl_global_init failed; check the libcurl and OpenSSL installation",
                    curlCode: Int(code.rawValue))
            result = .some(failure)
            return failure
        }
    }

    /// Creates a client and starts its loop thread.
    /// - Parameters:
    ///   - maxConnections: The most connections open at once; further requests queue for one.
    ///   - maxConnectionsPerHost: The most to one host; `nil` means `maxConnections`.
    ///   - userAgent: Sent as `User-Agent` unless a request sets its own.
    public init(maxConnections: Int = 64, maxConnectionsPerHost: Int? = nil, userAgent: String = "renkei/0.1") {
        let initFailure = Self.initializeGlobally()
        let total = max(maxConnections, 1)
        let settings = MultiLoop.Settings(
            maxConnections: total,
            maxConnectionsPerHost: min(max(maxConnectionsPerHost ?? total, 1), total),
            userAgent: userAgent)
        let engine = self.engine
        if let initFailure {
            engine.fail(initFailure)
            return
        }
        let thread = Thread { MultiLoop.run(engine: engine, settings: settings) }
        thread.name = "renkei-http"
        thread.start()
    }

    deinit {
        engine.requestStop(waiter: nil)
    }

    /// Sends one request and waits for its response or failure.
    ///
    /// Any HTTP status is a success here; only a missing response is a failure. Cancelling the
    /// calling task stops the transfer and answers `.cancelled`.
    /// - Parameter request: The request.
    /// - Returns: The response, or why there was none.
    public func send(_ request: OutboundRequest) async -> Result<OutboundResponse, TransportFailure> {
        let ticket = Ticket()
        let engine = self.engine
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                engine.submit(Submission(request: request, ticket: ticket, continuation: continuation))
            }
        } onCancel: {
            engine.cancel(ticket)
        }
    }

    /// Stops the loop thread: requests not yet answered fail with `.cancelled`, every handle is freed.
    ///
    /// Returns once the thread has finished. Later `send` calls fail at once; calling it again is harmless.
    public func shutdown() async {
        let engine = self.engine
        await withCheckedContinuation { continuation in
            engine.requestStop(waiter: continuation)
        }
    }
}
