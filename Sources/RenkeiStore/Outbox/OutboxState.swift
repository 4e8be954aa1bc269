/// The state of one outbox row (one delta for one subscription), as the `outbox.state` column holds it.
///
/// The raw values are the stored text: never rename one. SQL takes a state through ``sql`` (a quoted
/// literal) or as a bound ``rawValue``, never a literal of its own, so this enum is the one place the
/// strings are written (the frozen text of migration 1, `DEFAULT 'pending'`, aside).
public enum OutboxState: String, Sendable, CaseIterable {
    /// Waiting to be sent (or to be sent again after a retryable failure).
    case pending
    /// Sent and acknowledged with 2xx; in the disclosure ledger.
    case delivered
    /// Dead-lettered: a failure that is not retried, or `max_attempts` reached. Holds back the
    /// later deltas of its uid until an operator retries or skips it.
    case dead
    /// Never sent: the policy at send time left nothing of it, or an operator skipped a dead letter.
    case skipped
    /// A shadow subscription's delta (issue 17): planned, filtered by the policy in force and recorded
    /// exactly as if sent, but never sent and never in the disclosure ledger. A switch to live leaves
    /// it so; `POST /v1/subscriptions/{name}/replay?from_lsn=N` sends it then.
    case shadowed

    /// The state as an SQL string literal (`'pending'`), for statements that name a fixed state.
    public var sql: String { "'\(rawValue)'" }
}
