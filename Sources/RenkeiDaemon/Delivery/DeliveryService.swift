import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiHTTP
import RenkeiStore
import RenkeiSystem
import Synchronization

/// Pushes signed deltas to subscribers (contract §4).
///
/// Per subscription, one lane: deltas of one uid go strictly in `version` order (a later one waits
/// while an earlier one is out, retrying or dead-lettered); different uids flow in parallel up to
/// `max_in_flight` requests on the wire. 2xx: delivered and recorded in the disclosure ledger; 408,
/// 429, 5xx and transport errors: retried with exponential backoff and full jitter, honouring
/// `Retry-After`; other statuses or `max_attempts` reached: dead-lettered. At-least-once: a delta
/// is marked delivered only after its 2xx, durably.
///
/// Each lane keeps its undelivered deltas in an in-memory ``LaneQueue`` that mirrors the outbox: it
/// reads only rows added since its last read (when the projector announces new deltas), and
/// operator actions (retry, skip, replay) update it after their write commits. A turn therefore
/// runs no SQL except reading the bodies of the deltas it starts.
final class DeliveryService: Sendable {
    /// The default first-retry ceiling (`retry_base_s`); each further retry doubles it.
    static let baseBackoff: Double = 0.5
    /// The longest wait between attempts.
    static let maximumBackoff: Double = 300
    /// How long a delta whose outcome could not be written waits before it is sent again.
    static let unrecordedRetryMs: Int64 = 1000

    final class Lane: Sendable {
        let subscription: Configuration.Subscription
        let signer: WebhookSigner?
        let wakeup: Wakeup
        /// The undelivered deltas, in memory (see ``LaneQueue``).
        let queue = Mutex(LaneQueue())
        /// Set when the outbox may hold rows the queue has not read yet (new deltas, start-up).
        let outboxGrew = Atomic<Bool>(true)
        let paused: Atomic<Bool>
        let lastError = Mutex<String?>(nil)
        /// When the lane's loop last went round (ms since 1970; 0 before it starts). The loop turns
        /// at least once a second, paused or not, so a stale value means it is stuck: the watchdog
        /// then stops `WATCHDOG=1` and systemd restarts the daemon.
        let lastLoopMs = Atomic<Int64>(0)
        /// How many deltas of this lane are on the wire or being recorded (child tasks of the lane's service).
        let inFlight = Mutex<Int>(0)
        /// Idle when ``inFlight`` is 0: the lane's stop waits on it.
        let flights = IdleSignal()
        /// Cancels the lane's requests still on the wire when its stop deadline passes.
        let canceller: RequestCanceller

        init(
            subscription: Configuration.Subscription, signer: WebhookSigner?, paused: Bool, client: HTTPClient,
            clock: any Clock<Duration>
        ) {
            self.wakeup = Wakeup(clock: clock)
            self.subscription = subscription
            self.signer = signer
            self.paused = Atomic(paused)
            self.canceller = RequestCanceller(client: client)
        }

        func flightStarted() {
            inFlight.withLock { $0 += 1 }
            flights.set(idle: false)
        }

        func flightEnded() {
            let idle = inFlight.withLock { count -> Bool in
                count -= 1
                return count == 0
            }
            if idle { flights.set(idle: true) }
        }

        var name: String { subscription.policy.name }
    }

    let lanes: [String: Lane]
    let writer: LogWriter
    /// Where the lanes' outbox reads run (the store's threads, never the cooperative pool).
    let store: StoreExecutor
    let client: HTTPClient
    let logger: Logger
    let recorder: OutcomeRecorder
    /// Opens `my_number` tokens for entitled subscriptions, just before signing (``MyNumberVault``).
    let vault: MyNumberVault
    /// The last `at` text and its millisecond: formatting a date costs more than the rest of an
    /// outcome's bookkeeping, and at thousands of deltas a second many share a millisecond.
    private let lastStamp = Mutex<(ms: Int64, text: String)>((0, ""))
    /// Where timestamps come from (`last_attempt_at`, retry times, the webhook timestamp).
    let wallClock: WallClock

    /// - Throws: ``RenkeiError`` when a secret file cannot be read or parsed (named in the message).
    init(
        subscriptions: [Configuration.Subscription], paused: Set<String>, writer: LogWriter, store: StoreExecutor,
        client: HTTPClient, vault: MyNumberVault, logger: Logger, queueWindow: Int = DeliveryService.defaultQueueWindow,
        wallClock: WallClock = .system, clock: any Clock<Duration> = ContinuousClock()
    ) throws(RenkeiError) {
        self.vault = vault
        self.wallClock = wallClock
        self.queueWindow = queueWindow
        var lanes: [String: Lane] = [:]
        for subscription in subscriptions {
            var signer: WebhookSigner?
            if let file = subscription.secretFile {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw RenkeiError(
                        .invalidConfiguration,
                        "subscriptions.\(subscription.policy.name).secret_file: cannot read \(file) (does it exist, and may the renkei user read it?)")
                }
                do {
                    signer = try WebhookSigner(secretFileText: text, fileName: file)
                } catch {
                    throw RenkeiError(.invalidConfiguration, "subscriptions.\(subscription.policy.name).secret_file: \(error.message)")
                }
            }
            lanes[subscription.policy.name] = Lane(
                subscription: subscription, signer: signer, paused: paused.contains(subscription.policy.name), client: client, clock: clock)
        }
        self.lanes = lanes
        self.writer = writer
        self.store = store
        self.client = client
        self.logger = logger
        self.recorder = OutcomeRecorder(writer: writer, logger: logger)
    }

    /// Tells every lane that new deltas may be waiting in the outbox.
    func wake() {
        for lane in lanes.values {
            lane.outboxGrew.store(true, ordering: .releasing)
            lane.wakeup.signal()
        }
    }

    /// Puts rows an operator put back in line (retried dead letters, replayed deltas) into their
    /// lanes' queues. Call after the write has committed.
    func requeue(_ changed: [Outbox.Changed]) {
        let now = nowMs()
        for (name, rows) in Dictionary(grouping: changed, by: \.subscription) {
            guard let lane = lanes[name] else { continue }
            lane.queue.withLock { $0.requeue(rows.map(\.row), nowMs: now) }
            lane.wakeup.signal()
        }
    }

    /// Drops a skipped dead letter from its lane's queue, so the uid's later deltas flow. Call
    /// after the write has committed.
    func forget(_ changed: Outbox.Changed) {
        guard let lane = lanes[changed.subscription] else { return }
        lane.queue.withLock { $0.remove(seq: changed.row.seq, uid: changed.row.uid, nowMs: nowMs()) }
        lane.wakeup.signal()
    }

    func setPaused(_ paused: Bool, subscription: String) {
        lanes[subscription]?.paused.store(paused, ordering: .relaxed)
        lanes[subscription]?.wakeup.signal()
    }

    /// One lane's loop (``LaneService``): runs until its task is cancelled, sending each taken delta
    /// on a child task; then stops taking deltas and lets those in flight finish for up to `grace`
    /// (read when the stop begins), cancelling what is left.
    func runLane(_ lane: Lane, grace: @escaping @Sendable () -> Duration) async {
        await withDiscardingTaskGroup { group in
            await turn(lane, group: &group)
            if !(await lane.flights.wait(upTo: grace())) {
                lane.canceller.cancelAll()
            }
        }
    }

    private func turn(_ lane: Lane, group: inout DiscardingTaskGroup) async {
        var lastReadMs: Int64 = 0
        var blocked = false
        // The last read filled its limit: rows are known to be left in the outbox.
        var unread = false
        while !Task.isCancelled {
            let now = nowMs()
            lane.lastLoopMs.store(now, ordering: .relaxed)
            var wait = Duration.seconds(1)
            let paused = lane.paused.load(ordering: .relaxed)
            // New rows, while not paused: rows left unread, when the projector said so, and once a
            // second in case a wake-up was missed; at most up to the window (see ``defaultQueueWindow``).
            if !paused, unread || lane.outboxGrew.exchange(false, ordering: .acquiringAndReleasing) || now - lastReadMs >= 1000 {
                let (after, held) = lane.queue.withLock { ($0.lastSeq, $0.count) }
                let limit = blocked ? queueWindow : queueWindow - held
                // Refill in large reads: with rows left unread, wait until the window has drained
                // below half (a read per lane turn cost more than the sends it fed).
                if limit > 0, blocked || !unread || held <= queueWindow / 2 {
                    do {
                        let name = lane.name
                        let rows = try await store.read { db in
                            try Outbox.queueRows(subscription: name, after: after, limit: limit, in: db)
                        }
                        if !rows.isEmpty { lane.queue.withLock { $0.load(rows, nowMs: now) } }
                        unread = rows.count == limit
                    } catch {
                        lane.outboxGrew.store(true, ordering: .relaxed)
                        logger.error("subscription \(lane.name): cannot read the outbox: \(error)")
                    }
                }
                lastReadMs = now
            }
            if !paused {
                let maxInFlight = lane.subscription.maxInFlight
                let (taken, nextDue, isBlocked) = lane.queue.withLock { queue in
                    let taken = queue.take(nowMs: now, limit: maxInFlight - queue.sending)
                    return (taken, queue.nextDueMs, queue.isBlocked)
                }
                blocked = isBlocked
                if !taken.isEmpty { await start(taken, lane: lane, group: &group) }
                if let nextDue { wait = min(wait, .milliseconds(max(0, nextDue - now))) }
                // Blocked with rows left unread: go round again at once to read past the blocked ones.
                if blocked, unread { wait = .zero }
            }
            let timeout = max(wait, .milliseconds(5))
            await withTaskCancellationHandler {
                await lane.wakeup.wait(timeout: timeout)
            } onCancel: {
                lane.wakeup.signal()
            }
        }
    }

    /// How many undelivered deltas a lane holds in memory at most, by default (about 100 bytes each),
    /// read from the outbox in seq order as room frees up: a paused subscription, or one whose
    /// receiver has been down for days, can have millions waiting, and they stay on disk until
    /// their turn.
    ///
    /// The window only grows past this when every delta held waits for an operator (dead letters
    /// and the deltas of the same persons behind them): then more rows are read, so the other
    /// persons' deltas still flow.
    static let defaultQueueWindow = 10_000
    /// ``defaultQueueWindow`` unless a test asks for a small one.
    let queueWindow: Int

    /// One taken delta as read from the outbox: its state, the row, and (for a pending one) what the
    /// policy in force now makes of it.
    private typealias Read = (state: OutboxState?, pending: Outbox.Pending, prepared: Result<DeliveryRedaction.Prepared, any Error>)

    /// Reads the bodies of the taken deltas (one query) and applies the policy in force now to each
    /// (``DeliveryRedaction``), on a store thread; then sends each on its own task, or records it as skipped.
    private func start(_ taken: [LaneQueue.Taken], lane: Lane, group: inout DiscardingTaskGroup) async {
        let policy = lane.subscription.policy
        let seqs = taken.map(\.seq)
        let rows: [Int64: Read]
        do {
            rows = try await store.read { db in
                var rows: [Int64: Read] = [:]
                for (state, pending, facts) in try Outbox.deltas(seqs: seqs, linkedTo: policy.linkedTo, in: db)
                where rows[pending.seq] == nil {
                    // Only a pending delta is prepared; the checks read the people's views now.
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
            for item in taken { release(item, .unchanged(nextAttemptMs: retryAt), lane: lane) }
            return
        }
        for item in taken {
            guard let (state, pending, checked) = rows[item.seq] else {
                release(item, .gone, lane: lane)
                continue
            }
            guard state == .pending else {
                // Cannot happen while operator actions update the queue; never send it, and never let
                // a dead head be forgotten (it must keep blocking its uid).
                release(item, state == .dead ? .dead(attempts: pending.attempts) : .gone, lane: lane)
                continue
            }
            let prepared: DeliveryRedaction.Prepared
            do {
                prepared = try checked.get()
            } catch {
                logger.error("subscription \(lane.name): cannot check the policy in force for \(pending.deltaID): \(error)")
                release(item, .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
                continue
            }
            // Issue 17: a shadow subscription's delta has gone exactly as far as a live one's; it stops here.
            if lane.subscription.mode == .shadow, case .send = prepared {
                shadow(item, pending, lane: lane, group: &group)
                continue
            }
            // At-rest step, separate from the policy checks above: the bytes that leave get the plain
            // my_number only when this subscription is entitled to it now; the outbox keeps the token.
            var wire: [UInt8] = []
            if case .send(let outgoing) = prepared {
                do {
                    wire = try vault.revealedForSend(outgoing.body, policy: policy)
                } catch {
                    logger.error("subscription \(lane.name): cannot open my_number for \(pending.deltaID): \(error.message); not sent, retried")
                    release(item, .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs), lane: lane)
                    continue
                }
            }
            lane.flightStarted()
            switch prepared {
            case .send(let outgoing):
                group.addTask {
                    let outcome = await self.attempt(pending, outgoing, wire: wire, lane: lane)
                    lane.queue.withLock { $0.finish(item, outcome, nowMs: self.nowMs()) }
                    lane.flightEnded()
                    lane.wakeup.signal()
                }
            case .skip(let reason):
                // Nothing goes on the wire: the slot is free at once; the uid's later deltas wait
                // until the skip is durable, as they would for a delivery.
                lane.queue.withLock { $0.answered() }
                group.addTask {
                    let recorded = await self.recorder.record(.skipped(seq: pending.seq, reason: reason, at: self.stamp()))
                    if recorded {
                        self.logger.notice("subscription \(lane.name): \(pending.deltaID) skipped, not sent: \(reason)")
                    }
                    let outcome: LaneQueue.Outcome = recorded ? .gone : .unchanged(nextAttemptMs: self.nowMs() + Self.unrecordedRetryMs)
                    lane.queue.withLock { $0.finish(item, outcome, nowMs: self.nowMs()) }
                    lane.flightEnded()
                    lane.wakeup.signal()
                }
            }
        }
    }

    /// Gives back a taken delta that was not sent.
    private func release(_ taken: LaneQueue.Taken, _ outcome: LaneQueue.Outcome, lane: Lane) {
        lane.queue.withLock { queue in
            queue.answered()
            queue.finish(taken, outcome, nowMs: nowMs())
        }
    }

    func nowMs() -> Int64 { wallClock.nowMs() }

    /// Now as RFC 3339 with milliseconds (`last_attempt_at`, `delivered_at`, the ledger's `time`).
    func stamp() -> String {
        let now = wallClock.now()
        let ms = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        if let cached = lastStamp.withLock({ $0.ms == ms ? $0.text : nil }) { return cached }
        let text = Timestamp.rfc3339(now)
        lastStamp.withLock { $0 = (ms, text) }
        return text
    }

    /// Sends one delta and records what came of it; frees the lane's slot as soon as the answer is in.
    /// - Parameter wire: the bytes signed and sent: `outgoing.body` with `my_number` opened for an
    ///   entitled subscription (``MyNumberVault/revealedForSend(_:policy:)``).
    private func attempt(
        _ pending: Outbox.Pending, _ outgoing: DeliveryRedaction.Outgoing, wire: [UInt8], lane: Lane
    ) async -> LaneQueue.Outcome {
        let body = wire
        let subscription = lane.subscription
        let timestamp = Int64(wallClock.now().timeIntervalSince1970)
        var headers = OutboundHeaders()
        headers.append(name: "Content-Type", value: "application/json")
        headers.append(name: "webhook-id", value: pending.deltaID)
        headers.append(name: "webhook-timestamp", value: String(timestamp))
        if let signer = lane.signer {
            headers.append(name: "webhook-signature", value: signer.signature(id: pending.deltaID, timestamp: timestamp, body: body))
        }
        for (name, value) in subscription.headers.sorted(by: { $0.key < $1.key }) { headers.append(name: name, value: value) }
        let timeout = Duration.milliseconds(Int64(subscription.timeoutSeconds * 1000))
        let request = OutboundRequest(
            url: subscription.url, method: "POST", headers: headers, body: body, timeout: timeout,
            connectTimeout: min(timeout, Duration.milliseconds(Int64(subscription.connectTimeoutSeconds * 1000))),
            tls: TLSOptions(
                caFile: subscription.tls.caFile, clientCertificate: subscription.tls.clientCertificate,
                clientKey: subscription.tls.clientKey))
        // Not stopped by the lane's cancellation: a delivery in flight finishes up to the stop deadline.
        let result = await client.send(request, cancelledBy: lane.canceller)
        // The request is over: its slot may carry another uid while this outcome is written.
        lane.queue.withLock { $0.answered() }
        lane.wakeup.signal()
        let at = stamp()
        let attempts = pending.attempts + 1
        var status: Int?
        var error: String
        var excerpt: String?
        var retryable: Bool
        var retryAfter: Duration?
        switch result {
        case .success(let response) where (200..<300).contains(response.status):
            let recorded = await recorder.record(
                .delivered(
                    pending, subscription: subscription.policy.name, legalBasis: subscription.policy.legalBasis,
                    status: response.status, at: at, outgoing: outgoing))
            guard recorded else { return .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs) }
            logger.debug("subscription \(lane.name): delivered \(pending.deltaID) (\(response.status))")
            return .delivered
        case .success(let response):
            status = response.status
            error = "HTTP \(response.status)"
            // Issue 13: a receiver may echo a 個人番号 back; it is masked before it is stored or shown.
            excerpt = PersonalNumberScrubber.scrub(String(decoding: response.body.prefix(512), as: UTF8.self))
            retryable = Self.isRetryable(status: response.status)
            retryAfter = RetryAfter.delay(header: response.headers["Retry-After"], now: wallClock.now())
        case .failure(let failure) where failure.kind == TransportFailure.Kind.cancelled:
            // Shutting down: not an attempt; the delta stays pending for the next start.
            return .unchanged(nextAttemptMs: pending.nextAttemptMs)
        case .failure(let failure):
            error = PersonalNumberScrubber.scrub(failure.description)
            retryable = failure.kind != TransportFailure.Kind.invalidRequest
        }
        let dead = !retryable || attempts >= subscription.maxAttempts
        let delay = Self.backoff(attempts: attempts, base: subscription.retryBaseSeconds, retryAfter: retryAfter)
        let next = nowMs() + Int64(delay * 1000)
        lane.lastError.withLock { $0 = "\(pending.deltaID): \(error)" }
        if dead {
            logger.error("subscription \(lane.name): \(pending.deltaID) dead-lettered after \(attempts) attempt(s): \(error); later deltas for this person wait — see `renkeictl dead-letters`")
        } else {
            logger.warning("subscription \(lane.name): \(pending.deltaID) attempt \(attempts) failed: \(error); retrying in \(String(format: "%.1f", delay)) s")
        }
        let recorded = await recorder.record(
            .failed(
                seq: pending.seq, dead: dead, status: status, error: error, excerpt: excerpt, nextAttemptMs: next, at: at))
        guard recorded else { return .unchanged(nextAttemptMs: nowMs() + Self.unrecordedRetryMs) }
        return dead ? .dead(attempts: attempts) : .retry(attempts: attempts, nextAttemptMs: next)
    }

    /// Contract §4: 408, 429 and 5xx are retried; any other non-2xx status is dead-lettered at once.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500..<600).contains(status)
    }

    /// Full jitter: uniform in [0, min(max, base·2^(attempts−1))]; a `Retry-After` (capped at an hour)
    /// is a floor.
    static func backoff(attempts: Int, base: Double = baseBackoff, retryAfter: Duration?) -> Double {
        let ceiling = min(maximumBackoff, base * pow(2, Double(min(attempts, 30) - 1)))
        var delay = Double.random(in: 0...ceiling)
        if let retryAfter {
            let seconds = Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18
            delay = max(delay, min(seconds, 3600))
        }
        return delay
    }

    /// The `subscriptions` object of `/v1/status`.
    func statusJSON(reader: Database) -> JSONValue {
        var object = JSONObject()
        let now = nowMs()
        for name in lanes.keys.sorted() {
            guard let lane = lanes[name] else { continue }
            let counts = (try? Outbox.counts(subscription: name, in: reader)) ?? .init()
            object[name] = [
                "state": .string(lane.paused.load(ordering: .relaxed) ? "paused" : "running"),
                "backlog": .integer(counts.backlog),
                "in_flight": .integer(Int64(lane.queue.withLock { $0.sending })),
                "dead_letters": .integer(counts.dead),
                "delivered": .integer(counts.delivered),
                "skipped": .integer(counts.skipped),
                "mode": .string(lane.subscription.mode.rawValue),
                "shadowed": .integer(counts.shadowed),
                "last_error": (lane.lastError.withLock { $0 } ?? counts.lastError).map { .string($0) } ?? .null,
                "oldest_undelivered_s": counts.oldestUndeliveredMs.map { .double(Double(max(0, now - $0)) / 1000) } ?? .null,
            ]
        }
        return .object(object)
    }
}

/// One subscription's delivery lane as a service: its loop, and its deliveries in flight as child
/// tasks. Cancelled, it takes no new delta and lets those in flight finish until the stop deadline.
struct LaneService: Service {
    let delivery: DeliveryService
    let lane: DeliveryService.Lane
    /// How long deliveries in flight may still take once cancelled (set when the stop begins).
    let grace: @Sendable () -> Duration

    var name: String { "delivery lane \(lane.name)" }

    /// Where every lane's loop and sends run: a dispatch executor of their own, not the cooperative
    /// pool (two threads on a two-core server), so a retry that is due is taken when it is due even
    /// while other work holds the pool — as the status and push servers' handlers do.
    static let executor = DispatchTaskExecutor(label: "renkei-delivery")

    func run() async {
        await withTaskExecutorPreference(Self.executor) {
            await delivery.runLane(lane, grace: grace)
        }
    }
}
