import Testing

@testable import RenkeiHTTP

@Suite struct TransportFailureTests {
    @Test(arguments: [
        (28, TransportFailure.Kind.timeout), (6, .couldNotResolve), (5, .couldNotResolve), (7, .couldNotConnect),
        (35, .tls), (60, .tls), (58, .tls), (77, .tls), (56, .connectionReset), (55, .connectionReset),
        (52, .connectionReset), (18, .connectionReset), (92, .connectionReset), (1, .invalidRequest),
        (3, .invalidRequest), (27, .other), (23, .other),
    ])
    func curlCodesMapToKinds(code: Int, kind: TransportFailure.Kind) {
        #expect(TransportFailure.kind(ofCurlCode: code) == kind)
    }

    @Test func messageUsesCurlsTextOrItsStrerror() {
        let detailed = TransportFailure(curlCode: 7, detail: "Failed to connect to 127.0.0.1 port 1: Connection refused")
        #expect(detailed.message.hasPrefix("Failed to connect to 127.0.0.1 port 1"))
        #expect(detailed.description.contains("curl error 7"))
        #expect(detailed.description.hasPrefix("couldNotConnect:"))

        let bare = TransportFailure(curlCode: 28, detail: "")
        #expect(bare.message.contains("Timeout"))
        #expect(bare.message.contains("timeout_s"))
    }

    @Test func durationsBecomeWholeMillisecondsOfAtLeastOne() {
        #expect(Transfer.milliseconds(.seconds(10)) == 10_000)
        #expect(Transfer.milliseconds(.microseconds(1500)) == 2)
        #expect(Transfer.milliseconds(.zero) == 1)
        #expect(Transfer.milliseconds(.seconds(-5)) == 1)
        #expect(Transfer.milliseconds(.seconds(Int64.max)) == Int(Int32.max))
    }

    @Test func tokens() {
        #expect(Transfer.isToken("POST"))
        #expect(Transfer.isToken("webhook-id"))
        #expect(!Transfer.isToken(""))
        #expect(!Transfer.isToken("Bad Name"))
        #expect(!Transfer.isToken("名前"))
        #expect(!Transfer.isToken("a:b"))
    }
}

@Suite struct OutboundHeadersTests {
    @Test func lookupIsCaseInsensitiveAndKeepsOrder() {
        var headers: OutboundHeaders = ["Content-Type": "application/json", "X-A": "1"]
        headers.append(name: "x-a", value: "2")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["X-a"] == "1")
        #expect(headers.values(named: "X-A") == ["1", "2"])
        #expect(headers.contains(name: "CONTENT-TYPE"))
        #expect(!headers.contains(name: "Content-Typ"))
        #expect(headers.map(\.name) == ["Content-Type", "X-A", "x-a"])
    }
}
