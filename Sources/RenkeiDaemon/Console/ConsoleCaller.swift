/// The console's staff member on whose behalf a shared route runs (issue 18).
///
/// The console carries out review decisions through the status socket's own code
/// (`StatusRoutes.reviews`), so a decision is checked and applied exactly as `renkeictl reviews`
/// does; this task-local value names the staff account for the operator event's provenance
/// (`{"via": "operator", "staff": NAME}`). It is set only by the console, never from a request.
enum ConsoleCaller {
    /// The staff account, while the console runs a decision; `nil` on the status socket.
    @TaskLocal static var staff: String?
}

/// A console role (contract §7 "Who may do what"): the socket's two roles, plus `reviewer`.
enum ConsoleRole: String, Sendable, CaseIterable {
    /// Reads: queue, search, person pages. As `status_socket_group`.
    case viewer
    /// Also decides reviews and links.
    case reviewer
    /// Also reveals a protected person's address (with a reason). As `status_socket_admin_group`.
    case admin

    /// Whether this role may decide reviews.
    var mayDecide: Bool { self != .viewer }
    /// Whether this role may reveal protected fields.
    var mayReveal: Bool { self == .admin }
    /// The role's name in Japanese.
    var label: String {
        switch self {
        case .viewer: return "閲覧"
        case .reviewer: return "審査"
        case .admin: return "管理"
        }
    }
}
