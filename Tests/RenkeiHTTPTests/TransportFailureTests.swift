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

    /// A TLS 1.3 receiver refuses a missing or untrusted client certificate after our handshake is
    /// done, so curl reports a send or receive error; the failure must still point at TLS.
    @Test func aRefusedClientCertificateNamesTLSNotABrokenConnection() {
        let alerted = TransportFailure(
            curlCode: 56,
            detail: "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0",
            context: .init(https: true))
        #expect(alerted.kind == .tls)
        #expect(alerted.message.contains("alert 'certificate required'"), "\(alerted)")
        #expect(alerted.message.contains("client_cert"))
        #expect(TransportFailure.tlsAlert(in: "error:0A000418:SSL routines::tlsv1 alert unknown ca") == "unknown ca")
        #expect(TransportFailure.tlsAlert(in: "Connection reset by peer") == nil)

        // The connection broke before curl could read the alert: still a reset, but the advice says what to check.
        let detail = "SSL_write() error: error:0A00007F:SSL routines::bad write retry"
        let withoutCertificate = TransportFailure(curlCode: 55, detail: detail, context: .init(https: true))
        #expect(withoutCertificate.kind == .connectionReset)
        #expect(withoutCertificate.message.contains("set tls.client_cert and tls.client_key"), "\(withoutCertificate)")
        let untrusted = TransportFailure(curlCode: 55, detail: detail, context: .init(https: true, clientCertificate: true))
        #expect(untrusted.message.contains("check that its CA signed tls.client_cert"), "\(untrusted)")
        // Plain http, or a response already under way: nothing about certificates.
        for context in [TransportFailure.Context(), .init(https: true, responseStarted: true)] {
            let plain = TransportFailure(curlCode: 56, detail: "Recv failure: Connection reset by peer", context: context)
            #expect(plain.kind == .connectionReset)
            #expect(!plain.message.contains("client_cert"), "\(plain)")
        }
    }

    @Test func durationsBecomeWholeMillisecondsOfAtLeastOne() {
        #expect(EasyHandle.milliseconds(.seconds(10)) == 10_000)
        #expect(EasyHandle.milliseconds(.microseconds(1500)) == 2)
        #expect(EasyHandle.milliseconds(.zero) == 1)
        #expect(EasyHandle.milliseconds(.seconds(-5)) == 1)
        #expect(EasyHandle.milliseconds(.seconds(Int64.max)) == Int(Int32.max))
    }

    @Test func tokens() {
        #expect(EasyHandle.isToken("POST"))
        #expect(EasyHandle.isToken("webhook-id"))
        #expect(!EasyHandle.isToken(""))
        #expect(!EasyHandle.isToken("Bad Name"))
        #expect(!EasyHandle.isToken("名前"))
        #expect(!EasyHandle.isToken("a:b"))
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
