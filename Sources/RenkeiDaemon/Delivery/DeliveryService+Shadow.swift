import RenkeiStore
import RenkeiSystem
import Synchronization

// MARK: - Shadow subscriptions (issue 17)

extension DeliveryService {
    /// Records a shadow subscription's delta that the policy in force lets through as `shadowed`:
    /// planned, filtered and recorded exactly as a live one up to here, but never revealed
    /// (`my_number` stays sealed), signed or sent, and never in the disclosure ledger. As for a
    /// delivery, the uid's later deltas wait until the record is durable, so they are recorded in
    /// version order.
    func shadow(_ item: LaneQueue.Taken, _ pending: Outbox.Pending, lane: Lane, group: inout DiscardingTaskGroup) {
        lane.flightStarted()
        // Nothing goes on the wire: the slot is free at once.
        lane.queue.withLock { $0.answered() }
        group.addTask {
            let recorded = await self.recorder.record(.shadowed(seq: pending.seq, at: self.stamp()))
            if recorded { self.logger.debug("subscription \(lane.name): \(pending.deltaID) shadowed (mode shadow: not sent)") }
            let outcome: LaneQueue.Outcome = recorded ? .gone : .unchanged(nextAttemptMs: self.nowMs() + Self.unrecordedRetryMs)
            lane.queue.withLock { $0.finish(item, outcome, nowMs: self.nowMs()) }
            lane.flightEnded()
            lane.wakeup.signal()
        }
    }
}
