import RenkeiCore
import RenkeiSystem

/// Who may do what on the status socket (contract §7, "Who may do what"), decided on each request
/// from the caller's `SO_PEERCRED` uid and the groups the user database gives that uid now.
///
/// - Read-only requests (`GET`/`HEAD` without `reveal`: status, persons, households, reviews,
///   disclosures, access log, metrics, verify, …) need `status_socket_group` or the admin group.
/// - Everything else — every other method (links, review decisions, replay, rebuild, dead-letter
///   retry/skip, subscription pause/resume/replay, snapshots, linking estimate, backup, and any
///   endpoint added later) and any read carrying `reveal` — needs `status_socket_admin_group`.
///   Unknown requests fall on the deciding side, so a new mutating endpoint is closed by default.
/// - uid 0 and the daemon's own uid may do everything: both can read the database file anyway.
/// - With neither group configured, every caller who can open the socket may do everything, as
///   before the split (the daemon warns at start-up). With only `status_socket_group`, its members
///   may also decide; with only the admin group, reads are open to whoever can open the socket.
struct StatusAccess: Sendable {
    /// What a request needs.
    enum Role: Sendable, Equatable {
        /// Read-only commands.
        case viewer
        /// Deciding and changing commands.
        case admin
    }

    /// A configured group: its name (for messages) and ID.
    struct Group: Sendable, Equatable {
        var name: String
        var id: UInt32
    }

    /// The outcome for one request.
    enum Decision: Sendable, Equatable {
        case allow
        /// `403` with this message, naming the group needed.
        case deny(String)
    }

    /// `status_socket_group`, resolved.
    let viewers: Group?
    /// `status_socket_admin_group`, resolved.
    let admins: Group?
    /// The daemon's effective uid.
    let daemonUID: UInt32
    /// The groups a uid is in (``UserDatabase/groups(ofUser:)``; tests substitute it).
    let memberships: @Sendable (UInt32) throws(SystemError) -> Set<UInt32>

    /// Resolves the configured group names.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming a group that does not exist.
    init(configuration: Configuration) throws(RenkeiError) {
        func resolve(_ name: String?, key: String) throws(RenkeiError) -> Group? {
            guard let name else { return nil }
            do {
                return Group(name: name, id: try UserDatabase.groupID(named: name))
            } catch {
                throw RenkeiError(.invalidConfiguration, "\(key) \"\(name)\": \(error.message)")
            }
        }
        self.init(
            viewers: try resolve(configuration.statusSocketGroup, key: "status_socket_group"),
            admins: try resolve(configuration.statusSocketAdminGroup, key: "status_socket_admin_group"),
            daemonUID: UserDatabase.effectiveUserID,
            memberships: { uid throws(SystemError) in try UserDatabase.groups(ofUser: uid) })
    }

    init(
        viewers: Group?, admins: Group?, daemonUID: UInt32,
        memberships: @escaping @Sendable (UInt32) throws(SystemError) -> Set<UInt32>
    ) {
        self.viewers = viewers
        self.admins = admins
        self.daemonUID = daemonUID
        self.memberships = memberships
    }

    /// What `request` needs: only plain reads are for viewers.
    static func requiredRole(_ request: HTTPRequest) -> Role {
        guard request.method == "GET" || request.method == "HEAD" else { return .admin }
        // The decoded query, as the routes read it: `%72eveal=protected` is `reveal` too.
        return request.query["reveal"] == nil ? .viewer : .admin
    }

    /// A warning for the start-up log when the configuration leaves the roles unsplit; `nil` when split.
    var startupWarning: String? {
        switch (viewers, admins) {
        case (nil, nil):
            return "status_socket_group and status_socket_admin_group are not set: everyone who can open the status "
                + "socket may read every person and decide (links, replay, reveal, backup). Set both to split "
                + "operators from deciders (README: Who may do what)"
        case (let viewers?, nil):
            return "status_socket_admin_group is not set: every member of \(viewers.name) may also decide "
                + "(links, replay, reveal, backup). Set it to a smaller group (README: Who may do what)"
        case (nil, _?):
            return "status_socket_group is not set: read-only commands are open to whoever can open the status socket"
        default:
            return nil
        }
    }

    /// Decides one request.
    func decide(_ request: HTTPRequest) -> Decision {
        guard viewers != nil || admins != nil else { return .allow }
        let role = Self.requiredRole(request)
        let what = "\(request.method) \(request.path)\(role == .admin && request.query["reveal"] != nil ? " with reveal" : "")"
        guard let peer = request.peer else {
            return .deny("\(what): the caller's credentials (SO_PEERCRED) are unknown, so nothing is allowed")
        }
        if peer.uid == 0 || peer.uid == daemonUID { return .allow }
        var groups: Set<UInt32>
        do {
            groups = try memberships(peer.uid)
        } catch {
            return .deny("\(what): the groups of uid \(peer.uid) could not be looked up (\(error.message)); refused")
        }
        // The effective gid the caller connected with counts too, as it does for the socket file's permissions.
        groups.insert(peer.gid)
        let isAdmin = admins.map { groups.contains($0.id) } ?? false
        let isViewer = viewers.map { groups.contains($0.id) } ?? true
        switch role {
        case .viewer:
            if isViewer || isAdmin { return .allow }
            return .deny(
                "\(what) needs group \(viewers?.name ?? "") (status_socket_group); uid \(peer.uid) is not in it: "
                    + "ask an administrator to add you (usermod -aG \(viewers?.name ?? "") USER, then log in again)")
        case .admin:
            if let admins {
                if isAdmin { return .allow }
                return .deny(
                    "\(what) decides or changes something and needs group \(admins.name) (status_socket_admin_group); "
                        + "uid \(peer.uid) is not in it: ask an administrator (usermod -aG \(admins.name) USER)")
            }
            if isViewer { return .allow }
            return .deny("\(what) needs group \(viewers?.name ?? "") (status_socket_group); uid \(peer.uid) is not in it")
        }
    }
}
