import Foundation
import RenkeiCore
import RenkeiHTTP
import RenkeiSystem

/// A real renkeid with the console on HTTPS (issue 18): a self-signed certificate made with the
/// openssl CLI for 127.0.0.1, `console.listen` on port 0 (the bound port is read from the daemon's
/// log), the contract's sample and a review item and a protected resident replayed.
struct ConsoleFixture: Sendable {
    let daemon: DaemonHarness
    /// `https://127.0.0.1:PORT`.
    var base: String
    /// The certificate the client trusts.
    let certificate: String
    let client: HTTPClient

    static var opensslAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    /// Starts the daemon; `console` adds keys to the `console` object (e.g. `max_failed_logins`).
    static func start(console extra: JSONObject = [:]) async throws -> ConsoleFixture {
        let daemon = try DaemonHarness()
        let root = await daemon.root.path
        let certificate = root + "/console.pem", key = root + "/console.key"
        try run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", key, "-out", certificate])
        var console: JSONObject = [
            "listen": "127.0.0.1:0", "tls": ["cert_file": .string(certificate), "key_file": .string(key)],
        ]
        for member in extra { console[member.key] = member.value }
        try await daemon.updateConfig { config in config["console"] = .object(console) }
        try await daemon.start()
        guard let port = Self.port(in: daemon.stderrText()) else {
            throw HarnessError("the console's port is not in the daemon's log:\n\(daemon.stderrTail())")
        }
        let fixture = ConsoleFixture(
            daemon: daemon, base: "https://127.0.0.1:\(port)", certificate: certificate, client: HTTPClient(maxConnections: 8))
        let sample = try String(contentsOf: TestPaths.sampleLog, encoding: .utf8).split(separator: "\n").map(String.init)
        let extraLines = try String(contentsOf: TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/console/review-and-protection.jsonl"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        _ = try await daemon.replay(sample)
        _ = try await daemon.replay(extraLines)
        let settled = try await daemon.waitUntil(timeout: .seconds(60)) {
            (try await daemon.get("/v1/reviews").json["reviews"]?.arrayValue?.count ?? 0) == 2
        }
        guard settled else { throw HarnessError("the two review items did not appear") }
        return fixture
    }

    /// The port of the last start's console in the daemon's log.
    static func port(in log: String) -> Int? {
        for line in log.split(separator: "\n").reversed() where line.contains("console: listening on") {
            if let open = line.range(of: "(port "), let close = line[open.upperBound...].firstIndex(of: ")") {
                return Int(line[open.upperBound..<close])
            }
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("\(executable) \(arguments.joined(separator: " ")) failed") }
    }

    /// `renkeictl console user add NAME --role ROLE` over the socket; the one-time password.
    func addUser(_ name: String, role: String) async throws -> String {
        let reply = try await daemon.request("POST", "/v1/console/users/\(name)", body: Array(#"{"role":"\#(role)"}"#.utf8))
        guard reply.status == 201, let password = reply.json["password"]?.stringValue else {
            throw HarnessError("adding \(name): \(reply.status) \(reply.text)")
        }
        return password
    }

    /// A browser session: its own cookie jar.
    func browser() -> ConsoleBrowser { ConsoleBrowser(fixture: self) }

    func stop() async {
        _ = try? await daemon.stop()
        await client.shutdown()
        await daemon.cleanUp()
    }
}

/// One page as a browser would get it.
struct ConsolePage: Sendable {
    var status: Int
    var location: String?
    var setCookie: [String]
    var text: String
    var headers: OutboundHeaders

    /// The first form's CSRF token.
    var csrf: String? {
        guard let start = text.range(of: #"name="csrf" value=""#) else { return nil }
        return String(text[start.upperBound...].prefix { $0 != "\"" })
    }
}

/// A cookie jar and a form poster over RenkeiHTTP (libcurl), trusting the fixture's certificate.
actor ConsoleBrowser {
    let fixture: ConsoleFixture
    var cookie: String?

    init(fixture: ConsoleFixture) { self.fixture = fixture }

    func setCookie(_ value: String?) { cookie = value }

    func get(_ path: String) async throws -> ConsolePage { try await send("GET", path, body: []) }

    /// POSTs a form; `csrf: nil` leaves the token out.
    func post(_ path: String, _ fields: [(String, String)], origin: String? = nil) async throws -> ConsolePage {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send("POST", path, body: Array(body.utf8), origin: origin)
    }

    private func send(_ method: String, _ path: String, body: [UInt8], origin: String? = nil) async throws -> ConsolePage {
        var headers: OutboundHeaders = [:]
        if let cookie { headers.fields.append(.init(name: "Cookie", value: "__Host-renkei_session=\(cookie)")) }
        if method == "POST" { headers.fields.append(.init(name: "Content-Type", value: "application/x-www-form-urlencoded")) }
        if let origin { headers.fields.append(.init(name: "Origin", value: origin)) }
        let request = OutboundRequest(
            url: fixture.base + path, method: method, headers: headers, body: body, timeout: .seconds(60),
            connectTimeout: .seconds(30), tls: TLSOptions(caFile: fixture.certificate), maxResponseBytes: 4 << 20)
        switch await fixture.client.send(request) {
        case .failure(let failure):
            throw HarnessError("\(method) \(path): \(failure)")
        case .success(let response):
            let cookies = response.headers.fields.filter { $0.name.lowercased() == "set-cookie" }.map(\.value)
            for line in cookies {
                guard let pair = line.split(separator: ";").first, pair.hasPrefix("__Host-renkei_session=") else { continue }
                let value = String(pair.dropFirst("__Host-renkei_session=".count))
                cookie = value.isEmpty ? nil : value
            }
            return ConsolePage(
                status: response.status,
                location: response.headers.fields.first { $0.name.lowercased() == "location" }?.value,
                setCookie: cookies, text: String(decoding: response.body, as: UTF8.self), headers: response.headers)
        }
    }

    /// Opens the login page and signs in; with a one-time password, sets `newPassword` first.
    /// - Returns: the page after login (the review queue).
    @discardableResult
    func login(_ name: String, _ password: String, newPassword: String = "a long new password 1") async throws -> ConsolePage {
        let form = try await get("/login")
        let done = try await post("/login", [("csrf", form.csrf ?? ""), ("name", name), ("password", password)])
        guard done.status == 303 else { return done }
        if done.location == "/password" {
            let page = try await get("/password")
            let changed = try await post(
                "/password",
                [("csrf", page.csrf ?? ""), ("current_password", password), ("new_password", newPassword),
                 ("confirm_password", newPassword)])
            guard changed.status == 303 else { throw HarnessError("password change: \(changed.status) \(changed.text)") }
        }
        return try await get("/reviews")
    }

    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
