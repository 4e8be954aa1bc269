import Synchronization

/// What a route learns that its access-log entry must hold (issue 13): the person uid the request
/// named or resolved to (a `?source=&subject=` look-up records the uid it found).
final class AuditNote: Sendable {
    private let state = Mutex<String?>(nil)

    /// The person uid the request resolved to, if any.
    var uid: String? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
