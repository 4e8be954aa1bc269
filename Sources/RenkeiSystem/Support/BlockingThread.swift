import Foundation

/// Runs blocking work on a fresh thread and awaits it, keeping the cooperative pool free.
///
/// The cooperative pool has one thread per core (two on a small VM): a blocking `recv` there can
/// starve every task, including the HTTP handlers that would answer it. Every blocking call made
/// from async code (a socket exchange, reading a spool file) goes through here.
public enum BlockingThread {
    /// Runs `body` on a new thread named `name` and returns its result (or rethrows its error).
    /// - Parameters:
    ///   - name: the thread's name, as `top -H` and debuggers show it.
    ///   - body: the blocking work.
    /// - Throws: what `body` throws.
    public static func run<Value: Sendable, Failure: Error>(
        name: String = "renkei-blocking", _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(Failure) in try body() })
            }
            thread.name = name
            thread.start()
        }
        return try result.get()
    }
}

extension UnixHTTPClient {
    /// Sends one request from async code: the blocking exchange runs on its own thread.
    /// - Parameters:
    ///   - method: e.g. `GET`.
    ///   - path: the request target.
    ///   - headers: extra header fields.
    ///   - body: the request body.
    /// - Returns: the status, headers and body of the reply.
    /// - Throws: ``SystemError`` as ``request(method:path:headers:body:)`` does.
    public func send(
        method: String, path: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) async throws(SystemError) -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        try await BlockingThread.run { () throws(SystemError) in
            try self.request(method: method, path: path, headers: headers, body: body)
        }
    }
}
