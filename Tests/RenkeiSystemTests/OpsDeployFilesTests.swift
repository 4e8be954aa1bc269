import Foundation
import Glibc
import Testing

/// Issue 13, least privilege in `Deploy/`: the shipped sysusers.d and tmpfiles.d files, applied by
/// systemd's own tools to a scratch root (`--root`), give each group what the runbooks say and no more.
@Suite struct OpsDeployFilesTests {
    static let deploy = OpsUnitFileTests.repoRoot.appendingPathComponent("Deploy")
    static let tools = ["/usr/bin/systemd-sysusers", "/usr/bin/systemd-tmpfiles"]
    static let available = geteuid() == 0 && tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    /// `/etc/group` of the scratch root: name → (gid, members).
    static func groups(in root: String) throws -> [String: (gid: UInt32, members: Set<String>)] {
        var result: [String: (UInt32, Set<String>)] = [:]
        for line in try String(contentsOfFile: root + "/etc/group", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let gid = UInt32(fields[2]) else { continue }
            result[fields[0]] = (gid, Set(fields[3].split(separator: ",").map(String.init)))
        }
        return result
    }

    static func owner(_ path: String) -> (uid: UInt32, gid: UInt32, mode: UInt32)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (info.st_uid, info.st_gid, UInt32(info.st_mode) & 0o7777)
    }

    @Test(.enabled(if: available, "needs root and systemd-sysusers/systemd-tmpfiles (apt-get install systemd)"))
    func groupsAndFoldersSplitTheRoles() throws {
        let root = NSTemporaryDirectory() + "renkei-deploy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sysusers = try OpsUnitFileTests.run(Self.tools[0], ["--root=\(root)", Self.deploy.path + "/sysusers.d/renkei.conf"])
        let tmpfiles = try OpsUnitFileTests.run(Self.tools[1], ["--root=\(root)", "--create", Self.deploy.path + "/tmpfiles.d/renkei.conf"])
        let groups = try Self.groups(in: root)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.deploy.appendingPathComponent("renkei.example.json")))
            as? [String: Any] ?? [:]
        let viewers = config["status_socket_group"] as? String ?? ""
        let admins = config["status_socket_admin_group"] as? String ?? ""
        #expect(!viewers.isEmpty && !admins.isEmpty && viewers != admins, "the example config must split the roles")

        // The daemon's own group holds nobody else; it may give the socket its group; the admin group starts empty.
        guard let daemon = groups["renkei"], let ops = groups[viewers], let adm = groups[admins] else {
            Issue.record("groups missing after sysusers:\n\(sysusers)\n\(groups.keys.sorted())")
            return
        }
        #expect(daemon.members.isEmpty, "group renkei must hold the daemon alone: \(daemon.members)")
        #expect(ops.members == ["renkei"], "\(viewers): \(ops.members)")
        #expect(adm.members.isEmpty, "\(admins): \(adm.members)")

        // One group per source for its spool folder: root:renkei-src-<source> 2770, the daemon a member.
        let sources = config["sources"] as? [String: [String: Any]] ?? [:]
        #expect(sources.count == 4)
        for (name, settings) in sources {
            let spool = root + (settings["spool"] as? String ?? "")
            guard let group = groups["renkei-src-\(name)"], let folder = Self.owner(spool) else {
                Issue.record("no group renkei-src-\(name) or folder \(spool):\n\(tmpfiles)")
                continue
            }
            #expect(group.members == ["renkei"], "renkei-src-\(name): \(group.members)")
            #expect(folder.uid == 0 && folder.gid == group.gid && folder.mode == 0o2770,
                    "\(spool): uid \(folder.uid) gid \(folder.gid) mode \(String(folder.mode, radix: 8))")
        }
        let spoolRoot = Self.owner(root + "/var/spool/renkei")
        #expect(spoolRoot?.uid == 0 && (spoolRoot?.mode ?? 0o777) & 0o022 == 0, "only root may make spool folders")

        // Secrets and tokens: root-owned, read by group renkei (the daemon alone), nobody else.
        for folder in ["/etc/renkei/secrets", "/etc/renkei/tokens"] {
            let info = Self.owner(root + folder)
            #expect(info?.uid == 0 && info?.gid == daemon.gid && info?.mode == 0o750, "\(folder): \(String(describing: info))")
        }

        // The unit: state for the daemon alone, and what it creates too.
        let unit = Set(try String(contentsOfFile: OpsUnitFileTests.unit, encoding: .utf8).split(separator: "\n").map(String.init))
        #expect(unit.contains("UMask=0077") && unit.contains("StateDirectoryMode=0700") && unit.contains("Group=renkei"))
    }
}
