import Foundation
import RenkeiCore
import RenkeiSystem

/// Runs one parsed command and returns the exit status (0 ok, 1 daemon error, 3 socket trouble).
struct Runner {
    let invocation: ControlInvocation
    let client: UnixHTTPClient

    func run() -> Int32 {
        do {
            switch invocation.command {
            case .replay(let file, let chunkLines):
                return try Replay(runner: self, file: file, chunkLines: chunkLines).run()
            case .rebuild:
                return try rebuild()
            case .top(let count):
                return try Top(runner: self, count: count).run()
            case .reconcile(let check, let csv, let state):
                return try Reconcile(runner: self, check: check, csv: csv, state: state).run()
            case .metrics:
                let reply = try client.request(method: "GET", path: "/metrics", headers: HTTPHeaders(), body: [])
                guard reply.status < 400 else { return fail(reply.status, try? JSONParser.parse(reply.body)) }
                print(String(decoding: reply.body, as: UTF8.self), terminator: "")
                return 0
            case .backup(let path):
                // A bare file name goes as it is (the daemon puts it in backup_dir); a path with a folder is
                // made absolute against this directory, and the daemon takes it only inside backup_dir.
                let absolute = path.map {
                    $0.hasPrefix("/") || !$0.contains("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0
                }
                Output.progress("backup: copying the database (renkeid keeps running)…")
                let command = ControlCommand.backup(path: absolute)
                let (status, reply) = try call(command.request, body: command.body, contentType: "application/json")
                Output.endProgress()
                guard status < 400 else { return fail(status, reply) }
                show(reply)
                return 0
            case .mappingCheck(_, let file):
                guard let data = FileManager.default.contents(atPath: file) else {
                    Output.error("renkeictl: cannot read \(file)")
                    return 1
                }
                let (status, reply) = try call(
                    invocation.command.request, body: Array(data), contentType: "application/octet-stream")
                guard status < 400 else { return fail(status, reply) }
                show(reply)
                return (reply?["refused"]?.arrayValue ?? []).isEmpty ? 0 : 1
            case .shadowDiff(let options):
                return try ShadowDiffCommand(runner: self, options: options).run()
            case .keysRotate(let file):
                // The daemon resolves nothing: a relative FILE is made absolute against this directory.
                let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
                let command = ControlCommand.keysRotate(file: absolute)
                let (status, reply) = try call(command.request, body: command.body, contentType: "application/json")
                guard status < 400 else { return fail(status, reply) }
                show(reply)
                return 0
            case .verify:
                let (status, reply) = try call(invocation.command.request)
                guard status < 400 else { return fail(status, reply) }
                show(reply)
                return reply?["ok"]?.boolValue == true ? 0 : 1
            default:
                let command = invocation.command
                let body = command.body
                let (status, reply) = try call(command.request, body: body, contentType: body.isEmpty ? nil : "application/json")
                guard status < 400 else { return fail(status, reply) }
                show(reply)
                return 0
            }
        } catch {
            Output.error("renkeictl: \(explain(error))")
            return 3
        }
    }

    /// Sends a request; the reply is parsed as JSON when it is JSON.
    func call(_ request: (method: String, target: String), body: [UInt8] = [], contentType: String? = nil)
        throws(SystemError) -> (Int, JSONValue?)
    {
        var headers = HTTPHeaders()
        if let contentType { headers["Content-Type"] = contentType }
        headers["Accept"] = "application/json"
        let reply = try client.request(method: request.method, path: request.target, headers: headers, body: body)
        return (reply.status, try? JSONParser.parse(reply.body))
    }

    func show(_ reply: JSONValue?) {
        guard let reply else { return }
        Output.line(invocation.json ? reply.serializedString : ReplyFormatter.render(reply))
    }

    func fail(_ status: Int, _ reply: JSONValue?) -> Int32 {
        if invocation.json, let reply { Output.line(reply.serializedString) }
        let message = reply?["error"]?.stringValue ?? "the daemon answered HTTP \(status)"
        Output.error("renkeictl: \(message) (HTTP \(status))")
        return 1
    }

    /// Turns a socket failure into what an operator should do.
    func explain(_ error: SystemError) -> String {
        let path = client.socketPath
        switch error.code {
        case .notFound, .connectionRefused:
            return "cannot reach renkeid at \(path): is renkeid running? see `systemctl status renkeid`"
                + " (or pass --socket PATH)"
        case .permissionDenied:
            return "permission denied on \(path): add your user to the renkei group"
                + " (sudo usermod -aG renkei $USER, then log in again)"
        case .timedOut:
            return "renkeid did not answer in time at \(path); check `journalctl -u renkeid`"
        default:
            return error.description
        }
    }

    private func rebuild() throws(SystemError) -> Int32 {
        let (status, reply) = try call(invocation.command.request)
        guard status < 400 else { return fail(status, reply) }
        while true {
            let (status, reply) = try call(ControlCommand.status.request)
            guard status < 400 else { return fail(status, reply) }
            guard let progress = reply?["rebuild"]?.objectValue,
                let done = progress["done_lsn"]?.integerValue, let target = progress["target_lsn"]?.integerValue
            else {
                Output.endProgress()
                let lsn = reply?["projection_lsn"]?.integerValue.map(String.init) ?? "?"
                if invocation.json, let reply { Output.line(reply.serializedString) }
                else { Output.line("rebuild complete: projection_lsn \(lsn)") }
                return 0
            }
            let percent = target > 0 ? done * 100 / target : 100
            Output.progress("rebuild: \(done)/\(target) (\(percent)%)")
            Thread.sleep(forTimeInterval: 0.5)
        }
    }
}
