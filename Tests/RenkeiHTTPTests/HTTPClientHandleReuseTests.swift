import RenkeiSystem
import Testing

@testable import RenkeiHTTP

/// The loop reuses easy handles: nothing of one request (method, body, headers, `User-Agent`,
/// response headers, error text) may reach the next one that runs on the same handle.
@Suite struct HTTPClientHandleReuseTests {
    @Test func requestsOneAfterAnotherOnOneHandleCarryNothingOver() async throws {
        let seen = Recorder<HTTPRequest>()
        try await withTestServer({ request in
            seen.record(request)
            return HTTPResponse(status: 200, headers: ["X-Path": request.path], body: Array(request.path.utf8))
        }) { baseURL in
            // One connection and requests in sequence: every request after the first finds the
            // handle the previous one used in the pool.
            try await withClient(maxConnections: 1) { client in
                let large = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
                let requests = [
                    OutboundRequest(
                        url: baseURL + "/1", headers: ["User-Agent": "custom/1", "X-A": "a"], body: Array("first".utf8)),
                    OutboundRequest(url: baseURL + "/2", headers: ["X-B": "b"], body: Array("second, longer".utf8)),
                    OutboundRequest(url: baseURL + "/3", method: "PUT", body: Array("third".utf8)),
                    OutboundRequest(url: baseURL + "/4", body: []),
                    OutboundRequest(url: baseURL + "/5", method: "GET"),
                    OutboundRequest(url: baseURL + "/6", body: large),
                    OutboundRequest(url: baseURL + "/7", body: Array("x".utf8)),
                ]
                for request in requests {
                    let response = try await client.send(request).get()
                    let path = String(request.url.dropFirst(baseURL.count))
                    #expect(response.status == 200)
                    #expect(response.headers.values(named: "X-Path") == [path])
                    #expect(response.body == Array(path.utf8))
                }

                let received = seen.all
                try #require(received.count == requests.count)
                #expect(received.map(\.method) == ["POST", "POST", "PUT", "POST", "GET", "POST", "POST"])
                #expect(received.map(\.body) == requests.map(\.body))
                #expect(received[0].headers["user-agent"] == "custom/1")
                #expect(received[0].headers["x-a"] == "a")
                #expect(received[1].headers["user-agent"]?.hasPrefix("renkei/") == true)
                #expect(received[1].headers["x-a"] == nil)
                #expect(received[1].headers["x-b"] == "b")
                #expect(received[2].headers["x-b"] == nil)
                #expect(received[3].headers["content-length"] == "0")
                #expect(received[4].headers["content-length"] == nil)
                #expect(received[5].headers["content-length"] == "\(large.count)")
                #expect(received[6].headers["content-length"] == "1")
            }
        }
    }

    @Test func aFailedRequestLeavesNothingForTheNext() async throws {
        try await withTestServer({ request in
            HTTPResponse(status: 204, headers: [:], body: [])
        }) { baseURL in
            try await withClient(maxConnections: 1) { client in
                // Port 1 on loopback: nothing listens, the connection is refused.
                let refused = await client.send(OutboundRequest(url: "http://127.0.0.1:1/x", body: Array("a".utf8)))
                let failure = try #require(refused.failure)
                #expect(failure.kind == .couldNotConnect)
                for _ in 0..<3 {
                    let response = try await client.send(OutboundRequest(url: baseURL + "/ok", body: Array("b".utf8))).get()
                    #expect(response.status == 204)
                }
                let again = await client.send(OutboundRequest(url: "http://127.0.0.1:1/y", body: []))
                #expect(again.failure?.kind == .couldNotConnect)
            }
        }
    }
}
