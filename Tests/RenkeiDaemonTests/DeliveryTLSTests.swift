import Foundation
import RenkeiCore
import RenkeiCrypto
@testable import RenkeiDaemon
import Testing

/// Contract §4–5 transport, end to end: the real delivery lanes, libcurl and SQLite against an
/// HTTPS receiver (Tests/Fixtures/tls/receiver.py) that requires a client certificate from a
/// private CA made for the test. Deltas arrive over mutual TLS, signed with both keys of a
/// rotating secret, with the configured extra headers byte for byte, and land in the disclosure
/// ledger; a missing CA or client certificate is never delivered, and the timeouts bound a server
/// that never finishes the handshake.
@Suite(
    "Delivery over TLS", .serialized,
    .enabled(if: TLSPeers.available, "needs /usr/bin/openssl and /usr/bin/python3 (ops/test installs them)"))
struct DeliveryTLSTests {
    /// A private CA in a new temp folder, which the caller removes.
    static func makeCA() async throws -> PrivateCA {
        let directory = "/tmp/renkei-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try await PrivateCA.make(in: directory)
    }

    static func registrations(_ count: Int, prefix: String) -> [String] {
        (1...count).map { n in
            Events.registered("\(prefix)-\(n)", subject: "\(prefix)\(n)", name: "名\(n)", address: "住所\(n)", household: "H\(n)")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func mutualTLSTwoKeySigningAndHeadersFromFiles() async throws {
        let ca = try await Self.makeCA()
        defer { try? FileManager.default.removeItem(atPath: ca.directory) }
        let receiver = try await TLSReceiver(ca: ca)
        defer { receiver.stop() }

        // Two signing keys, as while rotating: the old one first.
        let keys = [(0..<32).map { _ in UInt8.random(in: 0...255) }, (0..<32).map { _ in UInt8.random(in: 0...255) }]
        let secretFile = "\(ca.directory)/vendor.secret"
        try keys.map { "whsec_" + Data($0).base64EncodedString() + "\n" }.joined()
            .write(toFile: secretFile, atomically: true, encoding: .utf8)
        // Header values live in files (trailing newline trimmed); one holds UTF-8 and inner spaces.
        let token = "Bearer rk.\(UUID().uuidString)-a~b+c/d="
        let tenant = "千代田区 役所;  id=131016"
        try (token + "\n").write(toFile: "\(ca.directory)/authorization", atomically: true, encoding: .utf8)
        try (tenant + "\n").write(toFile: "\(ca.directory)/tenant", atomically: true, encoding: .utf8)

        let fixture = try await DeliveryFixture(subscriptions: [
            "vendor": [
                "url": .string(receiver.url), "fields": ["uid", "name", "address"],
                "kinds": ["person.created", "person.changed"], "secret_file": .string(secretFile),
                "max_attempts": 3, "retry_base_s": .double(0.05),
                "timeout_s": 10, "connect_timeout_s": 5,
                "headers": [
                    "Authorization": ["file": .string("\(ca.directory)/authorization")],
                    "X-Renkei-Tenant": ["file": .string("\(ca.directory)/tenant")],
                ],
                "tls": [
                    "ca_file": .string(ca.caFile), "client_cert": .string(ca.clientCertificate),
                    "client_key": .string(ca.clientKey),
                ],
            ]
        ])
        var lines = Self.registrations(3, prefix: "T")
        for n in 1...3 { lines.append(Events.renamed("T-\(n)-r1", subject: "T\(n)", name: "改\(n)")) }
        #expect(await fixture.ingest(lines) == 6)

        _ = await fixture.wait(.seconds(60)) {
            let counts = await fixture.counts("vendor")
            return counts["delivered"]?.integerValue == 6 || (counts["dead_letters"]?.integerValue ?? 0) > 0
        }
        let arrived = await fixture.counts("vendor")["delivered"]?.integerValue == 6
        let requests = receiver.requests
        let counts = await fixture.counts("vendor")
        #expect(
            arrived, "delivered \(counts.serializedString); receiver saw \(requests.count), refused \(receiver.handshakeErrors)")
        #expect(Set(requests.compactMap { $0.value("webhook-id") }).count == 6)

        let now = Int64(Date().timeIntervalSince1970)
        for request in requests {
            #expect(request.method == "POST")
            #expect(request.path == "/hook/renkei?tenant=131016")
            #expect(request.clientName == PrivateCA.clientName, "client certificate \(request.clientName ?? "none")")
            // Configured headers: exactly the files' bytes, once each.
            #expect(request.values("Authorization") == [Array(token.utf8)])
            #expect(request.values("X-Renkei-Tenant") == [Array(tenant.utf8)])
            #expect(request.value("Content-Type") == "application/json")

            // Two signatures, space-separated, each the HMAC of its own key, computed here.
            let id = try #require(request.value("webhook-id"))
            #expect(id == request.json["delta_id"]?.stringValue)
            let timestamp = try #require(request.value("webhook-timestamp").flatMap { Int64($0) })
            #expect(abs(now - timestamp) < 600)
            let header = request.value("webhook-signature") ?? ""
            let signatures = header.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            #expect(signatures.count == 2, "\(id): webhook-signature \(header)")
            let message = Array("\(id).\(timestamp).".utf8) + request.body
            let expected = keys.map { key in
                "v1," + Data(HMACSHA256.authenticationCode(key: key, message: message)).base64EncodedString()
            }
            #expect(signatures.sorted() == expected.sorted(), "\(id): not one valid signature per key")
        }

        // The disclosure ledger lists exactly the deltas the receiver got, per person.
        let byUID = Dictionary(grouping: requests, by: { $0.json["uid"]?.stringValue ?? "?" })
        #expect(byUID.count == 3)
        for (uid, received) in byUID {
            let ledger = await fixture.request("GET", "/v1/disclosures?uid=\(uid)").json["disclosures"]?.arrayValue ?? []
            let disclosed = Set(ledger.compactMap { $0["delta_id"]?.stringValue })
            #expect(disclosed == Set(received.compactMap { $0.value("webhook-id") }), "\(uid)")
            #expect(ledger.allSatisfy { $0["subscription"]?.stringValue == "vendor" })
        }
        let chain = chainProblems(requests.map { request in
            DeliveryReceiver.Request(
                id: request.value("webhook-id") ?? "", headers: [:], body: request.body, action: "204", at: .now)
        })
        #expect(chain.isEmpty, "\(chain)")

        // The header files' contents and the keys never reach a log line, a status reply or the state folder.
        var replies = ""
        for target in ["/v1/status", "/v1/dead-letters", "/v1/disclosures?uid=U0000000001"] {
            replies += await fixture.request("GET", target).json.serializedString
        }
        let secrets = [token, tenant] + keys.map { Data($0).base64EncodedString() }
        for secret in secrets {
            #expect(!fixture.logLines.contains { $0.contains(secret) }, "a log line holds \(secret)")
            #expect(!replies.contains(secret), "a status reply holds \(secret)")
        }
        let stateFiles = FileManager.default.enumerator(atPath: fixture.root.path)?.compactMap { $0 as? String } ?? []
        for file in stateFiles {
            let path = fixture.root.appendingPathComponent(file).path
            guard let bytes = FileManager.default.contents(atPath: path) else { continue }
            for secret in secrets {
                #expect(Data(bytes).range(of: Data(secret.utf8)) == nil, "\(file) holds \(secret)")
            }
        }
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func missingCAOrClientCertificateIsNeverDelivered() async throws {
        let ca = try await Self.makeCA()
        defer { try? FileManager.default.removeItem(atPath: ca.directory) }
        let receiver = try await TLSReceiver(ca: ca)
        defer { receiver.stop() }

        func subscription(_ tls: JSONObject) -> JSONValue {
            [
                "url": .string(receiver.url), "fields": ["uid", "name"], "kinds": ["person.created"], "max_attempts": 3,
                "retry_base_s": .double(0.05), "timeout_s": 10, "connect_timeout_s": 5, "tls": .object(tls),
            ]
        }
        let fixture = try await DeliveryFixture(subscriptions: [
            // Verification is always on: without ca_file the system bundle does not know the private CA.
            "no-ca": subscription(["client_cert": .string(ca.clientCertificate), "client_key": .string(ca.clientKey)]),
            // The server trusts us but we show no certificate; it requires one.
            "no-client-cert": subscription(["ca_file": .string(ca.caFile)]),
        ])
        #expect(await fixture.ingest(Self.registrations(1, prefix: "N")) == 1)

        let settled = await fixture.wait(.seconds(60)) {
            (await fixture.request("GET", "/v1/dead-letters").json["dead_letters"]?.arrayValue ?? []).count == 2
        }
        let letters = await fixture.request("GET", "/v1/dead-letters").json["dead_letters"]?.arrayValue ?? []
        let status = await fixture.request("GET", "/v1/status").json
        #expect(settled, "dead letters \(letters.map(\.serializedString)); status \(status.serializedString)")
        #expect(receiver.requests.isEmpty, "a request got through: \(receiver.requests.map(\.path))")
        var byName: [String: JSONValue] = [:]
        for letter in letters { byName[letter["subscription"]?.stringValue ?? ""] = letter }

        for name in ["no-ca", "no-client-cert"] {
            let letter = try #require(byName[name], "\(name) has no dead letter")
            #expect(letter["attempts"]?.integerValue == 3, "\(name): retried up to max_attempts")
            #expect(letter["status"] == .null, "\(name): no HTTP status without a TLS session")
        }
        // What an operator reads must name the TLS problem and the setting to check.
        let noCA = byName["no-ca"]?["error"]?.stringValue ?? ""
        #expect(noCA.hasPrefix("tls:") && noCA.contains("certificate") && noCA.contains("ca_file"), "no-ca: \(noCA)")
        // TLS 1.3 refuses a missing client certificate after our side of the handshake: curl reads the
        // server's alert (tls) or finds the connection gone first (connectionReset); both must say what to set.
        let noClientCertificate = byName["no-client-cert"]?["error"]?.stringValue ?? ""
        #expect(
            (noClientCertificate.hasPrefix("tls:") || noClientCertificate.hasPrefix("connectionReset:"))
                && noClientCertificate.contains("client_cert"),
            "no-client-cert: \(noClientCertificate)")
        #expect(await fixture.counts("no-ca")["last_error"]?.stringValue?.contains("tls:") == true)

        // The receiver refused both for the intended reason.
        let refused = receiver.handshakeErrors
        #expect(refused.contains { $0.contains("UNKNOWN_CA") }, "\(refused)")
        #expect(refused.contains { $0.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") }, "\(refused)")
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func connectAndTotalTimeoutsBoundASilentServer() async throws {
        let ca = try await Self.makeCA()
        defer { try? FileManager.default.removeItem(atPath: ca.directory) }
        let silent = try SilentListener()
        defer { silent.stop() }
        let receiver = try await TLSReceiver(ca: ca)
        defer { receiver.stop() }

        // Each subscription has one short bound and one far beyond this test's deadline: an attempt
        // can end in time only if that short bound is honoured.
        func subscription(_ url: String, connect: Int, total: Int) -> JSONValue {
            [
                "url": .string(url), "fields": ["uid"], "kinds": ["person.created"], "max_attempts": 2,
                "retry_base_s": .double(0.05), "connect_timeout_s": .integer(Int64(connect)),
                "timeout_s": .integer(Int64(total)),
                "tls": [
                    "ca_file": .string(ca.caFile), "client_cert": .string(ca.clientCertificate),
                    "client_key": .string(ca.clientKey),
                ],
            ]
        }
        let silentURL = "https://127.0.0.1:\(silent.port)/hook"
        let fixture = try await DeliveryFixture(subscriptions: [
            // The handshake never completes: connect_timeout_s ends it, or timeout_s, which bounds everything.
            "connect-bound": subscription(silentURL, connect: 1, total: 600),
            "total-bound": subscription(silentURL, connect: 600, total: 1),
            // The handshake completes and the request is read, but no answer comes: timeout_s ends it.
            "no-answer": subscription("https://127.0.0.1:\(receiver.port)/hang", connect: 600, total: 1),
        ])
        let start = ContinuousClock.now
        #expect(await fixture.ingest(Self.registrations(1, prefix: "S")) == 1)
        let settled = await fixture.wait(.seconds(45)) {
            (await fixture.request("GET", "/v1/dead-letters").json["dead_letters"]?.arrayValue ?? []).count == 3
        }
        let elapsed = ContinuousClock.now - start
        let letters = await fixture.request("GET", "/v1/dead-letters").json["dead_letters"]?.arrayValue ?? []
        #expect(settled, "dead letters \(letters.map(\.serializedString))")
        #expect(Set(letters.compactMap { $0["subscription"]?.stringValue }) == ["connect-bound", "total-bound", "no-answer"])
        for letter in letters {
            let error = letter["error"]?.stringValue ?? ""
            #expect(letter["attempts"]?.integerValue == 2)
            #expect(letter["status"] == .null)
            #expect(error.hasPrefix("timeout:"), "\(letter["subscription"]?.stringValue ?? ""): \(error)")
        }
        // Two attempts each, each waiting out a one-second bound; the answerless receiver read one request per attempt.
        #expect(elapsed >= .milliseconds(1900), "two attempts ended in \(elapsed): the server was not waited for")
        #expect(receiver.requests.count == 2, "the answerless receiver read \(receiver.requests.count) requests")
        #expect(receiver.requests.allSatisfy { $0.path == "/hang" && $0.clientName == PrivateCA.clientName })
        await fixture.stop()
    }
}
