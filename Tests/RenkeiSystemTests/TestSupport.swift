import Foundation
import Glibc
import RenkeiCore
@testable import RenkeiSystem

/// A fresh temporary directory, removed when the value is dropped.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        // Short paths: sun_path holds 107 bytes.
        let template = "/tmp/rks-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: bytes.map { $0 })
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A collecting log sink for tests.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var sink: LogSink { LogSink { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

import Synchronization

let quietLogger = Logger(label: "test", minimumLevel: .error, sink: LogSink { _ in })

/// An echo handler: answers with method, path, query, body size and peer uid.
@Sendable func echoHandler(_ request: HTTPRequest) async -> HTTPResponse {
    var object: JSONObject = [
        "method": .string(request.method), "path": .string(request.path),
        "body": .string(String(decoding: request.body, as: UTF8.self)),
    ]
    for (key, value) in request.query.sorted(by: { $0.key < $1.key }) {
        object = JSONObject(object.members + [.init(key: "q_" + key, value: .string(value))])
    }
    if let peer = request.peer {
        object = JSONObject(object.members + [.init(key: "uid", value: .integer(Int64(peer.uid)))])
    }
    if let remote = request.remoteAddress {
        object = JSONObject(object.members + [.init(key: "remote", value: .string(remote))])
    }
    return .json(200, .object(object))
}

/// A raw client socket for protocol-level tests.
func rawConnect(_ path: String) throws -> Socket {
    let socket = try Socket.make(family: AF_UNIX)
    try socket.connect(.unix(path))
    return socket
}

/// Reads until the peer closes or `timeout` passes; returns everything read.
func readAll(_ socket: Socket, timeout: Duration = .seconds(30)) throws -> String {
    var buffer: [UInt8] = []
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: timeout)
    while clock.now < end {
        guard try socket.waitReadable(timeout: clock.now.duration(to: end)) else { break }
        if try socket.read(appendingTo: &buffer) == 0 { break }
    }
    return String(decoding: buffer, as: UTF8.self)
}

/// Reads until `count` complete responses with Content-Length have arrived. The generous default
/// bounds a hang, not speed: under a loaded CI run the server's handlers can wait seconds for a thread.
func readResponses(_ socket: Socket, count: Int, timeout: Duration = .seconds(30)) throws -> [(Int, String)] {
    var parser = HTTPResponseParser()
    var results: [(Int, String)] = []
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: timeout)
    while results.count < count, clock.now < end {
        if let reply = try parser.parse(atEndOfStream: false) {
            results.append((reply.status, String(decoding: reply.body, as: UTF8.self)))
            // Drop the consumed reply: find where it ended.
            let text = parser.buffer
            let headEnd = text.indices.first { i in
                i + 3 < text.count && text[i] == 13 && text[i + 1] == 10 && text[i + 2] == 13 && text[i + 3] == 10
            }!
            parser.buffer.removeFirst(headEnd + 4 + reply.body.count)
            continue
        }
        guard try socket.waitReadable(timeout: clock.now.duration(to: end)) else { break }
        if try socket.read(appendingTo: &parser.buffer) == 0 { break }
    }
    return results
}
