internal import CCurl

#if canImport(Glibc)
import Glibc
#endif

/// The loop thread: owns the multi handle and every easy handle, and is the only code that calls
/// libcurl on them (apart from `curl_multi_wakeup`, see `Engine`).
///
/// Each turn: start queued requests, cancel flagged ones, `curl_multi_perform`, answer finished
/// transfers from `curl_multi_info_read`, then sleep in `curl_multi_poll` until a socket is ready,
/// curl's next timer is due, another thread calls `curl_multi_wakeup`, or `pollTimeoutMilliseconds`.
final class MultiLoop {
    struct Settings: Sendable {
        var maxConnections: Int
        var maxConnectionsPerHost: Int
        var userAgent: String
    }

    /// The longest one `curl_multi_poll` sleeps; curl shortens it to its own next timeout.
    static let pollTimeoutMilliseconds: Int32 = 1000

    private let engine: Engine
    private let settings: Settings
    /// The `CURLM *`.
    private let multi: UnsafeMutableRawPointer
    /// Running transfers by `CURL *`; an entry keeps the handle (and its callback box) alive exactly
    /// as long as it is in the multi handle.
    private var active: [UnsafeMutableRawPointer: EasyHandle] = [:]
    /// Handles whose transfer completed, configured for their last request, waiting for the next.
    private var pool: EasyHandlePool

    private init(engine: Engine, settings: Settings, multi: UnsafeMutableRawPointer) {
        self.engine = engine
        self.settings = settings
        self.multi = multi
        pool = EasyHandlePool(capacity: settings.maxConnections)
    }

    /// The body of the loop thread: creates the multi handle, runs until asked to stop, then
    /// answers every unfinished request and frees every handle.
    static func run(engine: Engine, settings: Settings) {
        // curl_multi_init returns NULL only when it cannot allocate.
        guard let multi = curl_multi_init() else {
            engine.fail(TransportFailure(kind: .other, message: "curl_multi_init failed: out of memory"))
            return
        }
        // CURLMOPT_MAX_TOTAL_CONNECTIONS / MAX_HOST_CONNECTIONS: transfers beyond these wait in the
        // multi handle's queue for a free connection instead of failing.
        _ = renkei_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.maxConnections)
        _ = renkei_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.maxConnectionsPerHost)
        // CURLMOPT_MAXCONNECTS: the idle-connection cache; as large as the limit, so finished
        // connections stay open for reuse.
        _ = renkei_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, settings.maxConnections)
        // CURLMOPT_PIPELINING CURLPIPE_MULTIPLEX: several transfers share one HTTP/2 connection.
        _ = renkei_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))

        let loop = MultiLoop(engine: engine, settings: settings, multi: multi)
        engine.started(multi)
        loop.runUntilStopped()
        loop.tearDown()
    }

    // MARK: - The loop

    private func runUntilStopped() {
        while true {
            let work = engine.takeWork()
            if work.stop {
                for submission in work.submissions {
                    submission.answer(.failure(.cancelled("the HTTP client shut down before the request started")))
                }
                return
            }
            for submission in work.submissions { start(submission) }
            if work.scanCancellations { cancelFlagged() }

            var running: Int32 = 0
            // curl_multi_perform: does whatever I/O is ready on every transfer without blocking.
            _ = curl_multi_perform(multi, &running)
            collectFinished()

            // curl_multi_poll: blocks until activity, curl's own timeout, timeout_ms, or
            // curl_multi_wakeup; unlike curl_multi_wait it also sleeps when there are no transfers.
            let code = curl_multi_poll(multi, nil, 0, Self.pollTimeoutMilliseconds, nil)
            if code != CURLM_OK {
                usleep(10_000)  // never spin if polling itself fails
            }
        }
    }

    private func start(_ submission: Submission) {
        if submission.ticket.isCancelled {
            submission.answer(.failure(.cancelled("the request's task was cancelled")))
            return
        }
        let profile = EasyHandle.Profile(submission.request, userAgent: settings.userAgent)
        let handle: EasyHandle
        do throws(TransportFailure) {
            // A handle that fails here is dropped, not pooled: it may be half configured.
            if let idle = pool.take(for: profile) { handle = idle } else { handle = try EasyHandle() }
            try handle.prepare(submission, profile: profile)
        } catch {
            submission.answer(.failure(error))
            return
        }
        // curl_multi_add_handle: the transfer starts on the next curl_multi_perform.
        let code = curl_multi_add_handle(multi, handle.easy)
        guard code == CURLM_OK else {
            let text = String(cString: curl_multi_strerror(code))
            submission.answer(.failure(TransportFailure(kind: .other, message: "curl_multi_add_handle: \(text)")))
            return
        }
        active[handle.easy] = handle
    }

    private func cancelFlagged() {
        for (easy, handle) in active where handle.transfer?.submission.ticket.isCancelled == true {
            let transfer = remove(easy)
            transfer?.submission.answer(.failure(.cancelled("the request's task was cancelled")))
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        // curl_multi_info_read: one message per finished transfer; the message is only valid until
        // the handle is removed, so its fields are read first.
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            guard let handle = active[easy], let transfer = handle.transfer else { continue }
            let result = outcome(of: transfer, on: handle, code: code)
            remove(easy, reuse: code == CURLE_OK)
            transfer.submission.answer(result)
        }
    }

    /// Removes a handle from the multi handle and ends its request.
    /// - Parameters:
    ///   - easy: The `CURL *` of a running transfer.
    ///   - reuse: Whether the transfer completed, so that the handle may serve a later request;
    ///     otherwise it is freed.
    /// - Returns: The request, with whatever response arrived.
    @discardableResult
    private func remove(_ easy: UnsafeMutableRawPointer, reuse: Bool = false) -> Transfer? {
        // curl_multi_remove_handle: stops the transfer; the connection goes back to the pool if
        // it is still usable.
        _ = curl_multi_remove_handle(multi, easy)
        guard let handle = active.removeValue(forKey: easy) else { return nil }
        let transfer = handle.finish()
        if reuse { pool.put(handle) }
        return transfer
    }

    private func outcome(
        of transfer: Transfer, on handle: EasyHandle, code: CURLcode
    ) -> Result<OutboundResponse, TransportFailure> {
        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR, let reason = transfer.abortReason { return .failure(reason) }
            return .failure(
                TransportFailure(curlCode: Int(code.rawValue), detail: handle.errorText, context: transfer.failureContext))
        }
        // CURLINFO_RESPONSE_CODE: the last response's status; CURLINFO_HTTP_VERSION: the version used;
        // CURLINFO_TOTAL_TIME_T: the whole transfer in microseconds.
        var status = 0
        _ = renkei_curl_easy_getinfo_long(handle.easy, CURLINFO_RESPONSE_CODE, &status)
        var version = 0
        _ = renkei_curl_easy_getinfo_long(handle.easy, CURLINFO_HTTP_VERSION, &version)
        var micros: curl_off_t = 0
        _ = renkei_curl_easy_getinfo_off_t(handle.easy, CURLINFO_TOTAL_TIME_T, &micros)
        return .success(
            OutboundResponse(
                status: status,
                headers: OutboundHeaders(transfer.responseHeaders),
                body: transfer.body,
                bodyTruncated: transfer.bodyBytesReceived > transfer.body.count,
                bodyBytesReceived: transfer.bodyBytesReceived,
                httpVersion: Self.versionName(version),
                totalTime: .microseconds(Int64(micros))))
    }

    static func versionName(_ version: Int) -> String {
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): return "1.0"
        case Int(CURL_HTTP_VERSION_1_1): return "1.1"
        case Int(CURL_HTTP_VERSION_2_0): return "2"
        case Int(CURL_HTTP_VERSION_3): return "3"
        default: return "unknown"
        }
    }

    // MARK: - Shutdown

    private func tearDown() {
        for easy in Array(active.keys) {
            let transfer = remove(easy)
            transfer?.submission.answer(.failure(.cancelled("the HTTP client shut down before a response arrived")))
        }
        pool.removeAll()
        // From here on no other thread calls curl_multi_wakeup on the handle.
        let (inbox, waiters) = engine.stopped()
        // curl_multi_cleanup: every easy handle is already removed; closes pooled connections.
        _ = curl_multi_cleanup(multi)
        for submission in inbox {
            submission.answer(.failure(.cancelled("the HTTP client shut down before the request started")))
        }
        for waiter in waiters { waiter.resume() }
    }
}
