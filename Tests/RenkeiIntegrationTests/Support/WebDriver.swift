import Foundation
import RenkeiCore
import RenkeiHTTP

/// A W3C WebDriver client over RenkeiHTTP, driving Debian's `chromedriver` and headless Chromium
/// (issue 18's browser test). Only the commands the test needs.
actor WebDriver {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: chromium) && FileManager.default.isExecutableFile(atPath: chromedriver)
    }
    /// The W3C element key.
    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    let process: Process
    let base: String
    let client = HTTPClient(maxConnections: 4)
    private(set) var session: String?

    /// Starts chromedriver on a free port and waits (bounded) until it is ready.
    init(port: Int, logFile: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.chromedriver)
        process.arguments = ["--port=\(port)", "--log-path=\(logFile)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        base = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let status = try? await command("GET", "/status"), status["ready"] == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("chromedriver did not become ready within 60 s (log: \(logFile))")
    }

    /// One WebDriver command; answers `value`.
    @discardableResult
    func command(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let request = OutboundRequest(
            url: base + path, method: method, headers: ["Content-Type": "application/json"],
            body: body.map(\.serializedBytes) ?? (method == "POST" ? Array("{}".utf8) : []), timeout: .seconds(120),
            connectTimeout: .seconds(10), maxResponseBytes: 32 << 20)
        switch await client.send(request) {
        case .failure(let failure):
            throw HarnessError("WebDriver \(method) \(path): \(failure)")
        case .success(let response):
            let reply = (try? JSONParser.parse(response.body)) ?? .null
            guard (200..<300).contains(response.status) else {
                throw HarnessError("WebDriver \(method) \(path): \(response.status) \(reply["value"]?["message"]?.stringValue ?? "")")
            }
            return reply["value"] ?? .null
        }
    }

    /// A new headless Chromium session: a 1366×768 screen at 125 % zoom (1093×614 CSS pixels: the LGWAN
    /// terminal of issue 18), Japanese,
    /// trusting the test's self-signed certificate.
    func startSession() async throws {
        let capabilities: JSONValue = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome", "acceptInsecureCerts": true,
                    "goog:chromeOptions": [
                        "binary": .string(Self.chromium),
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=ja",
                            "--window-size=1093,614", "--force-device-scale-factor=1.25", "--no-first-run",
                            "--disable-extensions", "--disable-background-networking",
                        ],
                    ],
                ]
            ]
        ]
        let value = try await command("POST", "/session", capabilities)
        guard let id = value["sessionId"]?.stringValue else { throw HarnessError("no WebDriver session: \(value)") }
        session = id
    }

    func endSession() async {
        if let session { _ = try? await command("DELETE", "/session/\(session)") }
        session = nil
    }

    private var prefix: String { "/session/\(session ?? "-")" }

    func navigate(_ url: String) async throws { try await command("POST", prefix + "/url", ["url": .string(url)]) }
    func url() async throws -> String { try await command("GET", prefix + "/url").stringValue ?? "" }
    func source() async throws -> String { try await command("GET", prefix + "/source").stringValue ?? "" }

    func element(_ css: String) async throws -> String {
        let value = try await command("POST", prefix + "/element", ["using": "css selector", "value": .string(css)])
        guard let id = value[Self.elementKey]?.stringValue else { throw HarnessError("no element \(css)") }
        return id
    }

    func elements(_ css: String) async throws -> Int {
        try await command("POST", prefix + "/elements", ["using": "css selector", "value": .string(css)]).arrayValue?.count ?? 0
    }

    func type(_ css: String, _ text: String) async throws {
        let id = try await element(css)
        try await command("POST", prefix + "/element/\(id)/clear")
        try await command("POST", prefix + "/element/\(id)/value", ["text": .string(text)])
    }

    func click(_ css: String) async throws {
        try await command("POST", prefix + "/element/\(try await element(css))/click")
    }

    /// Runs a script in the page (WebDriver's injection, not subject to the page's CSP).
    @discardableResult
    func execute(_ script: String) async throws -> JSONValue {
        try await command("POST", prefix + "/execute/sync", ["script": .string(script), "args": []])
    }

    /// Waits (bounded) until the page's source satisfies `condition`; returns the source.
    func waitForSource(_ what: String, timeout: Duration = .seconds(60), _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = try await source()
            if condition(text) { return text }
            if ContinuousClock.now >= deadline { throw HarnessError("waited \(timeout) for \(what); the page is:\n\(text.prefix(2000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Writes a PNG screenshot of the viewport to `file`.
    func screenshot(_ file: String) async throws {
        let encoded = try await command("GET", prefix + "/screenshot").stringValue ?? ""
        guard let data = Data(base64Encoded: encoded) else { throw HarnessError("the screenshot is not base64") }
        try data.write(to: URL(fileURLWithPath: file))
    }

    func quit() async {
        await endSession()
        // SIGKILL: chromedriver may outlive a SIGTERM while its browser closes.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        await client.shutdown()
    }
}

import Glibc

/// A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0, read back, closed).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket(2) failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw HarnessError("bind(2) to 127.0.0.1:0 failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
