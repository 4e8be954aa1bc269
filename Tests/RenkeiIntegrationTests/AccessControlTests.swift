import Foundation
import Glibc
import RenkeiCore
import Testing

/// Issue 13, least privilege: who may do what on the status socket (contract §7), checked with
/// `SO_PEERCRED` on each request. `renkeictl` runs as real other users (made for the test, as the
/// runbook adds operators: `useradd` + supplementary groups), through `setpriv(1)`.
@Suite(.serialized) struct AccessControlTests {
    /// The built `renkeictl`, copied where the test users may run it.
    static func installClient(into daemon: DaemonHarness) throws -> String {
        let target = daemon.root.appendingPathComponent("renkeictl").path
        try FileManager.default.copyItem(atPath: TestPaths.binDir.appendingPathComponent("renkeictl").path, toPath: target)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.root.path)
        return target
    }

    @Test(.enabled(if: SystemAccounts.available, "needs root, useradd/groupadd and setpriv (util-linux)"))
    func operatorsReadAdminsDecide() async throws {
        let accounts = SystemAccounts()
        defer { accounts.remove() }
        let operators = try accounts.addGroup("ops")
        let admins = try accounts.addGroup("adm")
        // Supplementary memberships only (primary group nogroup): the daemon must read the group database.
        let viewer = try accounts.addUser("v", groups: [operators])
        let decider = try accounts.addUser("d", groups: [operators, admins])
        let stranger = try accounts.addUser("x", groups: [])

        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.updateConfig {
                $0["status_socket_group"] = .string(operators)
                $0["status_socket_admin_group"] = .string(admins)
            }
            try await daemon.start()
            let ctl = try Self.installClient(into: daemon)
            let socket = ["--socket", daemon.statusSocket]
            #expect(!daemon.stderrText().contains("are not set"), "no warning when both groups are set")

            // Root (the test) seeds a person; a replay file waits for the users.
            #expect(try await daemon.replay([residentRegistered(eventID: "AC-1", subject: "000300001")]).status == 200)
            let uid = try await daemon.get("/v1/persons?source=resident&subject=000300001").json["uid"]?.stringValue ?? ""
            #expect(uid.hasPrefix("U"))
            let replayFile = daemon.root.appendingPathComponent("forged.jsonl")
            try Data((residentRegistered(eventID: "AC-2", subject: "000300002") + "\n").utf8).write(to: replayFile)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: replayFile.path)

            // An operator reads…
            let status = try await SystemAccounts.runAs(viewer.name, ctl, socket + ["--json", "status"])
            #expect(status.status == 0, "status as an operator: \(status.stderr)")
            let person = try await SystemAccounts.runAs(viewer.name, ctl, socket + ["person", uid])
            #expect(person.status == 0, "person as an operator: \(person.stderr)")
            // …but may not forge registry events, nor reveal a protected address.
            let forged = try await SystemAccounts.runAs(viewer.name, ctl, socket + ["replay", replayFile.path])
            #expect(forged.status == 1)
            #expect(forged.stderr.contains("HTTP 403") && forged.stderr.contains(admins), "replay as an operator: \(forged.stderr)")
            let reveal = try await SystemAccounts.runAs(viewer.name, ctl, socket + ["person", uid, "--reveal-protected"])
            #expect(reveal.status == 1 && reveal.stderr.contains("HTTP 403"), "reveal as an operator: \(reveal.stderr)")
            let rebuild = try await SystemAccounts.runAs(viewer.name, ctl, socket + ["rebuild"])
            #expect(rebuild.status == 1 && rebuild.stderr.contains("HTTP 403"), "rebuild as an operator: \(rebuild.stderr)")
            #expect(try await daemon.get("/v1/persons?source=resident&subject=000300002").status == 404, "a refused replay logged nothing")

            // The refusals are in the access log, with the operator's uid.
            let entries = try await daemon.get("/v1/access-log?limit=50").json["entries"]?.arrayValue ?? []
            let refused = entries.filter { $0["caller_uid"]?.integerValue == Int64(viewer.uid) && $0["status"]?.integerValue == 403 }
            #expect(refused.contains { $0["method"] == "POST" && $0["target"] == "/v1/replay" }, "access log: \(entries)")
            #expect(refused.contains { $0["target"]?.stringValue?.contains("reveal=protected") == true })
            #expect(refused.contains { $0["target"] == "/v1/rebuild" })

            // An administrator (in both groups) decides: the replay is logged.
            let replayed = try await SystemAccounts.runAs(decider.name, ctl, socket + ["replay", replayFile.path])
            #expect(replayed.status == 0, "replay as an administrator: \(replayed.stderr)")
            #expect(try await daemon.get("/v1/persons?source=resident&subject=000300002").status == 200)
            let revealed = try await SystemAccounts.runAs(decider.name, ctl, socket + ["person", uid, "--reveal-protected"])
            #expect(revealed.status == 0, "reveal as an administrator: \(revealed.stderr)")

            // Someone who can open the socket (a group granted to the process only) but is not in
            // status_socket_group by the group database is refused even the reads.
            let outsider = try await SystemAccounts.runAs(stranger.name, processGroups: [operators], ctl, socket + ["status"])
            #expect(outsider.status == 1 && outsider.stderr.contains("HTTP 403") && outsider.stderr.contains(operators),
                    "status as a stranger: \(outsider.stderr)")
            // And without the group at all, the socket's mode keeps the stranger out (exit 3: permission denied).
            let shut = try await SystemAccounts.runAs(stranger.name, ctl, socket + ["status"])
            #expect(shut.status == 3, "status without the group: \(shut.status) \(shut.stderr)")
            #expect(try await daemon.stop() == 0)
        }
    }

    @Test func aGroupThatDoesNotExistStopsStartUp() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.updateConfig { $0["status_socket_admin_group"] = "renkei-no-such-group-7q" }
            do {
                try await daemon.start(timeout: .seconds(20))
                Issue.record("renkeid started with a status_socket_admin_group that does not exist")
            } catch {
                #expect("\(error)".contains("exited with 78"), "\(error)")
            }
            #expect(daemon.stderrText().contains("status_socket_admin_group \"renkei-no-such-group-7q\""), "\(daemon.stderrTail())")
        }
    }

    @Test func noGroupsConfiguredWarnsAtStartUp() async throws {
        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.start()
            #expect(try await daemon.waitUntil(timeout: .seconds(60)) {
                daemon.stderrText().contains("status_socket_group and status_socket_admin_group are not set")
            }, "no start-up warning: \(daemon.stderrTail())")
            #expect(try await daemon.stop() == 0)
        }
    }
}
