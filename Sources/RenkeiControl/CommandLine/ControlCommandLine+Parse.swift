extension ControlInvocation {
    /// Parses `renkeictl`'s arguments (without the program name).
    ///
    /// Global options (`--socket`, `--config`, `--json`) may come anywhere; `--help` / `-h` anywhere
    /// gives the help of the command named, or the overview.
    public static func parse(_ arguments: [String]) -> ControlParseResult {
        var invocation = ControlInvocation(command: .status)
        var words: [String] = []
        var options: [String: String] = [:]
        var flags: Set<String> = []
        var wantsHelp = false
        let valued: Set<String> = ["--socket", "--config", "--source", "--subject", "--uid", "--subscription", "--from-lsn", "--chunk-lines", "--count", "--state", "--mapping", "--encoding", "--format", "--limit", "--birth-date", "--role", "--note"]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if name == "--help" || name == "-h" {
                wantsHelp = true
            } else if name == "--json" || name == "--reveal-protected" || name == "--csv" {
                flags.insert(name)
            } else if valued.contains(name) {
                guard let value = inlineValue ?? (index < arguments.count ? arguments[index] : nil) else {
                    return .usage(ControlUsageError("\(name) needs a value"))
                }
                if inlineValue == nil { index += 1 }
                options[name] = value
            } else if argument.hasPrefix("-") && argument != "-" {
                return .usage(ControlUsageError("unknown option \(argument)"))
            } else {
                words.append(argument)
            }
        }
        if words.first == "help" {
            return .help(ControlHelp.text(for: words.dropFirst().first))
        }
        if wantsHelp { return .help(ControlHelp.text(for: words.first)) }
        guard let name = words.first else { return .usage(ControlUsageError("no command given")) }
        let rest = Array(words.dropFirst())
        invocation.socketPath = options["--socket"]
        invocation.configPath = options["--config"]
        invocation.json = flags.contains("--json")

        func expect(_ count: Int, _ what: String) -> ControlUsageError? {
            rest.count == count ? nil : ControlUsageError("\(name) takes \(what); see `renkeictl \(name) --help`")
        }
        func unused(_ allowed: Set<String>) -> ControlUsageError? {
            let extra = Set(options.keys).subtracting(["--socket", "--config"]).subtracting(allowed)
            if let first = extra.sorted().first { return ControlUsageError("\(first) does not apply to \(name)") }
            if flags.contains("--reveal-protected") && !allowed.contains("--reveal-protected") {
                return ControlUsageError("--reveal-protected applies only to person")
            }
            if flags.contains("--csv") && !allowed.contains("--csv") {
                return ControlUsageError("--csv applies only to reconcile")
            }
            return nil
        }

        let command: ControlCommand
        switch name {
        case "status", "verify", "rebuild", "access-log", "metrics":
            if let error = expect(0, "no arguments") ?? unused([]) { return .usage(error) }
            command = [
                "status": .status, "verify": .verify, "rebuild": .rebuild, "access-log": .accessLog, "metrics": .metrics,
            ][name]!
        case "linking":
            guard rest.count == 1, rest[0] == "estimate" || rest[0] == "report" else {
                return .usage(ControlUsageError("linking takes estimate or report"))
            }
            if let error = unused([]) { return .usage(error) }
            command = .linking(action: rest[0])
        case "reviews":
            switch (rest.first, rest.count) {
            case (nil, _):
                if let error = unused([]) { return .usage(error) }
                command = .reviews
            case ("show", 2), ("reject", 2):
                if let error = unused([]) { return .usage(error) }
                command = rest[0] == "show" ? .review(id: rest[1]) : .reviewDecision(id: rest[1], action: "reject", uid: nil)
            case ("link", 2):
                if let error = unused(["--uid"]) { return .usage(error) }
                guard let uid = options["--uid"] else {
                    return .usage(ControlUsageError("reviews link ID needs --uid U: the person to link the record to"))
                }
                command = .reviewDecision(id: rest[1], action: "link", uid: uid)
            default:
                return .usage(ControlUsageError("reviews takes nothing, or show|reject ID, or link ID --uid U; see `renkeictl reviews --help`"))
            }
        case "links":
            guard rest.count == 1, rest[0] == "add" || rest[0] == "remove" else {
                return .usage(ControlUsageError("links takes add|remove --uid U --source S --subject X"))
            }
            if let error = unused(["--uid", "--source", "--subject"]) { return .usage(error) }
            guard let uid = options["--uid"], let source = options["--source"], let subject = options["--subject"] else {
                return .usage(ControlUsageError("links \(rest[0]) needs --uid U --source S --subject X"))
            }
            command = .link(remove: rest[0] == "remove", uid: uid, source: source, subject: subject)
        case "backup":
            guard rest.count <= 1 else { return .usage(ControlUsageError("backup takes at most one FILE")) }
            if let error = unused([]) { return .usage(error) }
            command = .backup(path: rest.first)
        case "keys":
            guard rest.count == 2, rest[0] == "rotate" else {
                return .usage(ControlUsageError("keys takes rotate FILE (the new key file); see `renkeictl keys --help`"))
            }
            if let error = unused([]) { return .usage(error) }
            command = .keysRotate(file: rest[1])
        case "mapping":
            guard rest.count == 2, rest[0] == "check", let source = options["--source"] else {
                return .usage(ControlUsageError("mapping takes check --source S FILE; see `renkeictl mapping --help`"))
            }
            if let error = unused(["--source"]) { return .usage(error) }
            command = .mappingCheck(source: source, file: rest[1])
        case "export":
            // Issue 17: a full export (全件) of a file subscription's views.
            guard rest.count == 1 else { return .usage(ControlUsageError("export takes one NAME (a file subscription); see `renkeictl export --help`")) }
            if let error = unused([]) { return .usage(error) }
            command = .subscription(action: "export", name: rest[0])
        case "shadow":
            if let error = unused(["--mapping", "--source", "--encoding", "--format", "--limit"]) { return .usage(error) }
            switch parseShadow(rest, options) {
            case .success(let value): command = value
            case .failure(let error): return .usage(error)
            }
        case "snapshot":
            switch (rest.first, rest.count) {
            case ("list", 1):
                if let error = unused([]) { return .usage(error) }
                command = .snapshot(action: "list", id: nil)
            case ("accept", 2), ("discard", 2):
                if let error = unused([]) { return .usage(error) }
                command = .snapshot(action: rest[0], id: rest[1])
            default:
                return .usage(ControlUsageError("snapshot takes list, accept ID or discard ID; see `renkeictl snapshot --help`"))
            }
        case "reconcile":
            if rest.first == "explain" {
                guard rest.count == 3, let note = options["--note"] else {
                    return .usage(ControlUsageError("reconcile explain takes CHECK ID --note TEXT; see `renkeictl reconcile --help`"))
                }
                if let error = unused(["--note"]) { return .usage(error) }
                command = .reconcileExplain(check: rest[1], id: rest[2], note: note)
            } else {
                guard rest.count <= 1 else {
                    return .usage(ControlUsageError("reconcile takes at most one CHECK; see `renkeictl reconcile --help`"))
                }
                if let error = unused(["--csv", "--state"]) { return .usage(error) }
                let state = options["--state"]
                guard state == nil || ["open", "explained", "resolved"].contains(state!) else {
                    return .usage(ControlUsageError("--state is open, explained or resolved (default: open and explained)"))
                }
                command = .reconcile(check: rest.first, csv: flags.contains("--csv"), state: state)
            }
        case "top":
            if let error = expect(0, "no arguments") ?? unused(["--count"]) { return .usage(error) }
            var count: Int?
            if let text = options["--count"] {
                guard let value = Int(text), value > 0 else { return .usage(ControlUsageError("--count must be a positive number")) }
                count = value
            }
            command = .top(count: count)
        case "person":
            if let error = unused(["--source", "--subject", "--reveal-protected"]) { return .usage(error) }
            let reveal = flags.contains("--reveal-protected")
            if let source = options["--source"], let subject = options["--subject"], rest.isEmpty {
                command = .person(uid: nil, source: source, subject: subject, revealProtected: reveal)
            } else if rest.count == 1, options["--source"] == nil, options["--subject"] == nil {
                command = .person(uid: rest[0], source: nil, subject: nil, revealProtected: reveal)
            } else {
                return .usage(ControlUsageError("person takes a UID, or --source S --subject X; see `renkeictl person --help`"))
            }
        case "search":
            if let error = unused(["--birth-date", "--limit"]) { return .usage(error) }
            guard rest.count <= 1, !rest.isEmpty || options["--birth-date"] != nil else {
                return .usage(ControlUsageError("search takes TEXT (a name, kana, address, 宛名番号 or subject) and/or --birth-date D"))
            }
            var limit: Int?
            if let text = options["--limit"] {
                guard let value = Int(text), (1...200).contains(value) else {
                    return .usage(ControlUsageError("--limit must be a number from 1 to 200"))
                }
                limit = value
            }
            command = .search(text: rest.first ?? "", birthDate: options["--birth-date"], limit: limit)
        case "console":
            let roles = ["viewer", "reviewer", "admin"]
            switch (rest.first, rest.dropFirst().first, rest.count) {
            case ("user", "list", 2):
                if let error = unused([]) { return .usage(error) }
                command = .consoleUser(action: "list", name: nil, role: nil)
            case ("user", "add", 3):
                if let error = unused(["--role"]) { return .usage(error) }
                guard let role = options["--role"], roles.contains(role) else {
                    return .usage(ControlUsageError("console user add NAME needs --role viewer|reviewer|admin"))
                }
                command = .consoleUser(action: "add", name: rest[2], role: role)
            case ("user", "reset", 3):
                if let error = unused(["--role"]) { return .usage(error) }
                if let role = options["--role"], !roles.contains(role) {
                    return .usage(ControlUsageError("--role is viewer, reviewer or admin"))
                }
                command = .consoleUser(action: "reset", name: rest[2], role: options["--role"])
            case ("user", "disable", 3):
                if let error = unused([]) { return .usage(error) }
                command = .consoleUser(action: "disable", name: rest[2], role: nil)
            default:
                return .usage(ControlUsageError(
                    "console takes user add|reset NAME --role viewer|reviewer|admin, user disable NAME or user list; "
                        + "see `renkeictl console --help`"))
            }
        case "household":
            if let error = expect(1, "one household number") ?? unused([]) { return .usage(error) }
            command = .household(rest[0])
        case "history":
            if let error = expect(1, "one UID") ?? unused([]) { return .usage(error) }
            command = .history(uid: rest[0])
        case "replay":
            if let error = expect(1, "one FILE") ?? unused(["--chunk-lines"]) { return .usage(error) }
            var chunk = 5000
            if let text = options["--chunk-lines"] {
                guard let value = Int(text), value > 0 else {
                    return .usage(ControlUsageError("--chunk-lines must be a positive number"))
                }
                chunk = value
            }
            command = .replay(file: rest[0], chunkLines: chunk)
        case "dead-letters":
            if let action = rest.first {
                guard action == "retry" || action == "skip", rest.count == 2 else {
                    return .usage(ControlUsageError("dead-letters takes [--subscription NAME] [--state dead|skipped], or retry|skip ID"))
                }
                if let error = unused([]) { return .usage(error) }
                command = .deadLetterAction(id: rest[1], action: action)
            } else {
                if let error = unused(["--subscription", "--state"]) { return .usage(error) }
                let state = options["--state"]
                guard state == nil || state == "dead" || state == "skipped" else {
                    return .usage(ControlUsageError("--state is dead (the default) or skipped"))
                }
                command = .deadLetters(subscription: options["--subscription"], state: state)
            }
        case "disclosures":
            if let error = expect(0, "only --uid U") ?? unused(["--uid"]) { return .usage(error) }
            guard let uid = options["--uid"] else { return .usage(ControlUsageError("disclosures needs --uid U")) }
            command = .disclosures(uid: uid)
        case "subscription":
            guard let action = rest.first, ["pause", "resume", "replay"].contains(action) else {
                return .usage(ControlUsageError("subscription takes pause|resume|replay NAME; see `renkeictl subscription --help`"))
            }
            guard rest.count == 2 else { return .usage(ControlUsageError("subscription \(action) takes one NAME")) }
            if action == "replay" {
                if let error = unused(["--from-lsn"]) { return .usage(error) }
                guard let text = options["--from-lsn"], let lsn = Int(text), lsn >= 1 else {
                    return .usage(ControlUsageError("subscription replay needs --from-lsn N (N ≥ 1)"))
                }
                command = .subscriptionReplay(name: rest[1], fromLSN: lsn)
            } else {
                if let error = unused([]) { return .usage(error) }
                command = .subscription(action: action, name: rest[1])
            }
        default:
            return .usage(ControlUsageError("unknown command \(name); see `renkeictl --help`"))
        }
        invocation.command = command
        return .run(invocation)
    }
}
