import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import RenkeiHTTP

/// TLS against `openssl s_server` on 127.0.0.1 with throwaway certificates: verification cannot be
/// avoided, `caFile` makes a private CA trusted, and client certificates are sent.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
struct HTTPClientTLSTests {
    @Test func verificationIsAlwaysOnAndCAFileAndClientCertificateWork() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-tls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = "\(directory)/server", client = "\(directory)/client"
        try openssl(selfSigned: server, subject: "/CN=127.0.0.1", extra: ["-addext", "subjectAltName=IP:127.0.0.1"])
        try openssl(selfSigned: client, subject: "/CN=renkei-client", extra: [])

        let port = closedLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", "\(server).pem", "-key", "\(server).key",
            "-Verify", "1", "-CAfile", "\(client).pem", "-www", "-quiet",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // SIGKILL, not terminate(): SIGTERM can arrive blocked in a child spawned from the test
            // process, and then waitUntilExit would never return.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        try await withClient { client_ in
            let url = "https://127.0.0.1:\(port)/"
            let trusted = TLSOptions(caFile: "\(server).pem", clientCertificate: "\(client).pem", clientKey: "\(client).key")
            var result = await client_.send(OutboundRequest(url: url, method: "GET", timeout: .seconds(5), tls: trusted))
            // s_server needs a moment to listen; retry a refused connection for at most 20 s (a loaded machine).
            let end = ContinuousClock.now + .seconds(20)
            while result.failure?.kind == .couldNotConnect, ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(50))
                result = await client_.send(OutboundRequest(url: url, method: "GET", timeout: .seconds(5), tls: trusted))
            }
            let response = try result.get()
            #expect(response.status == 200)

            // The system bundle does not know this self-signed certificate.
            let untrusted = TLSOptions(clientCertificate: "\(client).pem", clientKey: "\(client).key")
            let unknownCA = try #require(
                await client_.send(OutboundRequest(url: url, method: "GET", timeout: .seconds(5), tls: untrusted)).failure)
            #expect(unknownCA.kind == .tls, "\(unknownCA)")

            // The certificate names 127.0.0.1, not localhost.
            let otherName = "https://localhost:\(port)/"
            let mismatch = try #require(
                await client_.send(OutboundRequest(url: otherName, method: "GET", timeout: .seconds(5), tls: trusted))
                    .failure)
            #expect(mismatch.kind == .tls, "\(mismatch)")
        }
    }

    private func openssl(selfSigned base: String, subject: String, extra: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments =
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "\(base).key", "-out", "\(base).pem", "-days", "1", "-subj", subject,
            ] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
