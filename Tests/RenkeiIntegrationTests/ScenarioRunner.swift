import Foundation
import Glibc
import RenkeiCore
import RenkeiCrypto
import RenkeiSystem
import Testing

/// Replays one scenario into a fresh `renkeid` and checks it three ways (issue 7):
/// 1. the goldens: replay replies, every person, every household, every delta body;
/// 2. idempotence: the same input again adds no event, no lsn and no delivery;
/// 3. rebuild: `POST /v1/rebuild` gives the same persons and households and sends nothing.
struct ScenarioRunner {
    let fixture: ScenarioFixture

    init(_ name: String) { fixture = ScenarioFixture(name: name) }

    /// One replay request's outcome, as the `expected-replay.json` golden holds it.
    struct ReplaySummary: Equatable {
        var file: String
        var accepted: Int64
        var duplicates: Int64
        var rejectedLines: [Int64]

        var line: String {
            let value: JSONValue = [
                "file": .string(file), "accepted": .integer(accepted), "duplicates": .integer(duplicates),
                "rejected_lines": .array(rejectedLines.map { .integer($0) }),
            ]
            return value.serializedString
        }
    }

    func run() async throws {
        let receiver = try WebhookRecorder()
        do {
            try await withDaemon { daemon in try await run(daemon, receiver) }
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    private func run(_ daemon: DaemonHarness, _ receiver: WebhookRecorder) async throws {
        // Config from the template: paths of this run, one receiver path and secret per subscription.
        var signers: [String: WebhookSigner] = [:]
        var text = try fixture.configTemplate()
        for name in try fixture.subscriptionNames() {
            let secret = try daemon.writeSecret(name: name)
            signers[name] = try WebhookSigner(secretFileText: secret.text, fileName: secret.path)
            text = text.replacingOccurrences(of: "{{receiver:\(name)}}", with: receiver.url + "/" + name)
            text = text.replacingOccurrences(of: "{{secret:\(name)}}", with: secret.path)
        }
        for source in DaemonHarness.defaultSources {
            text = text.replacingOccurrences(of: "{{spool:\(source)}}", with: daemon.spool(source).path)
        }
        text = text.replacingOccurrences(of: "{{state_dir}}", with: daemon.root.appendingPathComponent("state").path)
        text = text.replacingOccurrences(of: "{{schemas_dir}}", with: TestPaths.schemasDir.path)
        text = text.replacingOccurrences(of: "{{status_socket}}", with: daemon.statusSocket)
        text = text.replacingOccurrences(of: "{{scenario_dir}}", with: fixture.folder.path)
        #expect(!text.contains("{{"), "\(fixture.name)/renkei.json has a placeholder the runner does not know")
        // Every daemon needs its at-rest key file; the templates leave `secrets` to the runner.
        if var config = try JSONParser.parse(Array(text.utf8)).objectValue, config["secrets"] == nil {
            config["secrets"] = ["at_rest_key_file": .string(daemon.atRestKeyFile)]
            text = JSONValue.object(config).serializedString
        }
        try Data(text.utf8).write(to: daemon.configFile)
        try await daemon.start()

        // Pass 1: the goldens.
        let fed = try await feed(daemon, prefix: "")
        let replies = fed.replies
        let head = try await waitIdle(daemon)
        let first = try await collect(daemon, receiver, signers: signers)
        let replyText = GoldenText.array(replies.map(\.line))
        let rejectedText = fed.rejected.map { $0 + "\n" }.joined()
        let hasSpool = !fixture.spoolFiles().isEmpty
        let snapshotSources = try fixture.snapshotSources()
        let snapshotText = snapshotSources.isEmpty ? nil : try await snapshotRuns(daemon)
        if ScenarioFixture.updating {
            try fixture.writeGolden("expected-replay.json", replyText)
            try fixture.writeGolden("expected-persons.json", first.persons)
            try fixture.writeGolden("expected-households.json", first.households)
            try fixture.writeGolden("expected-deltas.jsonl", first.deltas)
            if hasSpool { try fixture.writeGolden("expected-rejected.jsonl", rejectedText) }
            if let snapshotText { try fixture.writeGolden("expected-snapshots.json", snapshotText) }
            print("scenario \(fixture.name): goldens written; review them before committing")
        } else {
            checking("goldens") {
                compareGoldens(replyText: replyText, rejectedText: hasSpool ? rejectedText : nil, outcome: first)
                if let snapshotText {
                    report(
                        "expected-snapshots.json", expected: fixture.golden("expected-snapshots.json"), actual: snapshotText,
                        key: { "\($0["source"]?.stringValue ?? "?")/\($0["file"]?.stringValue ?? "?")" })
                }
            }
        }
        // A held snapshot file is what a truncated export looks like: the operator discards it.
        try await discardHeld(daemon, fed.held, head: head)

        // Pass 2: the same input again adds nothing.
        let deliveredBefore = receiver.deliveries.count
        let plannedBefore = plannedDeltas(in: try await daemon.status())
        // A snapshot source's full files again from its last applied one: a full file is compared
        // with the previous one, so an older file dropped after a newer one would be a change.
        var dropAgain: Set<String> = []
        for (source, file) in fixture.spoolFiles() {
            let taken = fed.taken.filter { $0.source == source }
            let lastApplied = taken.lastIndex { !$0.held } ?? 0
            let position = taken.firstIndex { $0.file == file.lastPathComponent } ?? 0
            if !snapshotSources.contains(source) || position >= lastApplied {
                dropAgain.insert("\(source)/\(file.lastPathComponent)")
            }
        }
        let fedAgain = try await feed(daemon, prefix: "again-", only: dropAgain)
        let again = fedAgain.replies
        let rejectedBefore = fed.rejected.filter { line in
            fed.rejectedSource[line].map { dropAgain.contains($0) } ?? true
        }
        #expect(
            fedAgain.rejected == rejectedBefore,
            "\(fixture.name): the spool files' rejections changed on the second drop:\n\(fedAgain.rejected.joined(separator: "\n"))")
        #expect(
            fedAgain.held.map(\.counts) == fed.held.filter({ dropAgain.contains("\($0.source)/\($0.file)") }).map(\.counts),
            "\(fixture.name): a held file was not held the same way on the second drop")
        try await discardHeld(daemon, fedAgain.held, head: head)
        for (one, two) in zip(replies, again) {
            #expect(two.accepted == 0, "\(fixture.name): second replay of \(two.file) accepted \(two.accepted)")
            #expect(
                two.duplicates == one.accepted + one.duplicates,
                "\(fixture.name): second replay of \(two.file): \(two.duplicates) duplicates, expected \(one.accepted + one.duplicates)"
            )
            #expect(two.rejectedLines == one.rejectedLines, "\(fixture.name): rejections changed on the second replay")
        }
        let headAgain = try await waitIdle(daemon)
        #expect(headAgain == head, "\(fixture.name): head_lsn moved from \(head) to \(headAgain) on the second replay")
        // Idle: every delta planned so far has its outcome, so the receiver has had all of them; and
        // the outboxes hold no more deltas than before the second feed.
        let plannedAgain = plannedDeltas(in: try await daemon.status())
        #expect(plannedAgain == plannedBefore, "\(fixture.name): the second replay planned \(plannedAgain - plannedBefore) deltas")
        let afterReplay = receiver.deliveries
        #expect(
            afterReplay.count == deliveredBefore,
            "\(fixture.name): the second replay sent \(afterReplay.dropFirst(deliveredBefore).map(\.id))")

        // Pass 3: a rebuild recomputes the same views and sends nothing new.
        let rebuild = try await daemon.request("POST", "/v1/rebuild")
        #expect((200..<300).contains(rebuild.status), "POST /v1/rebuild: \(rebuild.status) \(rebuild.text)")
        // `rebuild` in the status is set before the 202 and cleared once the rebuild (with any delta
        // it planned) has committed, so idle here is after the rebuild, not before it began.
        let headRebuilt = try await waitIdle(daemon)
        #expect(headRebuilt == head, "\(fixture.name): head_lsn moved across the rebuild")
        let plannedByRebuild = plannedDeltas(in: try await daemon.status()) - plannedAgain
        let rebuilt = try await collect(daemon, receiver, signers: signers)
        report(
            "persons after rebuild", expected: first.persons, actual: rebuilt.persons,
            key: { $0["uid"]?.stringValue ?? "?" })
        report(
            "households after rebuild", expected: first.households, actual: rebuilt.households,
            key: { $0["household_no"]?.stringValue ?? "?" })
        let sentByRebuild = receiver.deliveries.dropFirst(deliveredBefore)
        checking("rebuild") {
            #expect(plannedByRebuild == 0, "\(fixture.name): the rebuild planned \(plannedByRebuild) deltas")
            #expect(
                sentByRebuild.count == 0,
                "\(fixture.name): the rebuild sent \(sentByRebuild.count) deltas:\n\(sentByRebuild.map { String(decoding: $0.body, as: UTF8.self) }.joined(separator: "\n"))"
            )
        }

        let exit = try await daemon.stop()
        #expect(exit == 0, "\(fixture.name): renkeid exit status after SIGTERM")
    }

    /// Runs `checks`; when the scenario's `KNOWN-ISSUE` file has a line `<part>: <bug>`, as a known
    /// issue naming that bug (so the suite stays green and tells when the bug is fixed).
    private func checking(_ part: String, _ checks: () -> Void) {
        let lines = jsonLines(fixture.golden("KNOWN-ISSUE") ?? "")
        if let line = lines.first(where: { $0.hasPrefix(part + ":") }) {
            let bug = line.dropFirst(part.count + 1).trimmingCharacters(in: .whitespaces)
            withKnownIssue(Comment(rawValue: "\(fixture.name): \(bug)")) { checks() }
        } else {
            checks()
        }
    }

    // MARK: - Input

    /// What one feeding of the input gave back.
    struct Fed {
        /// One summary per `events*.jsonl` replay request.
        var replies: [ReplaySummary]
        /// The spool files' `rejected/<file>.errors.jsonl` lines, file by file, each with `file`
        /// named as in the fixture (without the drop's prefix), so two drops compare equal.
        var rejected: [String]
        /// Each rejected line's `source/file` (as in the fixture).
        var rejectedSource: [String: String] = [:]
        /// The spool files dropped, in order, and whether each was held (a snapshot run awaiting an operator).
        var taken: [(source: String, file: String, held: Bool)] = []
        /// The held files' runs: id (to discard) and counts (to compare two drops).
        var held: [HeldRun] = []
    }


    /// Replays every `events*.jsonl` (one request each) and drops every spool file (or those of
    /// `only`, as `source/file`), waiting for `done/` (or, for a snapshot file, `held/` and its run).
    private func feed(_ daemon: DaemonHarness, prefix: String, only: Set<String>? = nil) async throws -> Fed {
        var summaries: [ReplaySummary] = []
        var rejected: [String] = []
        var rejectedSource: [String: String] = [:]
        var taken: [(source: String, file: String, held: Bool)] = []
        var heldRuns: [HeldRun] = []
        for file in try fixture.eventFiles() {
            let lines = jsonLines(try String(contentsOf: file, encoding: .utf8))
            let reply = try await daemon.replay(lines)
            #expect(reply.status == 200, "\(fixture.name): replay of \(file.lastPathComponent): \(reply.status) \(reply.text)")
            let json = reply.json
            let rejected = (json["rejected"]?.arrayValue ?? []).compactMap { $0["line"]?.integerValue }
            summaries.append(
                ReplaySummary(
                    file: file.lastPathComponent, accepted: json["accepted"]?.integerValue ?? -1,
                    duplicates: json["duplicates"]?.integerValue ?? -1, rejectedLines: rejected))
        }
        for (source, file) in fixture.spoolFiles() {
            if let only, !only.contains("\(source)/\(file.lastPathComponent)") { continue }
            let name = prefix + file.lastPathComponent
            let dir = daemon.spool(source)
            let temp = dir.appendingPathComponent(".\(name).tmp")
            try Data(contentsOf: file).write(to: temp)
            guard rename(temp.path, dir.appendingPathComponent(name).path) == 0 else {
                throw HarnessError("rename \(temp.path): errno \(errno)")
            }
            let done = dir.appendingPathComponent("done/\(name)").path
            let held = dir.appendingPathComponent("held/\(name)").path
            let moved = try await daemon.waitUntil(timeout: .seconds(60)) {
                FileManager.default.fileExists(atPath: done) || FileManager.default.fileExists(atPath: held)
            }
            #expect(moved, "\(fixture.name): spool file \(source)/\(name) never reached done/ (or held/)")
            let isHeld = !FileManager.default.fileExists(atPath: done) && FileManager.default.fileExists(atPath: held)
            taken.append((source, file.lastPathComponent, isHeld))
            if isHeld {
                if let run = try await heldRun(daemon, source: source, file: file.lastPathComponent, droppedAs: name) {
                    heldRuns.append(run)
                }
                continue
            }
            // The errors file is renamed into rejected/ before the spool file moves to done/.
            let errors = dir.appendingPathComponent("rejected/\(name).errors.jsonl")
            for line in jsonLines((try? String(contentsOf: errors, encoding: .utf8)) ?? "") {
                guard var entry = JSONValue.parse(bytes: line.bytes)?.objectValue else {
                    Issue.record("\(fixture.name): \(errors.lastPathComponent) holds a line that is not a JSON object: \(line)")
                    continue
                }
                #expect(entry["file"]?.stringValue == name, "\(fixture.name): \(errors.lastPathComponent) names another file: \(line)")
                entry["file"] = .string(file.lastPathComponent)
                let text = JSONValue.object(entry).serializedString
                rejected.append(text)
                rejectedSource[text] = "\(source)/\(file.lastPathComponent)"
            }
        }
        return Fed(replies: summaries, rejected: rejected, rejectedSource: rejectedSource, taken: taken, held: heldRuns)
    }

    // MARK: - Waiting

    /// Waits (bounded) until the projection has caught up, no rebuild runs and every subscription
    /// has nothing pending or in flight, seen twice in a row; returns `head_lsn`.
    func waitIdle(_ daemon: DaemonHarness, timeout: Duration = .seconds(60)) async throws -> Int64 {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var idleSeen = 0
        var last = JSONValue.null
        while clock.now < deadline {
            last = try await daemon.status()
            let subscriptions = last["subscriptions"]?.objectValue ?? JSONObject()
            let quiet = subscriptions.allSatisfy {
                $0.value["backlog"]?.integerValue == 0 && $0.value["in_flight"]?.integerValue == 0
            }
            let idle =
                last["head_lsn"]?.integerValue != nil
                && last["projection_lsn"]?.integerValue == last["head_lsn"]?.integerValue
                && (last["rebuild"] == nil || last["rebuild"]?.isNull == true) && quiet
            idleSeen = idle ? idleSeen + 1 : 0
            if idleSeen >= 2 { return last["head_lsn"]?.integerValue ?? -1 }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("\(fixture.name): the daemon was not idle within \(timeout); status: \(last.serializedString)")
    }

    // MARK: - Output

    /// Reads every person (uid by uid until a 404), every household named by a person or an event,
    /// and every delivered delta (checked: `webhook-id`, signature, timestamp, one body per id).
    private func collect(_ daemon: DaemonHarness, _ receiver: WebhookRecorder, signers: [String: WebhookSigner])
        async throws -> ScenarioOutcome
    {
        var persons: [String] = []
        var households = try fixture.householdNumbersInEvents()
        for index in 1...100_000 {
            let uid = String(format: "U%010d", index)
            let reply = try await daemon.get("/v1/persons/\(uid)")
            if reply.status == 404 { break }
            #expect(reply.status == 200, "\(fixture.name): GET /v1/persons/\(uid): \(reply.status) \(reply.text)")
            persons.append(reply.text.trimmingCharacters(in: .newlines))
            if let number = reply.json["household_no"]?.stringValue { households.insert(number) }
        }
        var householdLines: [String] = []
        for number in households.sorted() {
            let reply = try await daemon.get("/v1/households/\(number)")
            if reply.status == 200 {
                householdLines.append(reply.text.trimmingCharacters(in: .newlines))
            } else {
                let missing: JSONValue = ["household_no": .string(number), "http_status": .integer(Int64(reply.status))]
                householdLines.append(missing.serializedString)
            }
        }
        return ScenarioOutcome(
            persons: GoldenText.array(persons), households: GoldenText.array(householdLines),
            deltas: deltaLines(receiver.deliveries, signers: signers).map { $0 + "\n" }.joined())
    }

    /// The distinct delivered delta bodies, sorted by subscription, uid (or household), version;
    /// each delivery checked against the contract's headers.
    private func deltaLines(_ deliveries: [WebhookRecorder.Delivery], signers: [String: WebhookSigner]) -> [String] {
        var bodies: [String: String] = [:]
        for delivery in deliveries {
            let body = String(decoding: delivery.body, as: UTF8.self)
            let json = delivery.json
            let subscription = String(delivery.target.split(separator: "/").last ?? "")
            #expect(json["delta_id"]?.stringValue == delivery.id, "\(fixture.name): webhook-id \(delivery.id) vs \(body)")
            #expect(json["subscription"]?.stringValue == subscription, "\(fixture.name): sent to \(delivery.target): \(body)")
            let timestamp = Int64(delivery.headers["webhook-timestamp"] ?? "") ?? 0
            #expect(
                abs(Double(timestamp) - delivery.receivedAt.timeIntervalSince1970) < 300,
                "\(fixture.name): webhook-timestamp \(timestamp) of \(delivery.id)")
            let signature = delivery.headers["webhook-signature"] ?? ""
            #expect(
                signers[subscription]?.verify(id: delivery.id, timestamp: timestamp, body: delivery.body, header: signature)
                    == true,
                "\(fixture.name): signature of \(delivery.id) does not verify: \(signature)")
            #expect(
                delivery.headers["content-type"]?.hasPrefix("application/json") == true,
                "\(fixture.name): content-type of \(delivery.id)")
            if let withheld = json["withheld"]?.stringArray {
                for field in withheld {
                    #expect(json.at("view", field) == nil, "\(fixture.name): \(delivery.id) withholds \(field) but shows it")
                    #expect(json.at("changes", field) == nil, "\(fixture.name): \(delivery.id) withholds \(field) but changes it")
                }
            }
            guard delivery.delivered else { continue }
            if let earlier = bodies[delivery.id] {
                #expect(earlier == body, "\(fixture.name): \(delivery.id) was sent with two bodies:\n\(earlier)\n\(body)")
            } else {
                bodies[delivery.id] = body
            }
        }
        func sortKey(_ body: String) -> (String, String, Int64) {
            let json = JSONValue.parse(bytes: body.bytes) ?? .null
            return (
                json["subscription"]?.stringValue ?? "", json["uid"]?.stringValue ?? json["household_no"]?.stringValue ?? "",
                json["version"]?.integerValue ?? 0
            )
        }
        return bodies.values.sorted { sortKey($0) < sortKey($1) }
    }

    // MARK: - Comparing

    /// Compares every golden; `rejectedText` is nil for a scenario without spool files.
    private func compareGoldens(replyText: String, rejectedText: String?, outcome: ScenarioOutcome) {
        report(
            "expected-replay.json", expected: fixture.golden("expected-replay.json"), actual: replyText,
            key: { $0["file"]?.stringValue ?? "?" })
        if let rejectedText {
            report(
                "expected-rejected.jsonl", expected: fixture.golden("expected-rejected.jsonl"), actual: rejectedText,
                key: { "\($0["file"]?.stringValue ?? "?"):\($0["line"]?.integerValue ?? 0)" })
        }
        report(
            "expected-persons.json", expected: fixture.golden("expected-persons.json"), actual: outcome.persons,
            key: { $0["uid"]?.stringValue ?? "?" })
        report(
            "expected-households.json", expected: fixture.golden("expected-households.json"),
            actual: outcome.households, key: { $0["household_no"]?.stringValue ?? "?" })
        report(
            "expected-deltas.jsonl", expected: fixture.golden("expected-deltas.jsonl"), actual: outcome.deltas,
            key: { $0["delta_id"]?.stringValue ?? "?" })
    }

    /// Records one issue listing every difference between a golden and what the daemon gave.
    func report(_ what: String, expected: String?, actual: String, key: (JSONValue) -> String) {
        guard let expected else {
            let message = "\(fixture.name): \(what) is missing: run ops/replay-scenario \(fixture.name) --update and review"
            Issue.record(Comment(rawValue: message))
            return
        }
        guard expected != actual else { return }
        let lines = GoldenText.diff(
            expected: GoldenText.elements(expected), actual: GoldenText.elements(actual), key: key)
        let message: String = "\(fixture.name): \(what) differs (\(lines.count) entries):\n" + lines.joined(separator: "\n")
        Issue.record(Comment(rawValue: message))
    }
}
