/// The projection's own counters, stored beside the records so a restart needs no replay.
public struct ProjectionMeta: Sendable, Hashable {
    /// The number the next allocated uid gets (1 for `U0000000001`).
    public var nextUID: Int64
    /// The lsn of the last applied event (0 before any).
    public var lsn: Int64
    /// The number the next review item gets (1 for `RV0000000001`).
    public var nextReview: Int64 = 1

    /// Creates meta; the defaults are those of an empty projection.
    public init(nextUID: Int64 = 1, lsn: Int64 = 0) {
        self.nextUID = nextUID
        self.lsn = lsn
    }
}
