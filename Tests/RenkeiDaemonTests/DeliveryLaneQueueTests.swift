@testable import RenkeiDaemon
import RenkeiStore
import Testing

/// The lane's in-memory queue on its own: per-uid order, one delta out per uid, dead letters
/// blocking, retry times, operator requeues winning over stale outcomes, and log order across uids.
@Suite("Delivery lane queue")
struct DeliveryLaneQueueTests {
    static func row(_ seq: Int64, _ uid: String, next: Int64 = 0, dead: Bool = false) -> LaneQueue.Row {
        LaneQueue.Row(seq: seq, uid: uid, attempts: 0, nextAttemptMs: next, isDead: dead)
    }

    @Test func oneDeltaPerUIDInSeqOrderAcrossUIDsInLogOrder() {
        var queue = LaneQueue()
        queue.load([Self.row(3, "B"), Self.row(1, "A"), Self.row(2, "A"), Self.row(4, "C")], nowMs: 100)
        let first = queue.take(nowMs: 100, limit: 10)
        #expect(first.map(\.seq) == [1, 3, 4], "heads only, lowest seq first")
        #expect(queue.sending == 3 && queue.count == 4 && queue.lastSeq == 4)
        #expect(queue.take(nowMs: 100, limit: 10).isEmpty, "A's second delta waits while its first is out")

        // The answer frees the slot, but A stays out until its outcome is durable.
        queue.answered()
        #expect(queue.sending == 2)
        #expect(queue.take(nowMs: 100, limit: 10).isEmpty)
        queue.finish(first[0], .delivered, nowMs: 100)
        #expect(queue.take(nowMs: 100, limit: 10).map(\.seq) == [2])
        #expect(queue.count == 3)
    }

    @Test func limitBoundsWhatIsTaken() {
        var queue = LaneQueue()
        queue.load((1...10).map { Self.row(Int64($0), "U\($0)") }, nowMs: 0)
        #expect(queue.take(nowMs: 0, limit: 4).map(\.seq) == [1, 2, 3, 4])
        #expect(queue.take(nowMs: 0, limit: 0).isEmpty)
        #expect(queue.take(nowMs: 0, limit: 100).map(\.seq) == [5, 6, 7, 8, 9, 10])
    }

    @Test func retryWaitsForItsTimeAndBlocksLaterVersions() {
        var queue = LaneQueue()
        queue.load([Self.row(1, "A"), Self.row(2, "A")], nowMs: 0)
        let taken = queue.take(nowMs: 0, limit: 8)
        queue.answered()
        queue.finish(taken[0], .retry(attempts: 1, nextAttemptMs: 500), nowMs: 10)
        #expect(queue.nextDueMs == 500)
        #expect(queue.take(nowMs: 499, limit: 8).isEmpty, "neither the retry nor the later version goes early")
        let again = queue.take(nowMs: 500, limit: 8)
        #expect(again.map(\.seq) == [1])
    }

    @Test func deadHeadBlocksUntilRetriedOrSkipped() {
        var queue = LaneQueue()
        queue.load([Self.row(1, "A"), Self.row(2, "A"), Self.row(3, "B", dead: true), Self.row(4, "B")], nowMs: 0)
        let taken = queue.take(nowMs: 0, limit: 8)
        #expect(taken.map(\.seq) == [1], "B's head is dead")
        queue.answered()
        queue.finish(taken[0], .dead(attempts: 4), nowMs: 0)
        #expect(queue.take(nowMs: 10_000, limit: 8).isEmpty)

        queue.requeue([Self.row(1, "A")], nowMs: 0)  // operator: retry
        queue.remove(seq: 3, uid: "B", nowMs: 0)  // operator: skip
        #expect(queue.take(nowMs: 0, limit: 8).map(\.seq) == [1, 4])
    }

    @Test func operatorRequeueWinsOverAnOlderOutcome() {
        var queue = LaneQueue()
        queue.load([Self.row(1, "A")], nowMs: 0)
        let taken = queue.take(nowMs: 0, limit: 8)
        queue.answered()
        // Delivered and recorded; a replay queues it again before the lane hears the outcome.
        queue.requeue([Self.row(1, "A")], nowMs: 0)
        queue.finish(taken[0], .delivered, nowMs: 0)
        #expect(queue.count == 1)
        let again = queue.take(nowMs: 0, limit: 8)
        #expect(again.map(\.seq) == [1] && again[0].generation != taken[0].generation)
    }

    @Test func replayedRowsGoBackAheadOfPendingOnes() {
        var queue = LaneQueue()
        queue.load([Self.row(5, "A")], nowMs: 0)
        queue.requeue([Self.row(2, "A"), Self.row(3, "A")], nowMs: 0)
        var order: [Int64] = []
        while let next = queue.take(nowMs: 0, limit: 1).first {
            order.append(next.seq)
            queue.answered()
            queue.finish(next, .delivered, nowMs: 0)
        }
        #expect(order == [2, 3, 5])
        #expect(queue.count == 0 && queue.sending == 0 && queue.outCount == 0)
    }

    @Test func loadKeepsWhatIsAlreadyHeld() {
        var queue = LaneQueue()
        queue.requeue([Self.row(1, "A")], nowMs: 0)
        // A read that started before the operator's write still shows the row dead.
        queue.load([Self.row(1, "A", dead: true), Self.row(2, "A")], nowMs: 0)
        #expect(queue.take(nowMs: 0, limit: 8).map(\.seq) == [1])
        #expect(queue.count == 2 && queue.lastSeq == 2)
    }

    @Test func unchangedAndGoneOutcomes() {
        var queue = LaneQueue()
        queue.load([Self.row(1, "A"), Self.row(2, "A"), Self.row(3, "B")], nowMs: 0)
        let taken = queue.take(nowMs: 0, limit: 8)
        queue.answered()
        queue.answered()
        queue.finish(taken[0], .unchanged(nextAttemptMs: 1000), nowMs: 0)
        queue.finish(taken[1], .gone, nowMs: 0)
        #expect(queue.take(nowMs: 999, limit: 8).isEmpty)
        #expect(queue.take(nowMs: 1000, limit: 8).map(\.seq) == [1])
        #expect(queue.count == 2)
    }

    @Test func heapOrdersAnyInput() {
        var heap = MinHeap<Int64, Int>()
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<500).map { _ in Int64.random(in: -1000...1000, using: &generator) }
        for (index, key) in keys.enumerated() { heap.insert(key, index) }
        var out: [Int64] = []
        while let (key, _) = heap.min {
            out.append(key)
            heap.removeMin()
        }
        #expect(out == keys.sorted())
    }
}
