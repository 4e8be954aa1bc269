import RenkeiSystem
import Testing

@testable import RenkeiHTTP

@Suite struct HTTPClientLifecycleTests {
    @Test func shutdownAnswersEveryPendingTransfer() async throws {
        let seen = Recorder<String>()
        try await withTestServer({ request in
            seen.record(request.path)
            // Far longer than the bounds below: only shutdown can answer the transfers in time.
            try? await Task.sleep(for: .seconds(120))
            return HTTPResponse(status: 200)
        }) { baseURL in
            let client = HTTPClient(maxConnections: 4)
            let start = ContinuousClock.now
            let results = await withTaskGroup(of: TransportFailure.Kind?.self) { group in
                // 4 reach the server, the other 6 wait in curl's queue for a connection.
                for index in 0..<10 {
                    group.addTask { await client.send(OutboundRequest(url: baseURL + "/\(index)")).failure?.kind }
                }
                #expect(await eventually(within: .seconds(45)) { seen.all.count == 4 })
                await client.shutdown()
                var all: [TransportFailure.Kind?] = []
                for await kind in group { all.append(kind) }
                return all
            }
            #expect(results == Array(repeating: .cancelled, count: 10))
            #expect(ContinuousClock.now - start < .seconds(60))  // the server would take 120 s

            let late = await client.send(OutboundRequest(url: baseURL + "/late"))
            #expect(late.failure?.kind == .cancelled)
            await client.shutdown()  // again: returns at once
        }
    }

    @Test func cancellingTheTaskCancelsTheTransfer() async throws {
        let seen = Recorder<String>()
        try await withTestServer({ request in
            seen.record(request.path)
            // Far longer than the bound below: only cancellation can end the transfer in time.
            try? await Task.sleep(for: .seconds(120))
            return HTTPResponse(status: 200)
        }) { baseURL in
            try await withClient { client in
                let start = ContinuousClock.now
                let task = Task { await client.send(OutboundRequest(url: baseURL + "/")) }
                // Cancelled once the request is at the server: a transfer under way, not one never started.
                #expect(await eventually(within: .seconds(45)) { seen.all.count == 1 })
                task.cancel()
                let failure = try #require(await task.value.failure)
                #expect(failure.kind == .cancelled)
                #expect(ContinuousClock.now - start < .seconds(60))  // the server would take 120 s

                // An already-cancelled task never reaches the network.
                let early = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return await client.send(OutboundRequest(url: baseURL + "/"))
                }
                #expect(await early.value.failure?.kind == .cancelled)
            }
        }
    }

    @Test func clientWithoutShutdownStopsWhenReleased() async throws {
        HTTPClient.globalInit()
        HTTPClient.globalInit()
        for _ in 0..<5 {
            let client = HTTPClient()
            _ = await client.send(OutboundRequest(url: "http://127.0.0.1:\(closedLoopbackPort())/"))
        }
    }
}
