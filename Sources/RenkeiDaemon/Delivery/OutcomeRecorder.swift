import RenkeiStore
import RenkeiSystem
import Synchronization

/// What one delivery attempt came to, as the outbox records it.
enum DeliveryOutcome: Sendable {
    /// A 2xx: mark delivered and add a disclosure row listing what `outgoing` disclosed.
    case delivered(
        Outbox.Pending, subscription: String, legalBasis: String?, status: Int, at: String,
        outgoing: DeliveryRedaction.Outgoing)
    /// Anything else: count the attempt, keep the error, and either schedule a retry or dead-letter it.
    case failed(
        seq: Int64, dead: Bool, status: Int?, error: String, excerpt: String?, nextAttemptMs: Int64, at: String)
    /// Not sent: the policy in force at send time leaves nothing of it (issue 13); kept as `skipped`
    /// with the reason, never in the disclosure ledger.
    case skipped(seq: Int64, reason: String, at: String)
    /// A shadow subscription's delta the policy let through (issue 17): kept as `shadowed`, never
    /// sent, never in the disclosure ledger.
    case shadowed(seq: Int64, at: String)
}

/// Writes delivery outcomes in groups: one transaction (one fsync) for every outcome that arrived
/// while the previous group was being written, instead of one per delta.
///
/// A caller's `record` returns only once its outcome is durable (or the write failed), so the
/// lane keeps the uid in flight until then and never reads a delivered delta back as pending.
/// Group commit needs no timer: while one group is on the writer thread, the next one gathers.
final class OutcomeRecorder: Sendable {
    private struct State {
        var queue: [(DeliveryOutcome, CheckedContinuation<Bool, Never>)] = []
        var flushing = false
    }

    private let state = Mutex(State())
    private let writer: LogWriter
    private let logger: Logger
    /// How many groups were written (for the benchmark and tests).
    let flushCount = Atomic<Int>(0)

    init(writer: LogWriter, logger: Logger) {
        self.writer = writer
        self.logger = logger
    }

    /// Records `outcome` with whatever else is waiting.
    /// - Returns: whether it is durably recorded; on `false` the delta stays pending and is sent again.
    func record(_ outcome: DeliveryOutcome) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let startFlush = state.withLock { state -> Bool in
                state.queue.append((outcome, continuation))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if startFlush { Task { await self.flushLoop() } }
        }
    }

    private func flushLoop() async {
        while true {
            let group = state.withLock { state -> [(DeliveryOutcome, CheckedContinuation<Bool, Never>)] in
                defer { state.queue = [] }
                if state.queue.isEmpty { state.flushing = false }
                return state.queue
            }
            if group.isEmpty { return }
            let outcomes = group.map(\.0)
            var ok = true
            do {
                try await writer.perform { db in
                    try db.transaction {
                        for outcome in outcomes { try Self.apply(outcome, in: db) }
                    }
                }
                flushCount.add(1, ordering: .relaxed)
            } catch {
                ok = false
                logger.error("delivery: could not record \(outcomes.count) outcome(s): \(error); those deltas will be sent again")
            }
            for (_, continuation) in group { continuation.resume(returning: ok) }
        }
    }

    private static func apply(_ outcome: DeliveryOutcome, in db: Database) throws {
        switch outcome {
        case .delivered(let pending, let subscription, let legalBasis, let status, let at, let outgoing):
            try Outbox.markDelivered(
                pending, subscription: subscription, legalBasis: legalBasis, status: status, at: at,
                fields: outgoing.fields, members: outgoing.members, in: db)
        case .failed(let seq, let dead, let status, let error, let excerpt, let nextAttemptMs, let at):
            try Outbox.markFailed(
                seq: seq, dead: dead, status: status, error: error, excerpt: excerpt, nextAttemptMs: nextAttemptMs, at: at,
                in: db)
        case .skipped(let seq, let reason, let at):
            try Outbox.markSkipped(seq: seq, reason: reason, at: at, in: db)
        case .shadowed(let seq, let at):
            try Outbox.markShadowed(seq: seq, at: at, in: db)
        }
    }
}
