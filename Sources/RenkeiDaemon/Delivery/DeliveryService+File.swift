import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem
import Synchronization

/// File subscriptions (issue 17): a lane whose deltas are written as records of files in a folder
/// instead of POSTed.
///
/// The lane takes deltas from its ``LaneQueue`` exactly as an HTTP lane does (per uid in version
/// order; a dead letter holds its uid's later deltas), applies the send-time policy
/// (``DeliveryRedaction``) when it writes the record, and appends the record to the file in
/// progress under a temporary name (`.<name>.deltas.tmp`). The file is cut after `cut_every_rows`
/// rows or `cut_every_s` seconds after its first row: synced, journalled (``FileCuts/begin``),
/// renamed to `<name>-<seq>.<ext>`, the folder synced, the done marker written; only then are its
/// deltas marked delivered and the ledger rows written with the file's name (``FileCuts/publish``).
///
/// A crash loses and doubles nothing: a temporary file was never delivered (it is deleted at the
/// next start and its deltas, still pending, are written again); a journalled file whose temporary
/// is gone was renamed, and is published at the next start.
extension DeliveryService {
    /// The file in progress of a file lane.
    private final class Batch {
        let file: AppendingFile
        var rows: [FileCuts.Row] = []
        var queueRows: [Outbox.QueueRow] = []
        let startedMs: Int64

        init(file: AppendingFile, startedMs: Int64) {
            self.file = file
            self.startedMs = startedMs
        }
    }

    /// The temporary name of a subscription's file in progress (`kind`: `deltas` or `export`).
    static func temporaryName(_ subscription: String, _ kind: FileCuts.Kind) -> String {
        ".\(subscription).\(kind.rawValue).tmp"
    }

    /// The published name of a subscription's file `seq`: `<name>-000042.csv`, an export
    /// `<name>-000042-full.csv`.
    static func fileName(_ subscription: String, seq: Int64, kind: FileCuts.Kind, target: Configuration.FileTarget) -> String {
        let number = String(seq)
        let padded = String(repeating: "0", count: max(0, 6 - number.count)) + number
        return "\(subscription)-\(padded)\(kind == .export ? "-full" : "").\(target.fileExtension)"
    }

    /// The done marker's name for a published file.
    static func markerName(_ file: String) -> String { file + ".done" }

    /// A file lane's loop: runs until its task is cancelled; a file in progress when it stops is
    /// dropped (its deltas stay pending and are written at the next start).
    func runFileLane(_ lane: Lane, target: Configuration.FileTarget) async {
        let encoder = FileRecordEncoder(target: target)
        var needsRecovery = true
        var batch: Batch?
        var lastReadMs: Int64 = 0
        var unread = false
        var retryCutAtMs: Int64 = 0
        var nextExportMs = target.exportEverySeconds.map { nowMs() + Int64($0 * 1000) }
        while !Task.isCancelled {
            let now = nowMs()
            lane.lastLoopMs.store(now, ordering: .relaxed)
            if needsRecovery {
                needsRecovery = !(await recoverFiles(lane, target: target, keepingDeltaTemporary: batch != nil))
            }
            let paused = lane.paused.load(ordering: .relaxed)
            if !paused, !needsRecovery, now >= retryCutAtMs,
                unread || lane.outboxGrew.exchange(false, ordering: .acquiringAndReleasing) || now - lastReadMs >= 1000
            {
                let (after, held) = lane.queue.withLock { ($0.lastSeq, $0.count) }
                let limit = max(queueWindow - held, 1)
                do {
                    let name = lane.name
                    let rows = try await store.read { db in try Outbox.queueRows(subscription: name, after: after, limit: limit, in: db) }
                    if !rows.isEmpty { lane.queue.withLock { $0.load(rows, nowMs: now) } }
                    unread = rows.count == limit
                } catch {
                    lane.outboxGrew.store(true, ordering: .relaxed)
                    logger.error("subscription \(lane.name): cannot read the outbox: \(error)")
                }
                lastReadMs = now
            }
            if !paused, !needsRecovery, now >= retryCutAtMs {
                // Fill the file in progress, head by head, until nothing is ready; cut each file that fills up.
                while !Task.isCancelled {
                    let room = target.cutEveryRows - (batch?.rows.count ?? 0)
                    if room > 0 {
                        let taken = lane.queue.withLock { $0.take(nowMs: nowMs(), limit: min(room, 1000)) }
                        if taken.isEmpty { break }
                        batch = await write(taken, lane: lane, encoder: encoder, into: batch)
                        continue
                    }
                    guard let full = batch else { break }
                    batch = nil
                    if await !cut(full, lane: lane, target: target) {
                        needsRecovery = true
                        retryCutAtMs = nowMs() + 5000
                        break
                    }
                }
            }
            // A file with rows is cut once it is cut_every_s old, full or not.
            if let current = batch, !current.rows.isEmpty, nowMs() - current.startedMs >= Int64(target.cutEverySeconds * 1000) {
                batch = nil
                if await !cut(current, lane: lane, target: target) {
                    needsRecovery = true
                    retryCutAtMs = nowMs() + 5000
                }
            }
            if let due = nextExportMs, nowMs() >= due, lane.subscription.mode != .shadow {
                nextExportMs = due + Int64((target.exportEverySeconds ?? 86_400) * 1000)
                do {
                    let result = try await exportFile(lane, target: target)
                    logger.notice("subscription \(lane.name): scheduled full export \(result.name) (\(result.rows) persons)")
                } catch {
                    logger.error("subscription \(lane.name): scheduled full export failed: \(error)")
                    lane.lastError.withLock { $0 = "export: \(error)" }
                }
            }
            var wait = Duration.seconds(1)
            if let current = batch, !current.rows.isEmpty {
                let dueMs = current.startedMs + Int64(target.cutEverySeconds * 1000) - nowMs()
                wait = min(wait, .milliseconds(max(5, dueMs)))
            }
            if unread { wait = .milliseconds(5) }
            await withTaskCancellationHandler {
                await lane.wakeup.wait(timeout: wait)
            } onCancel: {
                lane.wakeup.signal()
            }
        }
        // Stopping: a file in progress was never delivered; its temporary is deleted at the next start.
        if let batch {
            logger.info("subscription \(lane.name): stopping with \(batch.rows.count) row(s) in the file in progress; they stay pending and are written at the next start")
        }
    }

    /// Writes the taken deltas as records of the file in progress (opening one if needed); a delta
    /// the policy in force leaves nothing of is skipped; one that cannot be written is dead-lettered
    /// with the uid, column and field in its error.
    private func write(_ taken: [LaneQueue.Taken], lane: Lane, encoder: FileRecordEncoder, into batch: Batch?) async -> Batch? {
        let policy = lane.subscription.policy
        let seqs = taken.map(\.seq)
        typealias Read = (state: OutboxState?, pending: Outbox.Pending, prepared: Result<DeliveryRedaction.Prepared, any Error>)
        let rows: [Int64: Read]
        do {
            rows = try await store.read { db in
                var rows: [Int64: Read] = [:]
                for (state, pending, facts) in try Outbox.deltas(seqs: seqs, linkedTo: policy.linkedTo, in: db) where rows[pending.seq] == nil {
                    let prepared: Result<DeliveryRedaction.Prepared, any Error> =
                        state == .pending
                        ? Result { try DeliveryRedaction.prepare(pending, facts: facts, policy: policy, reader: db) }
                        : .success(.skip(reason: ""))
                    rows[pending.seq] = (state, pending, prepared)
                }
                return rows
            }
        } catch {
            logger.error("subscription \(lane.name): cannot read \(taken.count) delta(s) from the outbox: \(error)")
            let retryAt = nowMs() + Self.unrecordedRetryMs
            for item in taken { settle(item, .unchanged(nextAttemptMs: retryAt), lane: lane) }
            return batch
        }
        var batch = batch
        for item in taken {
            guard let (state, pending, checked) = rows[item.seq] else {
                settle(item, .gone, lane: lane)
                continue
            }
            guard state == .pending else {
                settle(item, state == .dead ? .dead(attempts: pending.attempts) : .gone, lane: lane)
                continue
            }
            let prepared: DeliveryRedaction.Prepared
            do {
                prepared = try checked.get()
            } catch {
                logger.error("subscription \(lane.name): cannot check the policy in force for \(pending.deltaID): \(error)")
                settle(item, .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
                continue
            }
            switch prepared {
            case .skip(let reason):
                let recorded = await recorder.record(.skipped(seq: pending.seq, reason: reason, at: fileStamp()))
                if recorded { logger.notice("subscription \(lane.name): \(pending.deltaID) skipped, not written: \(reason)") }
                settle(item, recorded ? .gone : .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
            case .send(let outgoing):
                let record: [UInt8]
                do {
                    // A shadow subscription never opens my_number (the sealed token is mapped instead).
                    let wire = lane.subscription.mode == .shadow ? outgoing.body : try vault.revealedForSend(outgoing.body, policy: policy)
                    do {
                        record = try encoder.record(wire)
                    } catch {
                        // Never a '?': the delta is dead-lettered with the person and field, and the
                        // uid's later deltas wait, as for an HTTP delta refused for good.
                        let message = "uid \(pending.uid): \(error.description)"
                        logger.error("subscription \(lane.name): \(pending.deltaID) cannot be written: \(message); dead-lettered, later deltas for this person wait — see `renkeictl dead-letters`")
                        lane.lastError.withLock { $0 = "\(pending.deltaID): \(message)" }
                        let recorded = await recorder.record(
                            .failed(seq: pending.seq, dead: true, status: nil, error: message, excerpt: nil, nextAttemptMs: nowMs(), at: fileStamp()))
                        settle(item, recorded ? .dead(attempts: pending.attempts + 1) : .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
                        continue
                    }
                } catch {
                    logger.error("subscription \(lane.name): cannot open my_number for \(pending.deltaID): \(error.message); not written, retried")
                    settle(item, .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
                    continue
                }
                // A shadow subscription (issue 17) goes as far as a live one — policy, mapping, encoding,
                // whose failures dead-letter as live — and writes nothing: the delta is recorded shadowed.
                if lane.subscription.mode == .shadow {
                    let recorded = await recorder.record(.shadowed(seq: pending.seq, at: fileStamp()))
                    settle(item, recorded ? .gone : .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
                    continue
                }
                do {
                    if batch == nil {
                        let target = lane.subscription.file!
                        let file = try AppendingFile(dir: target.directory, name: Self.temporaryName(lane.name, .deltas))
                        try file.append(try encoder.header())
                        batch = Batch(file: file, startedMs: nowMs())
                    }
                    try batch!.file.append(record)
                } catch {
                    // The folder cannot be written: nothing of this delta is on disk as delivered.
                    logger.error("subscription \(lane.name): cannot write to \(lane.subscription.file?.directory ?? ""): \(error); retried")
                    lane.lastError.withLock { $0 = "\(error)" }
                    settle(item, .unchanged(nextAttemptMs: nowMs() + 5000), lane: lane)
                    continue
                }
                batch!.rows.append(FileCuts.Row(
                    outboxSeq: pending.seq, uid: pending.uid, deltaID: pending.deltaID, fields: outgoing.fields, lsn: pending.lsn,
                    members: outgoing.members))
                batch!.queueRows.append(Outbox.QueueRow(
                    seq: pending.seq, uid: pending.uid, attempts: pending.attempts, nextAttemptMs: pending.nextAttemptMs, isDead: false))
                // In the file in progress: the queue lets the uid's next delta follow into the same
                // file; the outbox keeps it pending until the file is published.
                settle(item, .delivered, lane: lane)
            }
        }
        return batch
    }

    /// Gives back a taken delta with its outcome.
    private func settle(_ taken: LaneQueue.Taken, _ outcome: LaneQueue.Outcome, lane: Lane) {
        lane.queue.withLock { queue in
            queue.answered()
            queue.finish(taken, outcome, nowMs: nowMs())
        }
    }

    /// Publishes the file in progress: sync, journal, rename, sync the folder, done marker, then
    /// the deltas delivered with the file's name in the ledger.
    /// - Returns: false when it failed before the rename (its deltas are put back in the queue) or
    ///   after it (the next recovery publishes it).
    private func cut(_ batch: Batch, lane: Lane, target: Configuration.FileTarget) async -> Bool {
        let name = lane.name
        let temporary = batch.file.name
        let rows = batch.rows
        let at = fileStamp()
        let cut: FileCuts.Cut
        do {
            try batch.file.sync()
            cut = try await writer.perform { db in
                try FileCuts.begin(
                    subscription: name, temporary: temporary, kind: .deltas, rows: rows, at: at,
                    name: { Self.fileName(name, seq: $0, kind: .deltas, target: target) }, in: db)
            }
        } catch {
            logger.error("subscription \(name): cannot close the file in progress (\(rows.count) rows): \(error); its deltas are written again")
            lane.lastError.withLock { $0 = "\(error)" }
            try? DurableFile.remove(dir: target.directory, name: temporary)
            requeue(batch, lane: lane)
            return false
        }
        do {
            try DurableFile.publish(
                temporary: temporary, as: cut.name, dir: target.directory, marker: target.doneMarker ? Self.markerName(cut.name) : nil)
            try await writer.perform { db in
                try FileCuts.publish(subscription: name, fileSeq: cut.fileSeq, legalBasis: lane.subscription.policy.legalBasis, at: at, in: db)
            }
        } catch {
            logger.error("subscription \(name): file \(cut.name) not finished: \(error); finished at the next recovery")
            lane.lastError.withLock { $0 = "\(cut.name): \(error)" }
            // The recovery publishes it (renamed) or drops it (not renamed); either way the queue
            // takes its deltas back, and one the recovery records delivered is then found gone.
            requeue(batch, lane: lane)
            return false
        }
        logger.info("subscription \(name): wrote \(cut.name) (\(rows.count) rows, \(batch.file.size) bytes)")
        return true
    }

    /// Puts a file's deltas back in the lane's queue after its cut failed, due in 5 s.
    private func requeue(_ batch: Batch, lane: Lane) {
        let retryAt = nowMs() + 5000
        let rows = batch.queueRows.map { row -> Outbox.QueueRow in
            var row = row
            row.nextAttemptMs = retryAt
            return row
        }
        lane.queue.withLock { $0.requeue(rows, nowMs: nowMs()) }
    }

    /// Finishes what a crash (or a failed cut) left: a journalled file whose temporary is gone was
    /// renamed and is published (its done marker written if it is still there); one whose temporary
    /// is still there was never renamed and is dropped. A temporary nobody journalled is deleted.
    /// - Parameter keepingDeltaTemporary: leave the deltas temporary alone (a file is in progress).
    /// - Returns: whether everything was finished.
    func recoverFiles(_ lane: Lane, target: Configuration.FileTarget, keepingDeltaTemporary: Bool = false) async -> Bool {
        let name = lane.name
        do {
            let unfinished = try await store.read { db in try FileCuts.unfinished(subscription: name, in: db) }
            for cut in unfinished where !(cut.kind == .export && Self.isExporting(target, name)) {
                if DurableFile.exists(dir: target.directory, name: cut.temporary) {
                    try DurableFile.remove(dir: target.directory, name: cut.temporary)
                    try await writer.perform { db in try FileCuts.abandon(subscription: name, fileSeq: cut.fileSeq, in: db) }
                    logger.notice("subscription \(name): \(cut.name) was never renamed into place before the stop; its \(cut.rows) row(s) are written again")
                } else {
                    if target.doneMarker, DurableFile.exists(dir: target.directory, name: cut.name),
                        !DurableFile.exists(dir: target.directory, name: Self.markerName(cut.name))
                    {
                        try DurableFile.writeSynced([], dir: target.directory, name: Self.markerName(cut.name))
                    }
                    let at = fileStamp()
                    try await writer.perform { db in
                        try FileCuts.publish(subscription: name, fileSeq: cut.fileSeq, legalBasis: lane.subscription.policy.legalBasis, at: at, in: db)
                    }
                    logger.notice("subscription \(name): \(cut.name) was in place before the stop; its \(cut.rows) row(s) are recorded delivered")
                }
            }
            for kind in [FileCuts.Kind.deltas, .export]
            where !(kind == .deltas && keepingDeltaTemporary) && !(kind == .export && Self.isExporting(target, name)) {
                let temporary = Self.temporaryName(name, kind)
                if DurableFile.exists(dir: target.directory, name: temporary) {
                    try DurableFile.remove(dir: target.directory, name: temporary)
                    logger.notice("subscription \(name): dropped \(temporary), a file in progress at the last stop; its rows are written again")
                }
            }
            return true
        } catch {
            logger.error("subscription \(name): cannot finish the files left by the last stop in \(target.directory): \(error); tried again in 5 s")
            lane.lastError.withLock { $0 = "\(error)" }
            return false
        }
    }

    /// For a file subscription, `file` in its `/v1/status` entry: {`dir`, `last_file`, `last_file_at`}
    /// (the newest published file and when; null before the first).
    func addFileStatus(to object: inout JSONObject, lane: Lane, reader: Database) {
        guard let target = lane.subscription.file, var entry = object[lane.name]?.objectValue else { return }
        let last = try? FileCuts.lastPublished(subscription: lane.name, in: reader)
        entry["file"] = [
            "dir": .string(target.directory),
            "last_file": last.map { .string($0.name) } ?? .null,
            "last_file_at": last.map { .string($0.at) } ?? .null,
        ]
        object[lane.name] = .object(entry)
    }

    /// Now as RFC 3339 (`delivered_at`, the ledger's `time`).
    func fileStamp() -> String { Timestamp.rfc3339(wallClock.now()) }
}
