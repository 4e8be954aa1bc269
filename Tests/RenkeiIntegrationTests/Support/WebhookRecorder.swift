import Foundation
import RenkeiCore
import RenkeiSystem
import Synchronization

/// A webhook receiver owned by a test: an in-process `HTTPServer` on 127.0.0.1 (port 0) that
/// records every request and can fail the first N deliveries with 503.
final class WebhookRecorder: Sendable {
    /// One request as received, and what was answered.
    struct Delivery: Sendable {
        var method: String
        var target: String
        var headers: HTTPHeaders
        var body: [UInt8]
        var answered: Int
        var receivedAt: Date

        /// The `webhook-id` header.
        var id: String { headers["webhook-id"] ?? "" }
        /// The body as JSON (`.null` if it is not JSON).
        var json: JSONValue { JSONValue.parse(bytes: body) ?? .null }
        /// Whether the answer was 2xx.
        var delivered: Bool { (200..<300).contains(answered) }
    }

    private struct State {
        var deliveries: [Delivery] = []
        var failuresLeft = 0
        var failureStatus = 503
    }

    /// The shared state, in a class so the server's handler can hold it.
    private final class Box: Sendable {
        let state = Mutex(State())
    }

    private let box = Box()
    private let server: Mutex<HTTPServer?> = Mutex(nil)

    /// The URL to put in a subscription.
    let url: String

    /// Starts listening on 127.0.0.1 on a free port.
    init() throws {
        let box = self.box
        let server = HTTPServer(
            address: .tcp(host: "127.0.0.1", port: 0),
            logger: Logger(label: "test-receiver", minimumLevel: .warning),
            handlerExecutor: DispatchTaskExecutor(label: "test-receiver")  // answers even when the pool is busy
        ) { request in
            WebhookRecorder.answer(request, box: box)
        }
        try server.start()
        guard let port = server.boundPort else { throw HarnessError("the test receiver has no port") }
        self.url = "http://127.0.0.1:\(port)/hook"
        self.server.withLock { $0 = server }
    }

    private static func answer(_ request: HTTPRequest, box: Box) -> HTTPResponse {
        box.state.withLock { state in
            var status = 204
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                status = state.failureStatus
            }
            state.deliveries.append(
                Delivery(
                    method: request.method, target: request.target, headers: request.headers, body: request.body,
                    answered: status, receivedAt: Date()))
            return status == 204
                ? HTTPResponse(status: 204) : HTTPResponse(status: status, headers: ["Retry-After": "1"])
        }
    }

    /// Makes the next `count` requests fail with `status` (and `Retry-After: 1`).
    func failNext(_ count: Int, status: Int = 503) {
        box.state.withLock {
            $0.failuresLeft = count
            $0.failureStatus = status
        }
    }

    /// Every request so far, in arrival order.
    var deliveries: [Delivery] { box.state.withLock { $0.deliveries } }

    /// Stops the server.
    func stop() async {
        let server = self.server.withLock { server -> HTTPServer? in
            defer { server = nil }
            return server
        }
        await server?.stop(deadline: .seconds(2))
    }
}
