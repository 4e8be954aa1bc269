import Foundation
import RenkeiSystem
import Testing

@testable import RenkeiHTTP

@Suite struct HTTPClientRoundTripTests {
    @Test func postDeliversBodyAndHeadersIntactAndReturnsTheResponse() async throws {
        // Large enough that curl would add `Expect: 100-continue` if it were not suppressed.
        let entry = #"{"uid":"U0000000007","name":"山田 太郎","address":"東京都千代田区千代田1-1 🏯"},"#
        let json = "[" + String(repeating: entry, count: 12_000) + #"{"end":true}]"#
        let body = Array(json.utf8)
        let seen = Recorder<HTTPRequest>()
        try await withTestServer({ request in
            seen.record(request)
            return HTTPResponse(
                status: 201, headers: ["X-Reply": "ok", "Set-Cookie": "a=1", "set-cookie": "b=2"],
                body: Array("受領しました".utf8))
        }) { baseURL in
            try await withClient { client in
                let request = OutboundRequest(
                    url: baseURL + "/renkei/deltas?x=1",
                    method: "POST",
                    headers: [
                        "Content-Type": "application/json", "webhook-id": "library-sync:U0000000007:5",
                        "Authorization": "Bearer t0ken", "X-Empty": "",
                    ],
                    body: body)
                let response = try await client.send(request).get()
                #expect(response.status == 201)
                #expect(response.headers["x-reply"] == "ok")
                #expect(response.headers.values(named: "SET-COOKIE") == ["a=1", "b=2"])
                #expect(String(decoding: response.body, as: UTF8.self) == "受領しました")
                #expect(!response.bodyTruncated)
                #expect(response.httpVersion == "1.1")
                #expect(response.totalTime > .zero)

                let received = try #require(seen.all.first)
                #expect(received.method == "POST")
                #expect(received.path == "/renkei/deltas")
                #expect(received.body == body)
                #expect(received.headers["content-type"] == "application/json")
                #expect(received.headers["Webhook-Id"] == "library-sync:U0000000007:5")
                #expect(received.headers["authorization"] == "Bearer t0ken")
                #expect(received.headers["x-empty"] == "")
                #expect(received.headers["content-length"] == "\(body.count)")
                #expect(received.headers["expect"] == nil)
                #expect(received.headers["user-agent"]?.hasPrefix("renkei/") == true)
            }
        }
    }

    @Test func getAndErrorStatusesAreResponsesNotFailures() async throws {
        try await withTestServer({ request in
            HTTPResponse(
                status: request.method == "GET" ? 503 : 405, headers: ["Retry-After": "7"],
                body: Array("busy".utf8))
        }) { baseURL in
            try await withClient { client in
                let response = try await client.send(OutboundRequest(url: baseURL + "/changes", method: "GET")).get()
                #expect(response.status == 503)
                #expect(RetryAfter.delay(header: response.headers["retry-after"], now: Date()) == .seconds(7))
                #expect(response.body == Array("busy".utf8))
            }
        }
    }

    @Test func emptyPostBodyIsSentAsEmpty() async throws {
        let seen = Recorder<HTTPRequest>()
        try await withTestServer({ request in
            seen.record(request)
            return HTTPResponse(status: 204)
        }) { baseURL in
            try await withClient { client in
                let response = try await client.send(OutboundRequest(url: baseURL + "/", body: [])).get()
                #expect(response.status == 204)
                #expect(seen.all.first?.body == [])
                #expect(seen.all.first?.headers["content-length"] == "0")
                #expect(seen.all.first?.headers["content-type"] == nil)
            }
        }
    }

    @Test func hundredConcurrentSendsAllComplete() async throws {
        try await withTestServer({ request in
            HTTPResponse(status: 200, body: request.body)
        }) { baseURL in
            try await withClient(maxConnections: 16) { client in
                let results = await withTaskGroup(of: (Int, Result<OutboundResponse, TransportFailure>).self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            // Generous: this checks completeness, not speed (CI machines are shared).
                            let request = OutboundRequest(
                                url: baseURL + "/\(index)", body: Array("n=\(index)".utf8), timeout: .seconds(120))
                            return (index, await client.send(request))
                        }
                    }
                    var all: [(Int, Result<OutboundResponse, TransportFailure>)] = []
                    for await result in group { all.append(result) }
                    return all
                }
                #expect(results.count == 100)
                for (index, result) in results {
                    let response = try result.get()
                    #expect(response.status == 200)
                    #expect(response.body == Array("n=\(index)".utf8))
                }
            }
        }
    }

    @Test func responseBodyIsCappedButCounted() async throws {
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        try await withTestServer({ _ in HTTPResponse(status: 200, body: big) }) { baseURL in
            try await withClient { client in
                let capped = try await client.send(
                    OutboundRequest(url: baseURL + "/", method: "GET", maxResponseBytes: 1000)
                ).get()
                #expect(capped.body == Array(big.prefix(1000)))
                #expect(capped.bodyTruncated)
                #expect(capped.bodyBytesReceived == 100_000)

                let none = try await client.send(OutboundRequest(url: baseURL + "/", method: "GET", maxResponseBytes: 0))
                    .get()
                #expect(none.body.isEmpty && none.bodyTruncated)

                let whole = try await client.send(
                    OutboundRequest(url: baseURL + "/", method: "GET", maxResponseBytes: 100_000)
                ).get()
                #expect(whole.body == big && !whole.bodyTruncated)
            }
        }
    }
}
