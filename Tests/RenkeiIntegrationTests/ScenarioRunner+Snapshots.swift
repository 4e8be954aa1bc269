import Foundation
import RenkeiCore
import Testing

// MARK: - Snapshot sources (issue 16)

extension ScenarioRunner {
    /// A held snapshot run, as `GET /v1/snapshots` lists it.
    struct HeldRun {
        var source: String
        /// The file as named in the fixture.
        var file: String
        var id: Int64
        /// "rows/added/changed/removed".
        var counts: String
    }

    /// The held run of a file dropped as `name` (in held/): the file leaves the spool just before its
    /// run is recorded, so this waits (bounded) for the run; nil, with an issue, if none appears.
    func heldRun(_ daemon: DaemonHarness, source: String, file: String, droppedAs name: String) async throws -> HeldRun? {
        var run: JSONValue?
        let deadline = ContinuousClock.now + .seconds(60)
        while run == nil, ContinuousClock.now < deadline {
            let list = try await daemon.get("/v1/snapshots").json["snapshots"]?.arrayValue ?? []
            run = list.first { $0["file"]?.stringValue == name && $0["state"]?.stringValue == "held" }
            if run == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let run, let id = run["id"]?.integerValue else {
            Issue.record("\(fixture.name): \(source)/\(name) is in held/ but no held run names it")
            return nil
        }
        let counts = ["rows", "added", "changed", "removed"].map { String(run[$0]?.integerValue ?? -1) }
        return HeldRun(source: source, file: file, id: id, counts: counts.joined(separator: "/"))
    }

    /// `expected-snapshots.json`: every snapshot run, oldest first, without its id and times, each
    /// file named as in the fixture.
    func snapshotRuns(_ daemon: DaemonHarness) async throws -> String {
        let reply = try await daemon.get("/v1/snapshots")
        #expect(reply.status == 200, "\(fixture.name): GET /v1/snapshots: \(reply.status) \(reply.text)")
        let runs = (reply.json["snapshots"]?.arrayValue ?? []).reversed()
        return GoldenText.array(runs.map { run in
            var line = JSONObject()
            for key in ["source", "file", "digest", "rows", "added", "changed", "removed", "state", "reason"] {
                line[key] = run[key] ?? .null
            }
            return JSONValue.object(line).serializedString
        })
    }

    /// Discards held snapshot runs (`POST /v1/snapshots/{id}/discard`, as `renkeictl snapshot discard`
    /// does): nothing is applied, so the log stays at `head`.
    func discardHeld(_ daemon: DaemonHarness, _ runs: [HeldRun], head: Int64) async throws {
        guard !runs.isEmpty else { return }
        for run in runs {
            let reply = try await daemon.request("POST", "/v1/snapshots/\(run.id)/discard")
            #expect(reply.status == 200, "\(fixture.name): discard of held run \(run.id) (\(run.file)): \(reply.status) \(reply.text)")
            #expect(reply.json["state"]?.stringValue == "discarded", "\(fixture.name): \(reply.text)")
        }
        let after = try await waitIdle(daemon)
        #expect(after == head, "\(fixture.name): discarding a held snapshot moved head_lsn from \(head) to \(after)")
    }
}
