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

    /// Sends one request that the calling task's cancellation does not stop: only `canceller` does.
    ///
    /// For a service that, once cancelled, lets its requests in flight finish up to a deadline of
    /// its own and then cancels what is left.
    /// - Parameters:
    ///   - request: The request.
    ///   - canceller: cancels this request when ``RequestCanceller/cancelAll()`` is called (at once
    ///     if it was already).
    /// - Returns: The response, or why there was none.
    public func send(_ request: OutboundRequest, cancelledBy canceller: RequestCanceller) async -> Result<OutboundResponse, TransportFailure> {
        let ticket = Ticket()
        let engine = self.engine
        guard canceller.add(ticket) else { return .failure(.cancelled("the request's sender stopped before it started")) }
        defer { canceller.remove(ticket) }
        return await withCheckedContinuation { continuation in
            engine.submit(Submission(request: request, ticket: ticket, continuation: continuation))
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

    /// Cancels in-flight requests sent with ``send(_:cancelledBy:)`` when told to.
    func cancel(_ tickets: [Ticket]) {
        for ticket in tickets { engine.cancel(ticket) }
    }
}

/// Cancels the requests sent with it (``HTTPClient/send(_:cancelledBy:)``) on demand, not when
/// their tasks are cancelled.
public final class RequestCanceller: Sendable {
    private struct State {
        var cancelled = false
        var tickets: [ObjectIdentifier: Ticket] = [:]
    }

    private let state = Mutex(State())
    private let client: HTTPClient

    /// - Parameter client: the client the requests are sent with.
    public init(client: HTTPClient) {
        self.client = client
    }

    /// Cancels every request in flight, and every later one at once.
    public func cancelAll() {
        let tickets = state.withLock { state -> [Ticket] in
            state.cancelled = true
            return Array(state.tickets.values)
        }
        client.cancel(tickets)
    }

    /// - Returns: `false` when already cancelled.
    func add(_ ticket: Ticket) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.tickets[ObjectIdentifier(ticket)] = ticket
            return true
        }
    }

    func remove(_ ticket: Ticket) {
        _ = state.withLock { $0.tickets.removeValue(forKey: ObjectIdentifier(ticket)) }
    }
}
