import RenkeiStore
/// One subscription's undelivered deltas, in memory: which delta of which uid goes next.
///
/// The outbox table stays the truth; this is an index over its `pending` and `dead` rows that the
/// lane keeps in step, so a lane turn costs no SQL. It holds no bodies (those are read by `seq`
/// only for the deltas being started), about 100 bytes per undelivered delta.
///
/// Rules it enforces, as the outbox query did before it:
/// - per uid, entries are kept in `seq` (log) order and only the head may be sent;
/// - a uid with a delta out (on the wire, or answered but not yet durably recorded) sends nothing
///   else, so a later version never overtakes an earlier one and a delivered delta is never read
///   back as pending;
/// - a dead head blocks its uid until an operator retries or skips it;
/// - a head waits until its `next_attempt_ms`;
/// - among ready uids, the lowest `seq` goes first (log order).
///
/// Every entry carries a generation, renewed whenever an operator puts it back in line (retry,
/// replay). An outcome for an older generation is then ignored: the operator's later write wins
/// in memory as it did on disk.
struct LaneQueue: Sendable {
    /// One outbox row as the queue needs it.
    typealias Row = Outbox.QueueRow

    /// A delta handed out to be sent.
    struct Taken: Sendable, Equatable {
        var seq: Int64
        var uid: String
        var generation: UInt64
    }

    /// How an attempt ended, once its outcome is durable (or could not be made so).
    enum Outcome: Sendable, Equatable {
        /// 2xx, recorded: the delta leaves the queue.
        case delivered
        /// Failed, recorded: try again at `nextAttemptMs`.
        case retry(attempts: Int, nextAttemptMs: Int64)
        /// Failed for good, recorded: the uid waits for an operator.
        case dead(attempts: Int)
        /// Not an attempt (shutdown), or its outcome could not be written: the row on disk is
        /// unchanged, so the same delta is tried again at `nextAttemptMs`.
        case unchanged(nextAttemptMs: Int64)
        /// The row was no longer pending when read to be sent (the queue was behind the outbox):
        /// it leaves the queue.
        case gone
    }

    private struct Entry: Sendable {
        var seq: Int64
        var attempts: Int
        var nextAttemptMs: Int64
        var isDead: Bool
        var generation: UInt64
    }

    /// A uid's entries, oldest first.
    private var queues: [String: [Entry]] = [:]
    /// uid → the seq it has out (sending or being recorded).
    private var out: [String: Int64] = [:]
    /// Heads that may go now, by seq (lazily cleaned: checked again when popped).
    private var ready = MinHeap<Int64, String>()
    /// Heads waiting for their retry time, by due time (lazily cleaned).
    private var waiting = MinHeap<Int64, String>()
    private var nextGeneration: UInt64 = 1
    /// Requests on the wire (what `max_in_flight` bounds).
    private(set) var sending = 0
    /// The highest seq read from the outbox so far: the next read asks only for rows after it.
    private(set) var lastSeq: Int64 = 0
    /// Undelivered entries held (pending and dead).
    private(set) var count = 0

    init() {}

    // MARK: - Feeding

    /// Adds rows read from the outbox (start-up, and new rows after ``lastSeq``), in any order.
    /// A row already held is left as it is: what the queue holds is never older than a read.
    mutating func load(_ rows: [Row], nowMs: Int64) {
        for row in rows {
            lastSeq = max(lastSeq, row.seq)
            if queues[row.uid]?.contains(where: { $0.seq == row.seq }) == true { continue }
            insert(row)
        }
        for uid in Set(rows.map(\.uid)) { schedule(uid, nowMs: nowMs) }
    }

    /// Puts rows an operator changed back in line (a retried dead letter, replayed deltas), with a
    /// new generation, replacing what the queue held for those seqs.
    mutating func requeue(_ rows: [Row], nowMs: Int64) {
        for row in rows {
            if let index = queues[row.uid]?.firstIndex(where: { $0.seq == row.seq }) {
                let renewed = entry(row)
                queues[row.uid]?[index] = renewed
            } else {
                insert(row)
            }
        }
        for uid in Set(rows.map(\.uid)) { schedule(uid, nowMs: nowMs) }
    }

    /// Drops a delta an operator skipped; the uid's next delta may then go.
    mutating func remove(seq: Int64, uid: String, nowMs: Int64) {
        guard let index = queues[uid]?.firstIndex(where: { $0.seq == seq }) else { return }
        removeEntry(uid: uid, at: index)
        schedule(uid, nowMs: nowMs)
    }

    // MARK: - Sending

    /// Hands out up to `limit` heads that may go now, lowest seq first, and marks their uids out.
    mutating func take(nowMs: Int64, limit: Int) -> [Taken] {
        while let (due, uid) = waiting.min, due <= nowMs {
            waiting.removeMin()
            if let head = sendableHead(uid), head.nextAttemptMs <= nowMs { ready.insert(head.seq, uid) }
        }
        var taken: [Taken] = []
        while taken.count < limit, let (seq, uid) = ready.min {
            ready.removeMin()
            guard let head = sendableHead(uid), head.seq == seq, head.nextAttemptMs <= nowMs else { continue }
            out[uid] = seq
            sending += 1
            taken.append(Taken(seq: seq, uid: uid, generation: head.generation))
        }
        return taken
    }

    /// The request of `taken` has its answer (or failed): its slot is free, though its uid stays
    /// out until ``finish(_:_:nowMs:)``.
    mutating func answered() {
        sending -= 1
    }

    /// The outcome of `taken` is durable (or was not written): the uid may send again.
    mutating func finish(_ taken: Taken, _ outcome: Outcome, nowMs: Int64) {
        if out[taken.uid] == taken.seq { out[taken.uid] = nil }
        if let index = queues[taken.uid]?.firstIndex(where: { $0.seq == taken.seq }),
            queues[taken.uid]?[index].generation == taken.generation
        {
            switch outcome {
            case .delivered, .gone:
                removeEntry(uid: taken.uid, at: index)
            case .retry(let attempts, let next):
                queues[taken.uid]?[index].attempts = attempts
                queues[taken.uid]?[index].nextAttemptMs = next
            case .dead(let attempts):
                queues[taken.uid]?[index].attempts = attempts
                queues[taken.uid]?[index].isDead = true
            case .unchanged(let next):
                queues[taken.uid]?[index].nextAttemptMs = next
            }
        }
        schedule(taken.uid, nowMs: nowMs)
    }

    /// When the earliest waiting retry is due, if any (may be early: then nothing is ready yet).
    var nextDueMs: Int64? { waiting.min?.0 }

    /// Whether nothing held can go without an operator: no delta out, none ready, no retry due
    /// later — every entry is a dead letter or waits behind one. Exact right after a ``take(nowMs:limit:)``
    /// that handed out fewer than its limit (the ready heap is then drained).
    var isBlocked: Bool { sending == 0 && out.isEmpty && ready.isEmpty && waiting.isEmpty && count > 0 }

    /// How many uids have a delta out (sending or being recorded).
    var outCount: Int { out.count }

    // MARK: - Internals

    private func sendableHead(_ uid: String) -> Entry? {
        guard out[uid] == nil, let head = queues[uid]?.first, !head.isDead else { return nil }
        return head
    }

    private mutating func schedule(_ uid: String, nowMs: Int64) {
        guard let head = sendableHead(uid) else { return }
        if head.nextAttemptMs <= nowMs {
            ready.insert(head.seq, uid)
        } else {
            waiting.insert(head.nextAttemptMs, uid)
        }
    }

    private mutating func entry(_ row: Row) -> Entry {
        defer { nextGeneration += 1 }
        return Entry(
            seq: row.seq, attempts: row.attempts, nextAttemptMs: row.nextAttemptMs, isDead: row.isDead,
            generation: nextGeneration)
    }

    private mutating func insert(_ row: Row) {
        let new = entry(row)
        var list = queues.removeValue(forKey: row.uid) ?? []
        // Almost always appended (rows arrive in seq order); a replayed row goes back in its place.
        if let last = list.last, last.seq > row.seq, let index = list.firstIndex(where: { $0.seq > row.seq }) {
            list.insert(new, at: index)
        } else {
            list.append(new)
        }
        queues[row.uid] = list
        count += 1
    }

    private mutating func removeEntry(uid: String, at index: Int) {
        queues[uid]?.remove(at: index)
        if queues[uid]?.isEmpty == true { queues[uid] = nil }
        count -= 1
    }
}

/// A binary min-heap of (key, value) pairs; equal keys come out in no particular order.
struct MinHeap<Key: Comparable & Sendable, Value: Sendable>: Sendable {
    private var items: [(Key, Value)] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    /// The pair with the smallest key.
    var min: (Key, Value)? { items.first }

    mutating func insert(_ key: Key, _ value: Value) {
        items.append((key, value))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].0 < items[parent].0 else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeMin() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, items[left].0 < items[smallest].0 { smallest = left }
            if right < items.count, items[right].0 < items[smallest].0 { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
