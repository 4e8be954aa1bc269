// renkei-receiver: a small webhook receiver that checks Renkei's deltas the way a downstream
// system should. Used by `ops/demo`; also meant as a worked example for vendors.
//
//   renkei-receiver --listen 127.0.0.1:9000 --secret-file /etc/renkei/secrets/library-sync \
//                   [--out deltas.jsonl] [--fail-first N [--fail-status 503]]
//
// For each POST it checks, in this order (Standard Webhooks, https://www.standardwebhooks.com/):
//   1. `webhook-id`, `webhook-timestamp`, `webhook-signature` are present            else 400
//   2. `webhook-timestamp` is within 5 minutes of our clock (replay protection)       else 400
//   3. `webhook-signature` holds a valid `v1,` HMAC-SHA256 of "{id}.{timestamp}.{body}"
//      under a key of the secret file (`whsec_<base64>`, one or two lines)             else 401
//   4. the body is a JSON object whose `delta_id` equals `webhook-id`                  else 400
// then answers 204 (or `--fail-status` for the first N deliveries of each webhook-id, to show
// retries), appends the body plus `"verified": true` and `"received_at"` to `--out` as one JSON
// line, and prints a short line. A real receiver would also de-duplicate on `webhook-id`
// (delivery is at-least-once) and check `prev_version` against the last version it applied.

import Foundation
import Glibc
import RenkeiCore
import RenkeiCrypto
import RenkeiSystem
import Synchronization

// MARK: - Arguments

struct Options {
    var listen = "127.0.0.1:9000"
    var secretFile = ""
    var outFile: String?
    var failFirst = 0
    var failStatus = 503

    static let usage = """
        usage: renkei-receiver --listen HOST:PORT --secret-file FILE [--out FILE] [--fail-first N] [--fail-status CODE]
        """

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        func value(_ flag: String) -> String {
            guard let next = iterator.next() else { fail("\(flag) needs a value\n\(usage)") }
            return next
        }
        while let argument = iterator.next() {
            switch argument {
            case "--listen": options.listen = value(argument)
            case "--secret-file": options.secretFile = value(argument)
            case "--out": options.outFile = value(argument)
            case "--fail-first":
                guard let n = Int(value(argument)), n >= 0 else { fail("--fail-first needs a count ≥ 0") }
                options.failFirst = n
            case "--fail-status":
                guard let code = Int(value(argument)), (100...599).contains(code) else {
                    fail("--fail-status needs an HTTP status code")
                }
                options.failStatus = code
            case "-h", "--help":
                print(usage)
                exit(0)
            default: fail("unknown argument \(argument)\n\(usage)")
            }
        }
        if options.secretFile.isEmpty { fail("--secret-file is required\n\(usage)") }
        return options
    }
}

/// Writes one line to stdout unbuffered, so a log file shows it at once.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("renkei-receiver: \(message)\n".utf8))
    exit(2)
}

// MARK: - State

/// What the receiver remembers: failures answered per webhook-id, and the output file.
actor ReceiverState {
    private var failures: [String: Int] = [:]
    private let out: FileHandle?

    init(outFile: String?) {
        if let outFile {
            if !FileManager.default.fileExists(atPath: outFile) {
                _ = FileManager.default.createFile(atPath: outFile, contents: nil)
            }
            guard let handle = FileHandle(forWritingAtPath: outFile) else { fail("cannot open \(outFile) for writing") }
            handle.seekToEndOfFile()
            out = handle
        } else {
            out = nil
        }
    }

    /// Counts a delivery of `id`; true while it is among the first `limit` of that id.
    func shouldFail(_ id: String, limit: Int) -> Bool {
        let seen = failures[id, default: 0]
        guard seen < limit else { return false }
        failures[id] = seen + 1
        return true
    }

    /// Appends one accepted delta to the output file and prints a summary line.
    func record(_ delta: JSONObject, id: String) {
        var line = delta
        line["verified"] = true
        line["received_at"] = .string(Date().formatted(.iso8601))
        out?.write(Data(JSONValue.object(line).serializedBytes + [0x0A]))
        let changed = delta["changes"]?.objectValue?.keys.joined(separator: ",") ?? ""
        let kind = delta["kind"]?.stringValue ?? "?"
        let version = delta["version"]?.integerValue.map(String.init) ?? "?"
        let previous = delta["prev_version"]?.integerValue.map(String.init) ?? "-"
        say("204 \(id) \(kind) v\(version) (prev \(previous))\(changed.isEmpty ? "" : " changes: \(changed)")")
    }
}

/// Resumes one waiter the first time a stop signal arrives.
final class StopSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Called from the signal handler.
    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once ``fire()`` was called.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let fired = state.withLock { state -> Bool in
                if !state.fired { state.waiter = continuation }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}

// MARK: - Checking one delivery

/// How far from our clock a `webhook-timestamp` may be (Standard Webhooks suggests 5 minutes).
let tolerance: Int64 = 5 * 60

func handle(_ request: HTTPRequest, signer: WebhookSigner, state: ReceiverState, options: Options) async -> HTTPResponse
{
    guard request.method == "POST" else { return .error(405, "only POST is accepted") }
    guard let id = request.headers["webhook-id"], let timestampText = request.headers["webhook-timestamp"],
        let signature = request.headers["webhook-signature"]
    else {
        return reject(400, "missing webhook-id, webhook-timestamp or webhook-signature header")
    }
    guard let timestamp = Int64(timestampText) else {
        return reject(400, "\(id): webhook-timestamp is not Unix seconds")
    }
    let now = Int64(Date().timeIntervalSince1970)
    guard abs(now - timestamp) <= tolerance else {
        return reject(400, "\(id): webhook-timestamp \(timestamp) is more than 5 minutes from now (\(now))")
    }
    guard signer.verify(id: id, timestamp: timestamp, body: request.body, header: signature) else {
        return reject(401, "\(id): webhook-signature does not verify with the secret")
    }
    guard let delta = (try? JSONParser.parse(request.body))?.objectValue else {
        return reject(400, "\(id): the body is not a JSON object")
    }
    guard delta["delta_id"]?.stringValue == id else {
        return reject(400, "\(id): webhook-id differs from the body's delta_id")
    }
    if await state.shouldFail(id, limit: options.failFirst) {
        say("\(options.failStatus) \(id) (failing on purpose: --fail-first \(options.failFirst))")
        return HTTPResponse(status: options.failStatus, headers: ["Retry-After": "1"])
    }
    await state.record(delta, id: id)
    return HTTPResponse(status: 204)
}

func reject(_ status: Int, _ message: String) -> HTTPResponse {
    say("\(status) rejected: \(message)")
    return .error(status, message)
}

// MARK: - Main

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
guard let secretText = try? String(contentsOfFile: options.secretFile, encoding: .utf8) else {
    fail("cannot read the secret file \(options.secretFile)")
}
let signer: WebhookSigner
do {
    signer = try WebhookSigner(secretFileText: secretText, fileName: options.secretFile)
} catch {
    fail(error.message)
}
guard let address = ListenAddress.parse(options.listen) else { fail("--listen: not HOST:PORT: \(options.listen)") }

let state = ReceiverState(outFile: options.outFile)
let logger = Logger(label: "renkei-receiver")
let server = HTTPServer(address: address, logger: logger) { request in
    await handle(request, signer: signer, state: state, options: options)
}
do {
    try server.start()
} catch {
    fail("cannot listen on \(options.listen): \(error)")
}
say("renkei-receiver listening on \(address) (port \(server.boundPort.map(String.init) ?? "?"))")

// SIGTERM/SIGINT: stop accepting, let requests in flight finish, exit 0.
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let stopSignal = StopSignal()
let signalSources = [SIGTERM, SIGINT].map { number in
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler { @Sendable in stopSignal.fire() }
    source.resume()
    return source
}
await stopSignal.wait()
await server.stop(deadline: .seconds(5))
say("renkei-receiver stopped")
exit(0)
