/// What happened to one event handed to ``LogWriter/append(_:)`` (contract §1).
public enum AppendOutcome: Sendable, Hashable {
    /// Newly written at this log sequence number.
    case appended(lsn: Int64)
    /// The same `(source, event_id)` with byte-identical canonical content is already logged at `lsn`;
    /// nothing was written.
    case duplicate(lsn: Int64)
    /// The same `(source, event_id)` is already logged at `existingLSN` with different content;
    /// nothing was written or overwritten.
    case conflict(existingLSN: Int64)

    /// The log sequence number the outcome refers to.
    public var lsn: Int64 {
        switch self {
        case .appended(let lsn), .duplicate(let lsn), .conflict(let lsn): return lsn
        }
    }
}

/// The result of walking the whole hash chain with ``EventLog/verify(in:progress:)``.
public struct VerifyReport: Sendable, Hashable {
    /// Whether every event checked out.
    public var ok: Bool
    /// How many events were checked and found good (before the first bad one, if any).
    public var checked: Int64
    /// The first log sequence number found bad, if any.
    public var firstBadLSN: Int64?
    /// Why that event is bad ("hash mismatch", "lsn gap after N", "body is not valid JSON", …).
    public var error: String?

    /// Creates a report.
    public init(ok: Bool, checked: Int64, firstBadLSN: Int64? = nil, error: String? = nil) {
        self.ok = ok
        self.checked = checked
        self.firstBadLSN = firstBadLSN
        self.error = error
    }
}
