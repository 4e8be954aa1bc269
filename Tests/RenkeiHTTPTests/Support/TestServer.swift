import RenkeiHTTP
import RenkeiSystem
import Synchronization
import Testing

/// Runs `body` against a RenkeiSystem `HTTPServer` on 127.0.0.1 (a free port), then stops it.
func withTestServer<T>(
    maxConnections: Int = 256,
    _ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse,
    _ body: (_ baseURL: String) async throws -> T
) async throws -> T {
    let server = HTTPServer(
        address: .tcp(host: "127.0.0.1", port: 0),
        limits: HTTPServerLimits(maxConnections: maxConnections),
        logger: Logger(label: "test-server", minimumLevel: .error, sink: LogSink { _ in }),
        // Off the cooperative pool: other suites' synchronous tests may hold every pool thread for
        // longer than a client's 10 s timeout, and this server must still answer.
        handlerExecutor: DispatchTaskExecutor(label: "test-server"),
        handler: handler)
    try server.start()
    let port = try #require(server.boundPort)
    do {
        let result = try await body("http://127.0.0.1:\(port)")
        await server.stop(deadline: .milliseconds(500))
        return result
    } catch {
        await server.stop(deadline: .milliseconds(500))
        throw error
    }
}

/// Runs `body` with a fresh client and shuts it down afterwards.
func withClient<T>(
    maxConnections: Int = 64,
    _ body: (HTTPClient) async throws -> T
) async rethrows -> T {
    let client = HTTPClient(maxConnections: maxConnections)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Records what a handler saw, for assertions after the response.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func record(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// Polls `condition` every 10 ms for at most `limit`.
func eventually(within limit: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
