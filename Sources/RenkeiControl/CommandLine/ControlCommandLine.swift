import RenkeiCore

/// What `renkeictl` was asked to do, parsed by hand from its arguments.
public struct ControlInvocation: Sendable, Equatable {
    /// `--socket PATH`, if given.
    public var socketPath: String?
    /// `--config FILE`, if given (otherwise `/etc/renkei/renkei.json` is tried quietly).
    public var configPath: String?
    /// `--json`: print the raw reply.
    public var json = false
    /// The command.
    public var command: ControlCommand

    /// The default configuration file.
    public static let defaultConfigPath = "/etc/renkei/renkei.json"
    /// The socket used when neither `--socket` nor the configuration names one.
    public static let defaultSocketPath = "/run/renkei/status.sock"

    /// The socket to use: `--socket`, else the configuration's `status_socket`, else the default.
    /// - Parameter readFile: reads a file's bytes, `nil` when it cannot be read.
    /// - Returns: the path, or an error message when an explicitly given `--config` is unusable.
    public func resolveSocketPath(readFile: (String) -> [UInt8]?) -> Result<String, ControlUsageError> {
        if let socketPath { return .success(socketPath) }
        let path = configPath ?? Self.defaultConfigPath
        guard let bytes = readFile(path) else {
            if configPath != nil {
                return .failure(ControlUsageError("cannot read the configuration file \(path); check the path or pass --socket"))
            }
            return .success(Self.defaultSocketPath)
        }
        do {
            let config = try JSONParser.parse(bytes)
            if let socket = config["status_socket"]?.stringValue { return .success(socket) }
            return .success(Self.defaultSocketPath)
        } catch {
            return .failure(ControlUsageError("\(path) is not valid JSON (\(error)); fix it or pass --socket"))
        }
    }
}

/// A `renkeictl` usage error: exit status 2 with this message.
public struct ControlUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the arguments and what to type instead.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// One `renkeictl` command, each mapping to a status-socket endpoint (contract §6).
public enum ControlCommand: Sendable, Equatable {
    /// `status` → `GET /v1/status`.
    case status
    /// `person UID` or `person --source S --subject X` → `GET /v1/persons…`.
    case person(uid: String?, source: String?, subject: String?, revealProtected: Bool)
    /// `household NO` → `GET /v1/households/{no}`.
    case household(String)
    /// `history UID` → `GET /v1/persons/{uid}/history` (issue 13: each event with its provenance).
    case history(uid: String)
    /// `replay FILE` → `POST /v1/replay` in chunks.
    case replay(file: String, chunkLines: Int)
    /// `verify` → `GET /v1/verify`.
    case verify
    /// `rebuild` → `POST /v1/rebuild`, then poll `/v1/status`.
    case rebuild
    /// `reviews` → `GET /v1/reviews`.
    case reviews
    /// `linking estimate|report` → `POST /v1/linking/estimate`, `GET /v1/linking/report`.
    case linking(action: String)
    /// `dead-letters [--subscription NAME] [--state dead|skipped]` → `GET /v1/dead-letters`
    /// (`skipped`: deltas not sent, each with its reason).
    case deadLetters(subscription: String?, state: String? = nil)
    /// `disclosures --uid U` → `GET /v1/disclosures?uid=U`.
    case disclosures(uid: String)
    /// `access-log` → `GET /v1/access-log`.
    case accessLog
    /// `subscription pause|resume NAME` → `POST /v1/subscriptions/{name}/pause|resume`.
    case subscription(action: String, name: String)
    /// `subscription replay NAME --from-lsn N` → `POST /v1/subscriptions/{name}/replay?from_lsn=N`.
    case subscriptionReplay(name: String, fromLSN: Int)
    /// `reviews show ID` → `GET /v1/reviews/{id}`.
    case review(id: String)
    /// `reviews link ID --uid U` / `reviews reject ID` → `POST /v1/reviews/{id}/link|reject`.
    case reviewDecision(id: String, action: String, uid: String?)
    /// `links add|remove --uid U --source S --subject X` → `POST` / `DELETE /v1/links`.
    case link(remove: Bool, uid: String, source: String, subject: String)
    /// `dead-letters retry|skip ID` → `POST /v1/dead-letters/{id}/retry|skip`.
    case deadLetterAction(id: String, action: String)
    /// `backup [FILE]` → `POST /v1/backup` {path}: a file name in the daemon's `backup_dir` (a time-stamped one without FILE).
    case backup(path: String?)
    /// `keys rotate FILE` → `POST /v1/keys/rotate` {key_file}: wrap the at-rest data key under a new key file.
    case keysRotate(file: String)
    /// `snapshot list` → `GET /v1/snapshots`; `snapshot accept|discard ID` → `POST /v1/snapshots/{id}/accept|discard`.
    case snapshot(action: String, id: String?)
    /// `mapping check --source S FILE` → `POST /v1/mappings/{source}/check` with the file: a dry run.
    case mappingCheck(source: String, file: String)
    /// `search TEXT [--birth-date D] [--limit N]` → `GET /v1/persons/search?q=…&birth_date=…` (issue 18).
    case search(text: String, birthDate: String?, limit: Int?)
    /// `console user add|disable|reset NAME [--role R]` → `POST /v1/console/users/{name}…`;
    /// `console user list` → `GET /v1/console/users` (issue 18: the console's staff accounts).
    case consoleUser(action: String, name: String?, role: String?)
    /// `shadow diff NAME FILE --mapping M` → `POST /v1/subscriptions/{name}/shadow/diff` with the
    /// legacy export and its mapping: the cut-over report (issue 17).
    case shadowDiff(ShadowDiffOptions)
    /// `metrics` → `GET /metrics` (Prometheus text, printed as is).
    case metrics
    /// `top [--count N]` → `GET /v1/status` every second, shown as a live table.
    case top(count: Int?)
    /// `reconcile [CHECK] [--csv] [--state S]` → `GET /v1/reconciliation` (counts) or every page of
    /// `GET /v1/reconciliation/{check}` (findings); `--csv` writes them as CP932 CSV (issue 17).
    case reconcile(check: String?, csv: Bool, state: String?)
    /// `reconcile explain CHECK ID --note TEXT` → `POST /v1/reconciliation/{check}/{id}/explain` {note}.
    case reconcileExplain(check: String, id: String, note: String)

    /// The method and target of the (first) request for this command.
    public var request: (method: String, target: String) {
        switch self {
        case .status: return ("GET", "/v1/status")
        case .person(let uid, let source, let subject, let reveal):
            let suffix = reveal ? "reveal=protected" : ""
            if let uid { return ("GET", "/v1/persons/\(Percent.encode(uid))" + (reveal ? "?" + suffix : "")) }
            return ("GET", "/v1/persons?source=\(Percent.encode(source ?? ""))&subject=\(Percent.encode(subject ?? ""))"
                + (reveal ? "&" + suffix : ""))
        case .household(let number): return ("GET", "/v1/households/\(Percent.encode(number))")
        case .history(let uid): return ("GET", "/v1/persons/\(Percent.encode(uid))/history")
        case .replay: return ("POST", "/v1/replay")
        case .verify: return ("GET", "/v1/verify")
        case .rebuild: return ("POST", "/v1/rebuild")
        case .reviews: return ("GET", "/v1/reviews")
        case .linking(let action): return action == "estimate" ? ("POST", "/v1/linking/estimate") : ("GET", "/v1/linking/report")
        case .deadLetters(let subscription, let state):
            let query = [subscription.map { "subscription=\(Percent.encode($0))" }, state.map { "state=\(Percent.encode($0))" }]
                .compactMap { $0 }.joined(separator: "&")
            return ("GET", "/v1/dead-letters" + (query.isEmpty ? "" : "?" + query))
        case .disclosures(let uid): return ("GET", "/v1/disclosures?uid=\(Percent.encode(uid))")
        case .accessLog: return ("GET", "/v1/access-log")
        case .subscription(let action, let name): return ("POST", "/v1/subscriptions/\(Percent.encode(name))/\(action)")
        case .subscriptionReplay(let name, let lsn):
            return ("POST", "/v1/subscriptions/\(Percent.encode(name))/replay?from_lsn=\(lsn)")
        case .review(let id): return ("GET", "/v1/reviews/\(Percent.encode(id))")
        case .reviewDecision(let id, let action, _): return ("POST", "/v1/reviews/\(Percent.encode(id))/\(action)")
        case .link(let remove, _, _, _): return (remove ? "DELETE" : "POST", "/v1/links")
        case .deadLetterAction(let id, let action): return ("POST", "/v1/dead-letters/\(Percent.encode(id))/\(action)")
        case .backup: return ("POST", "/v1/backup")
        case .keysRotate: return ("POST", "/v1/keys/rotate")
        case .snapshot(let action, let id):
            guard let id else { return ("GET", "/v1/snapshots") }
            return ("POST", "/v1/snapshots/\(Percent.encode(id))/\(action)")
        case .mappingCheck(let source, _): return ("POST", "/v1/mappings/\(Percent.encode(source))/check")
        case .search(let text, let birthDate, let limit):
            var query = "q=\(Percent.encode(text))"
            if let birthDate { query += "&birth_date=\(Percent.encode(birthDate))" }
            if let limit { query += "&limit=\(limit)" }
            return ("GET", "/v1/persons/search?" + query)
        case .consoleUser(let action, let name, _):
            guard let name else { return ("GET", "/v1/console/users") }
            return ("POST", "/v1/console/users/\(Percent.encode(name))" + (action == "add" ? "" : "/\(action)"))
        case .shadowDiff(let options): return ("POST", "/v1/subscriptions/\(Percent.encode(options.name))/shadow/diff")
        case .metrics: return ("GET", "/metrics")
        case .top: return ("GET", "/v1/status")
        case .reconcile(let check, _, let state):
            guard let check else { return ("GET", "/v1/reconciliation") }
            return ("GET", "/v1/reconciliation/\(Percent.encode(check))" + (state.map { "?state=\(Percent.encode($0))" } ?? ""))
        case .reconcileExplain(let check, let id, _):
            return ("POST", "/v1/reconciliation/\(Percent.encode(check))/\(Percent.encode(id))/explain")
        }
    }

    /// The JSON body of the request, empty for commands without one.
    public var body: [UInt8] {
        let value: JSONValue
        switch self {
        case .reviewDecision(_, "link", let uid?): value = ["uid": .string(uid)]
        case .link(_, let uid, let source, let subject):
            value = ["uid": .string(uid), "source": .string(source), "subject": .string(subject)]
        case .backup(let path?): value = ["path": .string(path)]
        case .keysRotate(let file): value = ["key_file": .string(file)]
        case .consoleUser("add", _, let role?): value = ["role": .string(role)]
        case .consoleUser("reset", _, let role?): value = ["role": .string(role)]
        case .reconcileExplain(_, _, let note): value = ["note": .string(note)]
        default: return []
        }
        return value.serializedBytes
    }
}

/// The outcome of parsing `renkeictl`'s arguments.
public enum ControlParseResult: Sendable, Equatable {
    /// Run this.
    case run(ControlInvocation)
    /// Print this help text and exit 0.
    case help(String)
    /// Print this message and the usage line, exit 2.
    case usage(ControlUsageError)
}

/// Percent-encoding for path segments and query values (RFC 3986 unreserved characters stay).
enum Percent {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 15)])
            }
        }
        return out
    }
}
