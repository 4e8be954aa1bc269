import Dispatch
import RenkeiSystem

/// Runs `RenkeiSystem.UnixHTTPClient` (which blocks) on a Dispatch thread, off the cooperative pool.
enum StatusSocketClient {
    /// One reply.
    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    /// Sends one request to the UNIX socket at `socketPath` and returns the whole reply.
    static func send(
        socketPath: String, method: String, target: String, headers: HTTPHeaders, body: [UInt8],
        timeout: Duration = .seconds(60)
    ) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let client = UnixHTTPClient(socketPath: socketPath, timeout: timeout)
                do {
                    let reply = try client.request(method: method, path: target, headers: headers, body: body)
                    continuation.resume(returning: Response(status: reply.status, body: reply.body))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
