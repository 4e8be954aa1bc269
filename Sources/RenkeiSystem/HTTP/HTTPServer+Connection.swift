import Dispatch
import Glibc
import Synchronization

/// Serves one connection on its own thread: TLS handshake, read with deadlines, parse, check the
/// head, call the handler, answer.
struct ConnectionHandler {
    let server: HTTPServer
    let socket: Socket

    private enum Phase {
        /// Between requests; the idle timeout runs.
        case idle(since: ContinuousClock.Instant)
        /// Part of a head arrived; the header timeout runs from its first byte.
        case head(since: ContinuousClock.Instant)
        /// The head is parsed; the body deadline moves with the bytes received.
        case body(head: HTTPRequestHead, since: ContinuousClock.Instant)
    }

    private enum ReadOutcome { case data, endOfStream, timedOut, stopping }

    func run() {
        let limits = server.limits
        let clock = ContinuousClock()
        let peer = socket.peerCredentials().flatMap { credentials -> PeerCredentials? in
            if case .unix = server.address { return credentials }
            return nil
        }
        let remoteAddress: String? = {
            if case .tcp = server.address { return socket.peerAddress() }
            return nil
        }()
        let stream: ConnectionStream
        do {
            stream = ConnectionStream(socket: socket, tls: try server.tls?.makeSession())
        } catch {
            server.logger.error("cannot serve a connection on \(server.address): \(error)")
            return
        }
        // The handshake counts as part of the first request's head: the header timeout bounds it.
        var parser = HTTPRequestParser(maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes)
        var phase = Phase.idle(since: clock.now)
        switch stream.handshake(until: clock.now.advanced(by: limits.headerTimeout), clock: clock) {
        case .ready(let early):
            if !early.isEmpty {
                parser.append(early)
                phase = .head(since: clock.now)
            }
        case .plainHTTP:
            server.logThrottled("plain HTTP", .notice, "plain HTTP from \(remoteAddress ?? "?") to the TLS listener \(server.address): answered 400")
            let plain = ConnectionStream(socket: socket, tls: nil)
            answerAndClose(.error(400, "this listener speaks TLS only: use https://"), on: plain)
            return
        case .failed(let reason):
            server.logThrottled("TLS handshake", .notice, "TLS handshake from \(remoteAddress ?? "?") on \(server.address) failed: \(reason)")
            socket.shutdown(reading: false, writing: true)
            return
        }

        while true {
            let event: HTTPRequestParser.Event?
            do {
                event = try parser.next()
            } catch {
                server.logger.debug("rejecting a request on \(server.address): \(error)")
                answerAndClose(HTTPResponse.error(error.status, error.message), on: stream)
                return
            }
            switch event {
            case .head(let head):
                // Authentication and routing from the head alone: a refused client never gets to send
                // its body, and is never told `100 Continue`.
                if let refusal = server.headCheck?(head) {
                    server.logThrottled(
                        "refused \(refusal.status)", .notice,
                        "refused \(head.method) \(head.target.prefix(200)) from \(remoteAddress ?? "?") before its body: \(refusal.status) \(HTTPResponse.reasonPhrase(refusal.status))")
                    answerAndClose(refusal, on: stream)
                    return
                }
                if head.expectsContinue && head.hasBody && parser.bufferedByteCount == 0 {
                    // RFC 9110 §10.1.1: tell the client to send the body it is holding back (curl waits up to 1 s).
                    guard (try? stream.send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))) != nil else { return }
                }
                phase = .body(head: head, since: clock.now)
                continue
            case .end(let body):
                guard case .body(let head, _) = phase else { return }
                let request = HTTPRequest(head: head, body: body, peer: peer, remoteAddress: remoteAddress)
                let response = callHandler(request)
                let stopping = server.stopping.load(ordering: .relaxed)
                let close = !head.keepAlive || stopping
                let bytes = response.serialized(close: close, includeBody: head.method != "HEAD")
                guard (try? stream.send(bytes)) != nil else { return }
                if close {
                    stream.closeWrite()
                    return
                }
                phase = .idle(since: clock.now)
                continue
            case nil:
                break
            }

            // More bytes are needed: work out how long we may wait for them.
            let deadline: ContinuousClock.Instant
            var sliced = false
            switch phase {
            case .idle(let since):
                deadline = since.advanced(by: limits.idleTimeout)
                sliced = true
            case .head(let since):
                deadline = since.advanced(by: limits.headerTimeout)
            case .body(_, let since):
                let seconds = Double(parser.bodyBytesReceived) / Double(limits.minimumBodyBytesPerSecond)
                deadline = since.advanced(by: limits.bodyTimeout + .seconds(seconds))
            }
            let wasIdle = parser.isAtRequestBoundary && parser.bufferedByteCount == 0
            switch read(from: stream, into: &parser, until: deadline, sliced: sliced, clock: clock) {
            case .data:
                if case .idle = phase, wasIdle { phase = .head(since: clock.now) }
            case .endOfStream, .stopping:
                return
            case .timedOut:
                switch phase {
                case .idle: return  // an idle keep-alive connection just closes
                case .head:
                    server.logger.debug("request head not received within \(limits.headerTimeout) on \(server.address)")
                    answerAndClose(.error(408, "request head not received within \(limits.headerTimeout)"), on: stream)
                case .body:
                    server.logger.debug("request body too slow on \(server.address)")
                    answerAndClose(.error(408, "request body not received in time"), on: stream)
                }
                return
            }
        }
    }

    /// Waits for and reads bytes until `deadline`; idle waits are cut into slices to notice `stop()`.
    private func read(
        from stream: ConnectionStream, into parser: inout HTTPRequestParser, until deadline: ContinuousClock.Instant,
        sliced: Bool, clock: ContinuousClock
    ) -> ReadOutcome {
        while true {
            if sliced && server.stopping.load(ordering: .relaxed) { return .stopping }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { return .timedOut }
            let wait = sliced ? min(remaining, .milliseconds(200)) : remaining
            do {
                guard try socket.waitReadable(timeout: wait) else { continue }
                switch try stream.receive() {
                case .bytes(let chunk):
                    parser.append(chunk)
                    return .data
                case .nothingYet: continue
                case .endOfStream: return .endOfStream
                }
            } catch {
                return .endOfStream
            }
        }
    }

    /// Runs the async handler (on the server's `handlerExecutor`, else the cooperative pool) and blocks
    /// this (non-pool) thread for the answer.
    private func callHandler(_ request: HTTPRequest) -> HTTPResponse {
        let box = ResponseBox()
        let handler = server.handler
        if let executor = server.handlerExecutor {
            Task(executorPreference: executor) { box.put(await handler(request)) }
        } else {
            Task { box.put(await handler(request)) }
        }
        return box.take()
    }

    /// Sends an error answer with `Connection: close`, then closes gently: shutdown(2) the write side
    /// and discard what the client still sends for a moment, so it reads the answer rather than a reset.
    private func answerAndClose(_ response: HTTPResponse, on stream: ConnectionStream) {
        guard (try? stream.send(response.serialized(close: true))) != nil else { return }
        stream.closeWrite()
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .seconds(2))
        var discarded = 0
        while discarded < 8 << 20 {
            let remaining = clock.now.duration(to: end)
            guard remaining > .zero, (try? socket.waitReadable(timeout: remaining)) == true else { return }
            var sink: [UInt8] = []
            guard let count = try? socket.read(appendingTo: &sink), count > 0 else { return }
            discarded += count
        }
    }
}

/// Hands a response from the handler's task to the waiting connection thread.
final class ResponseBox: Sendable {
    private let value = Mutex<HTTPResponse?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func put(_ response: HTTPResponse) {
        value.withLock { $0 = response }
        ready.signal()
    }

    func take() -> HTTPResponse {
        ready.wait()
        return value.withLock { $0.take() } ?? .error(500, "internal error: no response")
    }
}
