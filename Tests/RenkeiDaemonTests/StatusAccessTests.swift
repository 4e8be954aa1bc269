@testable import RenkeiDaemon
import RenkeiSystem
import Testing

/// Who may do what on the status socket (``StatusAccess``), with the group database replaced by a table.
/// The same rules run through the socket, as real users, in the integration tests' `AccessControlTests`.
@Suite struct StatusAccessTests {
    static let viewers = StatusAccess.Group(name: "renkei-ops", id: 2001)
    static let admins = StatusAccess.Group(name: "renkei-admin", id: 2002)
    /// uid 1001: operator; 1002: administrator (both groups); 1003: nobody of ours; 999: the daemon.
    static let table: [UInt32: Set<UInt32>] = [1001: [100, 2001], 1002: [100, 2001, 2002], 1003: [100]]

    static func access(viewers: StatusAccess.Group? = viewers, admins: StatusAccess.Group? = admins) -> StatusAccess {
        StatusAccess(viewers: viewers, admins: admins, daemonUID: 999) { uid throws(SystemError) in table[uid] ?? [] }
    }

    static func request(_ method: String, _ target: String, uid: UInt32?, gid: UInt32 = 100) -> HTTPRequest {
        HTTPRequest(method: method, target: target, peer: uid.map { PeerCredentials(uid: $0, gid: gid, pid: 1) })
    }

    static let reads = ["/v1/status", "/metrics", "/v1/persons/U0000000001", "/v1/households/H000501", "/v1/reviews",
                        "/v1/disclosures?uid=U0000000001", "/v1/access-log", "/v1/verify", "/v1/dead-letters",
                        // Issue 17: the 突合 lists are read-only commands.
                        "/v1/reconciliation", "/v1/reconciliation/duplicate_registration?after=F0000000000000000",
                        "/v1/reconciliation/duplicate_registration/F0123456789abcdef"]
    static let decisions: [(String, String)] = [
        ("POST", "/v1/replay"), ("POST", "/v1/rebuild"), ("POST", "/v1/links"), ("DELETE", "/v1/links"),
        ("POST", "/v1/reviews/RV0000000001/link"), ("POST", "/v1/reviews/RV0000000001/reject"),
        ("POST", "/v1/dead-letters/1/retry"), ("POST", "/v1/dead-letters/1/skip"),
        ("POST", "/v1/subscriptions/benefits/pause"), ("POST", "/v1/subscriptions/benefits/resume"),
        ("POST", "/v1/subscriptions/benefits/replay?from_lsn=1"), ("POST", "/v1/backup"),
        ("POST", "/v1/snapshots/S1/accept"), ("POST", "/v1/linking/estimate"), ("PUT", "/v1/anything-new"),
        ("POST", "/v1/reconciliation/duplicate_registration/F0123456789abcdef/explain"),
        ("GET", "/v1/persons/U0000000001?reveal=protected"), ("GET", "/v1/households/H000501?reveal=protected"),
        // The decoded query counts: a percent-encoded key is still `reveal`.
        ("GET", "/v1/persons/U0000000001?%72eveal=%70rotected"),
    ]

    @Test func operatorsReadOnly() {
        let access = Self.access()
        for target in Self.reads {
            #expect(access.decide(Self.request("GET", target, uid: 1001)) == .allow, "GET \(target)")
        }
        for (method, target) in Self.decisions {
            guard case .deny(let message) = access.decide(Self.request(method, target, uid: 1001)) else {
                Issue.record("\(method) \(target) was allowed to an operator")
                continue
            }
            #expect(message.contains("renkei-admin") && message.contains("status_socket_admin_group"), "\(message)")
        }
    }

    @Test func administratorsRootAndTheDaemonDoEverything() {
        let access = Self.access()
        for uid: UInt32 in [1002, 0, 999] {
            for (method, target) in Self.decisions + Self.reads.map({ ("GET", $0) }) {
                #expect(access.decide(Self.request(method, target, uid: uid)) == .allow, "uid \(uid): \(method) \(target)")
            }
        }
    }

    @Test func othersAreRefusedEvenReads() {
        let access = Self.access()
        guard case .deny(let message) = access.decide(Self.request("GET", "/v1/status", uid: 1003)) else {
            Issue.record("uid 1003 is in neither group but may read")
            return
        }
        #expect(message.contains("renkei-ops") && message.contains("status_socket_group"))
        // The gid the caller connected with counts, as it does for the socket file.
        #expect(access.decide(Self.request("GET", "/v1/status", uid: 1003, gid: 2001)) == .allow)
        #expect(access.decide(Self.request("POST", "/v1/replay", uid: 1003, gid: 2002)) == .allow)
        // Unknown credentials are refused; so is a caller whose groups cannot be looked up.
        #expect(access.decide(Self.request("GET", "/v1/status", uid: nil)) != .allow)
        let broken = StatusAccess(viewers: Self.viewers, admins: Self.admins, daemonUID: 999) { uid throws(SystemError) in
            throw SystemError(.other, operation: "getgrouplist", message: "NSS is down")
        }
        #expect(broken.decide(Self.request("GET", "/v1/status", uid: 1001)) != .allow)
    }

    @Test func unsplitConfigurationsBehaveAsBefore() {
        // No groups: everyone who can open the socket does everything (and start-up warns).
        let open = Self.access(viewers: nil, admins: nil)
        #expect(open.decide(Self.request("POST", "/v1/replay", uid: 1003)) == .allow)
        #expect(open.decide(Self.request("POST", "/v1/replay", uid: nil)) == .allow)
        #expect(open.startupWarning?.contains("status_socket_admin_group") == true)
        // Only the socket group: its members also decide (warned), others nothing.
        let viewersOnly = Self.access(admins: nil)
        #expect(viewersOnly.decide(Self.request("POST", "/v1/replay", uid: 1001)) == .allow)
        #expect(viewersOnly.decide(Self.request("POST", "/v1/replay", uid: 1003)) != .allow)
        #expect(viewersOnly.startupWarning?.contains("status_socket_admin_group is not set") == true)
        // Only the admin group: reads for whoever can open the socket, decisions for the admins.
        let adminsOnly = Self.access(viewers: nil)
        #expect(adminsOnly.decide(Self.request("GET", "/v1/status", uid: 1003)) == .allow)
        #expect(adminsOnly.decide(Self.request("POST", "/v1/replay", uid: 1001)) != .allow)
        #expect(adminsOnly.decide(Self.request("POST", "/v1/replay", uid: 1002)) == .allow)
        #expect(Self.access().startupWarning == nil)
    }

    @Test func backupNamesStayInBackupDir() {
        let folder = "/var/lib/renkei/backups"
        let taken: [(String?, String)] = [("a.db", "a.db"), ("\(folder)/b.db", "b.db"), ("\(folder)//c.db", "c.db")]
        for (requested, name) in taken {
            #expect(StatusRoutes.backupName(requested, folder: folder) == .success(name), "\(requested ?? "nil")")
        }
        guard case .success(let stamped) = StatusRoutes.backupName(nil, folder: folder) else {
            Issue.record("no name without a path")
            return
        }
        #expect(stamped.hasPrefix("renkei-") && stamped.hasSuffix(".db"))
        for requested in ["/tmp/x.db", "\(folder)/../x.db", "\(folder)/sub/x.db", "rel/x.db", "..", ".x.db", "", "\(folder)/"] {
            guard case .failure = StatusRoutes.backupName(requested, folder: folder) else {
                Issue.record("\(requested) was taken as a backup name")
                continue
            }
        }
    }
}
