import Foundation
import Glibc
import RenkeiCore
import Synchronization
import Testing
@testable import RenkeiSystem

@Suite struct HTTPServerTests {
    func withServer(
        limits: HTTPServerLimits = HTTPServerLimits(),
        _ body: @escaping @Sendable (String, HTTPServer) throws -> Void
    ) async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/s.sock"
        let server = HTTPServer(
            address: .unix(path: path, mode: 0o660, group: nil), limits: limits, logger: quietLogger,
            handlerExecutor: testHandlerExecutor, handler: echoHandler)
        try server.start()
        do {
            // Blocking socket code runs on its own thread: the cooperative pool must stay free for handlers.
            try await BlockingThread.run { () throws(any Error) in try body(path, server) }
        } catch {
            await server.stop(deadline: .seconds(1))
            throw error
        }
        await server.stop(deadline: .seconds(1))
    }

    @Test func getAndPostRoundTrip() async throws {
        try await withServer { path, _ in
            let client = UnixHTTPClient(socketPath: path, timeout: .seconds(60))
            let get = try client.request(method: "GET", path: "/v1/persons?source=library&subject=L%200001")
            #expect(get.status == 200)
            let value = try JSONParser.parse(get.body)
            #expect(value["path"] == "/v1/persons")
            #expect(value["q_subject"] == "L 0001")
            #expect(value["q_source"] == "library")
            #expect(get.headers["content-type"] == "application/json")

            let post = try client.request(method: "POST", path: "/v1/replay", body: Array("日本語\n".utf8))
            #expect(post.status == 200)
            #expect(try JSONParser.parse(post.body)["body"] == "日本語\n")
        }
    }

    @Test func peerCredentialsAreTheCallers() async throws {
        try await withServer { path, _ in
            let reply = try UnixHTTPClient(socketPath: path).request(method: "GET", path: "/")
            #expect(try JSONParser.parse(reply.body)["uid"] == .integer(Int64(getuid())))
        }
    }

    @Test func socketFileModeIs0660() async throws {
        try await withServer { path, _ in
            var info = stat()
            #expect(lstat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
        }
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() async throws {
        try await withServer { path, _ in
            let socket = try rawConnect(path)
            try socket.write(Array("GET /one HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let first = try readResponses(socket, count: 1)
            try socket.write(Array("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc".utf8))
            let second = try readResponses(socket, count: 1)
            #expect(first.first?.0 == 200)
            #expect(first.first?.1.contains("/one") == true)
            #expect(second.first?.0 == 200)
            #expect(second.first?.1.contains("\"abc\"") == true)
        }
    }

    @Test func chunkedBodyAndExpectContinue() async throws {
        try await withServer { path, _ in
            let socket = try rawConnect(path)
            try socket.write(Array(
                "POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
            var buffer: [UInt8] = []
            #expect(try socket.waitReadable(timeout: .seconds(30)))
            _ = try socket.read(appendingTo: &buffer)
            #expect(String(decoding: buffer, as: UTF8.self).hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
            try socket.write(Array("3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n".utf8))
            let reply = try readResponses(socket, count: 1)
            #expect(reply.first?.1.contains("\"abcde\"") == true)
        }
    }

    @Test func oversizeBodyIsAnswered413BeforeItIsSent() async throws {
        var limits = HTTPServerLimits()
        limits.maxBodyBytes = 1000
        try await withServer(limits: limits) { path, _ in
            let socket = try rawConnect(path)
            try socket.write(Array("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n".utf8))
            let reply = try readAll(socket)
            #expect(reply.hasPrefix("HTTP/1.1 413 "))
            #expect(reply.contains("Connection: close"))
            #expect(reply.contains("{\"error\":"))
        }
    }

    @Test func dribblingClientIsCutOffAfterTheHeaderTimeout() async throws {
        var limits = HTTPServerLimits()
        limits.headerTimeout = .milliseconds(600)
        try await withServer(limits: limits) { path, _ in
            let socket = try rawConnect(path)
            let clock = ContinuousClock()
            let start = clock.now
            var cutOff = false
            for byte in "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaa".utf8 {
                if (try? socket.write([byte])) == nil { cutOff = true; break }
                if try socket.waitReadable(timeout: .milliseconds(100)) { cutOff = true; break }
            }
            let elapsed = clock.now - start
            #expect(cutOff)
            // Cut off after the 600 ms header limit, not before; the upper bound only says "not never"
            // (handlers and timers share two threads with the whole parallel test run).
            #expect(elapsed >= .milliseconds(500) && elapsed < .seconds(20))
            let reply = try readAll(socket, timeout: .seconds(30))
            #expect(reply.hasPrefix("HTTP/1.1 408 "))
        }
    }

    @Test func staleSocketFileIsReplacedAndALiveOneRefused() async throws {
        try await withServer { path, _ in
            let second = HTTPServer(
                address: .unix(path: path, mode: 0o660, group: nil), logger: quietLogger, handler: echoHandler)
            #expect(throws: SystemError.self) { try second.start() }
        }
        // After stop the file is gone; a leftover file from a crash is removed on start.
        let directory = TemporaryDirectory()
        let path = directory.path + "/stale.sock"
        do {
            let leftover = try Socket.make(family: AF_UNIX)
            try leftover.bind(.unix(path))
        }
        let server = HTTPServer(
            address: .unix(path: path, mode: 0o660, group: nil), logger: quietLogger, handlerExecutor: testHandlerExecutor,
            handler: echoHandler)
        try server.start()
        #expect(try await UnixHTTPClient(socketPath: path).send(method: "GET", path: "/").status == 200)
        await server.stop(deadline: .seconds(1))
    }

    @Test func tcpOnLoopbackWithPortZero() async throws {
        let server = HTTPServer(
            address: .tcp(host: "127.0.0.1", port: 0), logger: quietLogger, handlerExecutor: testHandlerExecutor, handler: echoHandler)
        try server.start()
        let port = try #require(server.boundPort)
        #expect(port > 0)
        let reply = try await BlockingThread.run { () throws(any Error) in try tcpGet(port) }
        #expect(reply.hasPrefix("HTTP/1.1 200 OK"))
        #expect(reply.contains("\"remote\":\"127.0.0.1:"))
        #expect(!reply.contains("\"uid\""))
        await server.stop(deadline: .seconds(1))
    }

    func tcpGet(_ port: Int) throws -> String {
        let socket = try Socket.make(family: AF_INET)
        try socket.connect(try SocketAddress.resolve(host: "127.0.0.1", port: port))
        try socket.write(Array("GET /tcp?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        return try readAll(socket)
    }

    @Test func stopWaitsForInFlightRequests() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/slow.sock"
        let started = Atomic<Bool>(false)
        let server = HTTPServer(
            address: .unix(path: path, mode: 0o600, group: nil), logger: quietLogger, handlerExecutor: testHandlerExecutor
        ) { _ in
            started.store(true, ordering: .relaxed)
            try? await Task.sleep(for: .milliseconds(300))
            return .text(200, "done")
        }
        try server.start()
        let reply = Task { try await UnixHTTPClient(socketPath: path).send(method: "GET", path: "/") }
        while !started.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        await server.stop(deadline: .seconds(3))
        let result = try await reply.value
        #expect(result.status == 200)
        #expect(String(decoding: result.body, as: UTF8.self) == "done")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

/// Where the test servers' handlers run: off the cooperative pool, as the daemon's status and push
/// servers' do, so a reply does not wait for CPU-heavy tests elsewhere in the process to free a pool
/// thread (ops/test-under-load run 16 once waited 30 s for one).
let testHandlerExecutor = DispatchTaskExecutor(label: "http-server-tests")

/// `handlerExecutor`: handler tasks run on the given executor (before and after a suspension), not on
/// the cooperative pool, so a test receiver answers while other tests hold every pool thread.
@Suite struct HTTPServerExecutorTests {
    @Test func handlersRunOnTheGivenExecutor() async throws {
        let executor = DispatchTaskExecutor(label: "handler-test")
        let directory = TemporaryDirectory()
        let path = directory.path + "/e.sock"
        let server = HTTPServer(
            address: .unix(path: path, mode: 0o600, group: nil), logger: quietLogger, handlerExecutor: executor
        ) { _ in
            let before = executor.isCurrent
            try? await Task.sleep(for: .milliseconds(5))
            return .text(200, "\(before) \(executor.isCurrent)")
        }
        try server.start()
        let body = try await BlockingThread.run { () throws(any Error) in
            try UnixHTTPClient(socketPath: path, timeout: .seconds(30)).request(method: "GET", path: "/").body
        }
        await server.stop(deadline: .seconds(1))
        #expect(String(decoding: body, as: UTF8.self) == "true true")
        #expect(!executor.isCurrent)
    }
}
