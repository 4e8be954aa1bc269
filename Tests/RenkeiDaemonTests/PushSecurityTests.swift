import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// Issue 13, push: the token is checked from the request head, one client cannot take every
/// connection, and push can be served over TLS. Raw clients are python3 scripts (as in
/// PushIngestTests), HTTPS clients are curl.
@Suite(
    "Ingest: push security",
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") && TLSPeers.available,
        "needs curl, python3 and openssl (ops/test installs them)"))
struct PushSecurityTests {
    static let token = IngestFixture.token("library")
    static let event = IngestEvents.patron("S-1", subject: "L1")

    // MARK: - Token before body

    /// A client sends a head with a wrong token and a 50 MB Content-Length, then nothing: the 401
    /// comes at once, before any body byte, and with `Expect: 100-continue` it is the first and only
    /// answer (no `100 Continue`). Without the head check the server waits for the body (30 s).
    @Test(.timeLimit(.minutes(2)))
    func wrongTokenIsAnswered401BeforeTheBody() async throws {
        let ingest = try await StandalonePush(limits: PushIngest.defaultLimits)
        defer { Task { await ingest.stop() } }
        let port = String(ingest.push.boundPort ?? 0)

        let plain = try await runProcess("/usr/bin/python3", ["-c", Self.headOnly, port, "wrong-token", "0"]).output
        #expect(plain.hasPrefix("HTTP/1.1 401"), "\(plain)")
        #expect(plain.contains("WWW-Authenticate: Bearer"), "\(plain)")

        let expecting = try await runProcess("/usr/bin/python3", ["-c", Self.headOnly, port, "wrong-token", "1"]).output
        #expect(expecting.hasPrefix("HTTP/1.1 401"), "no 100 Continue before the refusal: \(expecting)")
        #expect(!expecting.contains("100 Continue"), "\(expecting)")
        #expect(try await ingest.loggedEvents().isEmpty)
    }

    /// A refusal from the head is logged (for the source-silent runbook), without the token sent.
    @Test(.timeLimit(.minutes(2)))
    func refusalsAreLoggedWithoutTheToken() async throws {
        let daemon = try await IngestFixture()
        defer { Task { await daemon.stop() } }
        let port = String(daemon.service.push?.boundPort ?? 0)
        let guess = "guessed-token-5f3a9c"
        let reply = try await runProcess("/usr/bin/python3", ["-c", Self.headOnly, port, guess, "1"]).output
        #expect(reply.hasPrefix("HTTP/1.1 401"), "\(reply)")
        let logged = await daemon.wait(.seconds(60)) {
            daemon.logLines.contains { $0.contains("refused POST /v1/sources/library/events from 127.0.0.1:") && $0.contains("401") }
        }
        #expect(logged, "\(daemon.logLines.suffix(5))")
        #expect(!daemon.logLines.contains { $0.contains(guess) })
    }

    /// The right token with `Expect: 100-continue`: `100 Continue`, then the body, then 200.
    @Test(.timeLimit(.minutes(2)))
    func authorisedExpectContinueGets100ThenTheAnswer() async throws {
        let ingest = try await StandalonePush(limits: PushIngest.defaultLimits)
        defer { Task { await ingest.stop() } }
        let output = try await runProcess(
            "/usr/bin/python3", ["-c", Self.expectContinue, String(ingest.push.boundPort ?? 0), Self.token, Self.event]
        ).output
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "HTTP/1.1 100 Continue", "\(output)")
        #expect(lines.dropFirst().first == "HTTP/1.1 200 OK", "\(output)")
        #expect(try await ingest.loggedEvents().count == 1)
    }

    /// Sends a push head (token argv[2], `Expect: 100-continue` when argv[3] is 1) announcing 50 MB,
    /// sends no body, and prints what the server answers (or "no reply" after 8 s).
    static let headOnly = """
        import socket, sys
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        s.settimeout(8.0)
        head = "POST /v1/sources/library/events HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer " + sys.argv[2]
        head += "\\r\\nContent-Type: application/x-ndjson\\r\\nContent-Length: 50000000\\r\\n"
        if sys.argv[3] == "1":
            head += "Expect: 100-continue\\r\\n"
        s.sendall((head + "\\r\\n").encode())
        data = b""
        try:
            while b"\\r\\n\\r\\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        print(data.decode("latin-1") if data else "no reply")
        """

    /// Sends a head with `Expect: 100-continue`, prints the interim status line, sends the body,
    /// prints the final status line.
    static let expectContinue = """
        import socket, sys
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        s.settimeout(8.0)
        body = (sys.argv[3] + "\\n").encode()
        head = "POST /v1/sources/library/events HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer " + sys.argv[2]
        head += "\\r\\nContent-Length: %d\\r\\nExpect: 100-continue\\r\\n\\r\\n" % len(body)
        s.sendall(head.encode())
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            data += s.recv(4096)
        interim, _, rest = data.partition(b"\\r\\n\\r\\n")
        print(interim.split(b"\\r\\n")[0].decode())
        s.sendall(body)
        data = rest
        while b"\\r\\n\\r\\n" not in data:
            data += s.recv(4096)
        print(data.split(b"\\r\\n")[0].decode())
        """

    // MARK: - Per-peer cap

    /// With a per-peer cap of 2: two kept-alive connections from 127.0.0.1 are served, a third from
    /// 127.0.0.1 gets 503 at once, while 127.0.0.2 is still served; once one of the two closes,
    /// 127.0.0.1 is served again.
    @Test(.timeLimit(.minutes(2)))
    func perPeerCapRefusesOnlyThatPeer() async throws {
        var limits = PushIngest.defaultLimits
        limits.maxConnectionsPerPeer = 2
        let ingest = try await StandalonePush(limits: limits)
        defer { Task { await ingest.stop() } }
        let output = try await runProcess(
            "/usr/bin/python3", ["-c", Self.perPeer, String(ingest.push.boundPort ?? 0), Self.token, Self.event]
        ).output
        let results = Dictionary(
            output.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }, uniquingKeysWith: { first, _ in first })
        #expect(results["held1"] == "200", "\(output)")
        #expect(results["held2"] == "200", "\(output)")
        #expect(results["third"]?.hasPrefix("503") == true, "\(output)")
        #expect(results["third"]?.contains("too many connections from 127.0.0.1") == true, "\(output)")
        #expect(results["other"] == "200", "another address is not starved: \(output)")
        #expect(results["again"] == "200", "a freed slot is given back: \(output)")
    }

    /// Prints `name status` per step; the requests are pushes of argv[3] with token argv[2].
    static let perPeer = """
        import socket, sys, time
        port, token, body = int(sys.argv[1]), sys.argv[2], (sys.argv[3] + "\\n").encode()
        def connect(source):
            s = socket.create_connection(("127.0.0.1", port), timeout=8, source_address=(source, 0))
            return s
        def response(s):
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            head, _, rest = data.partition(b"\\r\\n\\r\\n")
            lines = head.decode("latin-1").split("\\r\\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            while len(rest) < length:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            status = lines[0].split(" ")[1] if lines[0] else "closed"
            return status, rest.decode("utf-8", "replace")
        def push(s):
            s.sendall(("POST /v1/sources/library/events HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer %s\\r\\n"
                       "Content-Length: %d\\r\\n\\r\\n" % (token, len(body))).encode() + body)
            return response(s)[0]
        held = [connect("127.0.0.1"), connect("127.0.0.1")]
        for i, s in enumerate(held):
            print("held%d %s" % (i + 1, push(s)), flush=True)
        third = connect("127.0.0.1")
        status, text = response(third)
        print("third %s %s" % (status, text), flush=True)
        print("other %s" % push(connect("127.0.0.2")), flush=True)
        held[0].close()
        deadline = time.time() + 10
        while True:
            try:
                status = push(connect("127.0.0.1"))
            except OSError as e:
                status = "error " + str(e)
            if status == "200" or time.time() > deadline:
                break
            time.sleep(0.05)
        print("again %s" % status, flush=True)
        """

    // MARK: - TLS

    /// Push over HTTPS with a throwaway CA: curl verifies the certificate, the event is logged; plain
    /// HTTP to the TLS port is answered 400 in plain text; a TLS 1.1-only client is refused.
    @Test(.timeLimit(.minutes(2)))
    func tlsPushRoundTrip() async throws {
        let ca = try await Self.makeCA()
        defer { try? FileManager.default.removeItem(atPath: ca.directory) }
        let tls = Configuration.IngestTLS(certificateFile: ca.serverCertificate, keyFile: ca.serverKey)
        let ingest = try await StandalonePush(limits: PushIngest.defaultLimits, tls: tls)
        defer { Task { await ingest.stop() } }

        let https = ingest.url("library", scheme: "https")
        let (_, reply) = try await runProcess(
            "/usr/bin/curl",
            ["-s", "--cacert", ca.caFile, "-w", "\n%{http_code} %{ssl_verify_result}", "--max-time", "20",
             "-H", "Authorization: Bearer \(Self.token)", "--data-binary", "@-", https],
            stdin: Array((Self.event + "\n").utf8))
        #expect(reply.hasSuffix("\n200 0"), "\(reply)")
        #expect(reply.contains("\"accepted\":1"), "\(reply)")
        #expect(try await ingest.loggedEvents().count == 1)

        // A wrong token over TLS: still 401 from the head.
        let (_, refused) = try await runProcess(
            "/usr/bin/curl",
            ["-s", "-o", "/dev/null", "--cacert", ca.caFile, "-w", "%{http_code}", "--max-time", "20",
             "-H", "Authorization: Bearer wrong", "--data-binary", "@-", https],
            stdin: Array((Self.event + "\n").utf8))
        #expect(refused == "401")

        // Keep-alive over TLS: two pushes on one connection ("Re-using existing connection" in -v).
        let file = "\(ca.directory)/event.jsonl"
        try Data((Self.event + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let (_, verbose) = try await runProcess(
            "/bin/sh",
            ["-c", "/usr/bin/curl -sv --cacert \(ca.caFile) --max-time 20 -o /dev/null -H 'Authorization: Bearer \(Self.token)' --data-binary @\(file) \(https) \(https) 2>&1"])
        #expect(verbose.lowercased().contains("re-using existing connection") || verbose.lowercased().contains("reusing existing"), "\(verbose)")
        #expect(verbose.components(separatedBy: "< HTTP/1.1 200").count == 3, "two answers: \(verbose)")

        let (_, plain) = try await runProcess(
            "/usr/bin/curl",
            ["-s", "-w", "\n%{http_code}", "--max-time", "20", "-H", "Authorization: Bearer \(Self.token)",
             "--data-binary", "@-", ingest.url("library")],
            stdin: Array((Self.event + "\n").utf8))
        #expect(plain.hasSuffix("\n400"), "\(plain)")
        #expect(plain.contains("TLS only"), "\(plain)")

        // TLS 1.2 is the floor (curl's own security level is lowered so only the server refuses; OpenSSL 3's
        // default security level would refuse TLS 1.1 as well, so certificateProblemsNameTheFile also reads the floor back).
        let (old, _) = try await runProcess(
            "/usr/bin/curl",
            ["-s", "-o", "/dev/null", "--cacert", ca.caFile, "--tlsv1.1", "--tls-max", "1.1",
             "--ciphers", "DEFAULT@SECLEVEL=0", "--max-time", "20", https])
        #expect(old != 0, "a TLS 1.1 client must not get through")
        #expect(try await ingest.loggedEvents().count == 1)
    }

    /// Certificate and key problems are refused at start-up with the key and the file named.
    @Test(.timeLimit(.minutes(2)))
    func certificateProblemsNameTheFile() async throws {
        let ca = try await Self.makeCA()
        defer { try? FileManager.default.removeItem(atPath: ca.directory) }
        let missing = "\(ca.directory)/nonexistent.pem"
        let garbage = "\(ca.directory)/garbage.pem"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))

        func message(_ cert: String, _ key: String) -> String {
            do {
                _ = try PushIngest.loadTLS(Configuration.IngestTLS(certificateFile: cert, keyFile: key))
                return "loaded"
            } catch {
                #expect(error.code == .invalidConfiguration)
                return error.message
            }
        }
        #expect(message(ca.serverCertificate, ca.serverKey) == "loaded")
        let context = try PushIngest.loadTLS(Configuration.IngestTLS(certificateFile: ca.serverCertificate, keyFile: ca.serverKey))
        #expect(context.minimumProtocolVersion == "TLSv1.2")
        let noFile = message(missing, ca.serverKey)
        #expect(noFile.hasPrefix("ingest_tls: ") && noFile.contains(missing) && noFile.contains("No such file"), "\(noFile)")
        let notPEM = message(garbage, ca.serverKey)
        #expect(notPEM.contains(garbage) && notPEM.contains("not a usable PEM certificate"), "\(notPEM)")
        let badKey = message(ca.serverCertificate, garbage)
        #expect(badKey.contains(garbage) && badKey.contains("private key"), "\(badKey)")
        let otherKey = message(ca.serverCertificate, ca.clientKey)
        #expect(otherKey.contains(ca.clientKey) && otherKey.contains("does not belong to the certificate"), "\(otherKey)")
    }

    /// A reload whose certificate does not load is refused before anything stops (renkeid keeps
    /// serving with the old one).
    @Test(.timeLimit(.minutes(2)))
    func reloadWithABrokenCertificateIsRefused() async throws {
        let ca = try await Self.makeCA()
        defer { try? FileManager.default.removeItem(atPath: ca.directory) }
        let token = "\(ca.directory)/token"
        try Data("t0123456789\n".utf8).write(to: URL(fileURLWithPath: token))
        let atRestKey = try TestKeyFile.ensure(in: URL(fileURLWithPath: ca.directory))
        func config(cert: String) -> JSONValue {
            [
                "municipality": "131016", "state_dir": .string("\(ca.directory)/state"),
                "sources": ["library": ["token_file": .string(token)]], "ingest_listen": "0.0.0.0:8470",
                "ingest_tls": ["cert_file": .string(cert), "key_file": .string(ca.serverKey)],
                "secrets": ["at_rest_key_file": .string(atRestKey)],
            ]
        }
        let current = try Configuration(json: config(cert: ca.serverCertificate), file: "renkei.json")
        let path = "\(ca.directory)/renkei.json"
        try Data(config(cert: ca.serverCertificate).serializedBytes).write(to: URL(fileURLWithPath: path))
        #expect(try RenkeiService.loadForReload(path: path, current: current).ingestTLS == current.ingestTLS)
        try Data(config(cert: ca.clientKey).serializedBytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try RenkeiService.loadForReload(path: path, current: current)
            Issue.record("a reload with a key as the certificate was accepted")
        } catch {
            #expect(error.message.hasPrefix("ingest_tls: load the TLS certificate \(ca.clientKey)"), "\(error.message)")
        }
    }

    static func makeCA() async throws -> PrivateCA {
        let directory = "/tmp/renkei-pushtls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try await PrivateCA.make(in: directory)
    }
}

/// `ingest_listen` without TLS on an address other hosts can reach is refused unless the file says
/// `ingest_allow_plaintext: true`; the connection caps are checked.
@Suite("Configuration: push listener security")
struct PushConfigurationTests {
    func load(_ extra: JSONObject) throws(RenkeiError) -> Configuration {
        var config: JSONObject = ["municipality": "131016", "sources": ["library": ["token_file": "/x"]]]
        for member in extra { config[member.key] = member.value }
        return try Configuration(json: .object(config), file: "renkei.json")
    }

    func refusal(_ extra: JSONObject) -> String? {
        do {
            _ = try load(extra)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func plaintextOnAReachableAddressIsRefused() throws {
        for listen in ["0.0.0.0:8470", "192.0.2.10:8470", "[::]:8470", "[2001:db8::1]:8470"] {
            let message = refusal(["ingest_listen": .string(listen)])
            #expect(message?.contains("renkei.json: ingest_listen: \(listen)") == true, "\(listen): \(message ?? "accepted")")
            #expect(message?.contains("ingest_tls") == true && message?.contains("\"ingest_allow_plaintext\": true") == true)
        }
    }

    @Test func loopbackAllowPlaintextAndTLSAreAccepted() throws {
        for listen in ["127.0.0.1:8470", "127.0.0.2:8470", "localhost:8470", "[::1]:8470", "/run/renkei/push.sock"] {
            #expect(refusal(["ingest_listen": .string(listen)]) == nil, "\(listen)")
        }
        let allowed = try load(["ingest_listen": "0.0.0.0:8470", "ingest_allow_plaintext": true])
        #expect(allowed.ingestAllowPlaintext)
        let tls = try load(["ingest_listen": "0.0.0.0:8470", "ingest_tls": ["cert_file": "/c.pem", "key_file": "/k.pem"]])
        #expect(tls.ingestTLS == Configuration.IngestTLS(certificateFile: "/c.pem", keyFile: "/k.pem"))
        #expect(refusal(["ingest_listen": "0.0.0.0:8470", "ingest_allow_plaintext": false]) != nil)
        #expect(refusal(["ingest_listen": "0.0.0.0:8470", "ingest_allow_plaintext": "yes"])?.contains("true or false") == true)
        #expect(refusal(["ingest_tls": ["cert_file": "/c.pem", "key_file": "/k.pem"]])?.contains("ingest_listen") == true)
        #expect(refusal(["ingest_listen": "0.0.0.0:8470", "ingest_tls": ["cert_file": "/c.pem"]])?.contains("ingest_tls.key_file") == true)
    }

    @Test func connectionCaps() throws {
        let defaults = try load([:])
        #expect(defaults.ingestMaxConnections == 64 && defaults.ingestMaxConnectionsPerPeer == 16)
        let set = try load(["ingest_max_connections": 32, "ingest_max_connections_per_peer": 4])
        #expect(PushIngest.limits(for: set).maxConnections == 32)
        #expect(PushIngest.limits(for: set).maxConnectionsPerPeer == 4)
        #expect(try load(["ingest_max_connections": 8]).ingestMaxConnectionsPerPeer == 8)
        #expect(refusal(["ingest_max_connections": 8, "ingest_max_connections_per_peer": 9])?.contains("ingest_max_connections_per_peer") == true)
        #expect(refusal(["ingest_max_connections_per_peer": 0]) != nil)
    }
}
