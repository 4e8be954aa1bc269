import Foundation
import Glibc
import RenkeiCore

/// Test peers for the TLS delivery tests: a private CA made with the openssl CLI, an HTTPS receiver
/// (Tests/Fixtures/tls/receiver.py) that requires a client certificate, and a port that accepts TCP
/// but never answers a TLS handshake.
///
/// Child processes never block the cooperative pool: every wait polls with `Task.sleep` and has a
/// deadline, stdin is /dev/null (so no tool can sit waiting for a passphrase), and children are
/// ended with SIGKILL.
enum TLSPeers {
    static let openssl = "/usr/bin/openssl"
    static let python = "/usr/bin/python3"
    static let receiverScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tls/receiver.py").path

    /// Whether the peers can run here (ops/test installs both packages).
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: openssl) && FileManager.default.isExecutableFile(atPath: python)
    }

    /// Why a peer could not be started or a tool failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a tool to completion without blocking a cooperative thread; kills it after `deadline`.
    /// - Throws: ``Failure`` with the tool's standard error when it exits non-zero or times out.
    static func run(
        _ executable: String, _ arguments: [String], in directory: String, deadline: Duration = .seconds(30)
    ) async throws {
        let errors = "\(directory)/tool-\(UUID().uuidString.prefix(8)).err"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: errors)
        try process.run()
        let end = ContinuousClock.now + deadline
        while process.isRunning, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(20)) }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        guard !timedOut, process.terminationStatus == 0 else {
            let why = timedOut ? "did not finish in \(deadline)" : "exited \(process.terminationStatus)"
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) \(why): \(stderr)")
        }
    }
}

/// A throwaway PKI in a temp folder: a CA, a server certificate for IP 127.0.0.1 and a client
/// certificate, both signed by the CA (EC P-256, valid for two days).
struct PrivateCA {
    let directory: String
    var caFile: String { "\(directory)/ca.pem" }
    var serverCertificate: String { "\(directory)/server.pem" }
    var serverKey: String { "\(directory)/server.key" }
    var clientCertificate: String { "\(directory)/client.pem" }
    var clientKey: String { "\(directory)/client.key" }
    static let clientName = "renkei-test-client"

    /// Our own openssl config, so nothing depends on the system's openssl.cnf.
    private static let config = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ca]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [server]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [client]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = clientAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        """

    /// Makes the CA and both certificates in `directory`.
    static func make(in directory: String) async throws -> PrivateCA {
        let ca = PrivateCA(directory: directory)
        try config.write(toFile: "\(directory)/openssl.cnf", atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-config", "openssl.cnf"]
        try await TLSPeers.run(
            TLSPeers.openssl,
            ["req", "-x509", "-extensions", "ca", "-days", "2", "-subj", "/CN=Renkei Test CA", "-keyout", "ca.key", "-out", "ca.pem"]
                + key,
            in: directory)
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=\(clientName)")] {
            try await TLSPeers.run(
                TLSPeers.openssl, ["req", "-new", "-subj", subject, "-keyout", "\(name).key", "-out", "\(name).csr"] + key,
                in: directory)
            try await TLSPeers.run(
                TLSPeers.openssl,
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
                    name == "server" ? "2" : "3", "-days", "2", "-extfile", "openssl.cnf", "-extensions", name,
                    "-out", "\(name).pem",
                ],
                in: directory)
        }
        return ca
    }
}

/// receiver.py as a child process: HTTPS on 127.0.0.1, client certificate required, every request
/// answered 204 and recorded.
final class TLSReceiver: Sendable {
    /// One request as the receiver saw it.
    struct Request {
        var method: String
        var path: String
        var clientName: String?
        /// Header names as sent and values as the exact bytes on the wire, in order.
        var headers: [(name: String, value: [UInt8])]
        var body: [UInt8]

        /// The value bytes of every header named `name` (case-insensitive).
        func values(_ name: String) -> [[UInt8]] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        /// The single value of header `name` as text, or nil when absent or repeated.
        func value(_ name: String) -> String? {
            let all = values(name)
            return all.count == 1 ? String(decoding: all[0], as: UTF8.self) : nil
        }

        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
    }

    let port: Int
    private let process: Process
    private let logFile: String

    /// Starts receiver.py with `ca`'s server certificate, trusting only `ca` for client certificates.
    /// - Throws: ``TLSPeers/Failure`` when it does not listen within 15 s.
    init(ca: PrivateCA) async throws {
        let directory = ca.directory
        logFile = "\(directory)/requests-\(UUID().uuidString.prefix(8)).jsonl"
        let ready = "\(logFile).port"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TLSPeers.python)
        process.arguments = [TLSPeers.receiverScript, ca.serverCertificate, ca.serverKey, ca.caFile, logFile, ready, "300"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: "\(logFile).err", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: "\(logFile).err")
        try process.run()
        self.process = process
        let end = ContinuousClock.now + .seconds(15)
        var port: Int?
        while port == nil, process.isRunning, ContinuousClock.now < end {
            port = (try? String(contentsOfFile: ready, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { try? await Task.sleep(for: .milliseconds(20)) }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TLSPeers.Failure(description: "receiver.py did not start listening within 15 s")
        }
        self.port = port
    }

    /// The webhook URL (with a query, to check that it arrives as configured).
    var url: String { "https://127.0.0.1:\(port)/hook/renkei?tenant=131016" }

    /// Every request recorded so far, in arrival order.
    var requests: [Request] {
        entries.compactMap { entry in
            guard let method = entry["method"]?.stringValue else { return nil }
            let headers: [(name: String, value: [UInt8])] = (entry["headers"]?.arrayValue ?? []).compactMap { pair in
                guard let pair = pair.arrayValue, pair.count == 2, let name = pair[0].stringValue,
                    let hex = pair[1].stringValue
                else { return nil }
                return (name, Self.bytes(hex: hex))
            }
            return Request(
                method: method, path: entry["path"]?.stringValue ?? "", clientName: entry["client_cn"]?.stringValue,
                headers: headers, body: Array(Data(base64Encoded: entry["body"]?.stringValue ?? "") ?? Data()))
        }
    }

    /// The handshakes the receiver refused, in its TLS library's words.
    var handshakeErrors: [String] { entries.compactMap { $0["handshake_error"]?.stringValue } }

    private var entries: [JSONValue] {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
    }

    private static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap { index in
            UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)
        }
    }

    /// Kills the receiver (SIGKILL) and reaps it.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A 127.0.0.1 port whose listening socket is never accepted from: the kernel completes the TCP
/// handshake, the client's TLS hello is never read and never answered.
final class SilentListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else {
            if fd >= 0 { close(fd) }
            throw POSIXError(.EADDRINUSE)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() { close(fd) }
}
