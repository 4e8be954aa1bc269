import Foundation
import RenkeiSystem
import Testing

@testable import RenkeiHTTP

@Suite struct HTTPClientFailureTests {
    /// N of curl's "timed out after N milliseconds", `nil` when the text has none.
    static func timedOutAfterMs(_ text: String) -> Int? {
        guard let range = text.range(of: "timed out after ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    @Test func totalTimeoutAgainstASlowHandlerIsTimeout() async throws {
        try await withTestServer({ _ in
            // Far longer than the bound below: only the 300 ms timeout can end the transfer in time,
            // however loaded the machine is (no tight wall-clock bounds in unit tests).
            try? await Task.sleep(for: .seconds(30))
            return HTTPResponse(status: 200)
        }) { baseURL in
            try await withClient { client in
                let result = await client.send(OutboundRequest(url: baseURL + "/", timeout: .milliseconds(300)))
                let failure = try #require(result.failure)
                #expect(failure.kind == .timeout)
                #expect(failure.curlCode == 28)
                // The transfer's own duration, as curl measured it ("timed out after N milliseconds"):
                // the wall clock around `send` also counts the wait for a busy cooperative pool to resume
                // this task (16 s once, under the full suite), which says nothing about the timeout.
                let elapsed = Self.timedOutAfterMs(failure.description)
                #expect(elapsed.map { $0 < 15_000 } == true, "\(failure.description)")
            }
        }
    }

    @Test func closedPortIsCouldNotConnect() async throws {
        let port = closedLoopbackPort()
        try await withClient { client in
            let result = await client.send(OutboundRequest(url: "http://127.0.0.1:\(port)/", connectTimeout: .seconds(2)))
            let failure = try #require(result.failure)
            #expect(failure.kind == .couldNotConnect)
            #expect(failure.curlCode == 7)
            #expect(failure.message.contains("reachable"))
        }
    }

    @Test func serverClosingMidBodyIsConnectionReset() async throws {
        let server = try RawLoopbackServer { _ in .closeMidBody(promised: 10_000, sent: 100) }
        defer { server.stop() }
        try await withClient { client in
            let failure = try #require(await client.send(OutboundRequest(url: server.url + "/")).failure)
            #expect(failure.kind == .connectionReset)
        }
    }

    @Test func serverClosingWithoutAnswerIsConnectionReset() async throws {
        let server = try RawLoopbackServer { _ in .closeSilently }
        defer { server.stop() }
        try await withClient { client in
            let failure = try #require(await client.send(OutboundRequest(url: server.url + "/")).failure)
            #expect(failure.kind == .connectionReset)
            #expect(failure.curlCode == 52)
        }
    }

    @Test func tlsToAPlainServerIsTLS() async throws {
        // A plain-HTTP answer to the ClientHello, which no TLS stack accepts.
        let server = try RawLoopbackServer(greeting: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8)) { _ in .closeSilently }
        defer { server.stop() }
        try await withClient { client in
            let url = "https://127.0.0.1:\(server.port)/"
            let failure = try #require(await client.send(OutboundRequest(url: url, timeout: .seconds(3))).failure)
            #expect(failure.kind == .tls, "\(failure)")
        }
    }

    @Test func missingCAFileIsTLS() async throws {
        let server = try RawLoopbackServer { _ in .respond(status: 200, body: []) }
        defer { server.stop() }
        try await withClient { client in
            let request = OutboundRequest(
                url: "https://127.0.0.1:\(server.port)/", timeout: .seconds(3),
                tls: TLSOptions(caFile: "/nonexistent/renkei-ca.pem"))
            let failure = try #require(await client.send(request).failure)
            #expect(failure.kind == .tls)
        }
    }

    @Test(arguments: [
        OutboundRequest(url: "http://127.0.0.1:9/", headers: ["X-Bad": "a\r\nInjected: yes"]),
        OutboundRequest(url: "http://127.0.0.1:9/", headers: ["Bad Name": "x"]),
        OutboundRequest(url: "http://127.0.0.1:9/", method: "PO ST"),
        OutboundRequest(url: "http://127.0.0.1:9/", method: "GET", body: [1]),
        OutboundRequest(url: "http://127.0.0.1:9/a b"),
        OutboundRequest(url: ""),
        OutboundRequest(url: "ftp://127.0.0.1:9/file"),
        OutboundRequest(url: "file:///etc/passwd", method: "GET"),
    ])
    func unusableRequestsAreInvalidRequest(request: OutboundRequest) async throws {
        try await withClient { client in
            let failure = try #require(await client.send(request).failure)
            #expect(failure.kind == .invalidRequest, "\(failure)")
        }
    }
}
