import Testing

@testable import RenkeiHTTP

@Suite struct HTTPClientConnectionTests {
    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try RawLoopbackServer { _ in .respond(status: 200, body: Array("ok".utf8)) }
        defer { server.stop() }
        try await withClient { client in
            for index in 0..<20 {
                let response = try await client.send(OutboundRequest(url: server.url + "/\(index)")).get()
                #expect(response.status == 200)
            }
        }
        #expect(server.received.count == 20)
        #expect(server.accepted == 1)
    }

    @Test func concurrentRequestsStayWithinMaxConnections() async throws {
        let server = try RawLoopbackServer { received in .respond(status: 200, body: received.body) }
        defer { server.stop() }
        await withClient(maxConnections: 8) { client in
            let statuses = await withTaskGroup(of: Int.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let request = OutboundRequest(url: server.url + "/", body: Array("\(index)".utf8))
                        return (try? await client.send(request).get().status) ?? -1
                    }
                }
                var all: [Int] = []
                for await status in group { all.append(status) }
                return all
            }
            #expect(statuses == Array(repeating: 200, count: 100))
        }
        #expect(server.received.count == 100)
        #expect(server.accepted <= 8)
        #expect(server.accepted < server.received.count)
    }
}
