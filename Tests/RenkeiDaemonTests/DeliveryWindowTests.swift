import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import Synchronization
import Testing

/// A lane holds at most a window of undelivered deltas in memory, read from the outbox in seq order
/// as room frees up; here the window is 4 deltas, so every rule is exercised across many reads.
@Suite("Delivery window", .serialized)
struct DeliveryWindowTests {
    static func uid(_ n: Int) -> String { String(format: "U%010d", n) }

    @Test func readsTakeTheLowestSeqsOfPendingAndDeadTogether() throws {
        try withDeliveryDatabase { db in
            for n in 1...10 {
                try db.prepare(
                    """
                    INSERT INTO outbox(subscription, uid, delta_id, kind, version, lsn, fields, created_ms, state)
                    VALUES (?, ?, ?, 'person.changed', 1, 1, 'uid', 0, ?)
                    """
                ).run([.text(n == 6 ? "other" : "s"), .text(Self.uid(n)), .text("d\(n)"), .text([2, 3, 7].contains(n) ? "dead" : n == 4 ? "delivered" : "pending")])
            }
            func seqs(after: Int64, limit: Int) throws -> [Int64] {
                try Outbox.queueRows(subscription: "s", after: after, limit: limit, in: db).map(\.seq)
            }
            #expect(try seqs(after: 0, limit: 3) == [1, 2, 3])
            #expect(try seqs(after: 3, limit: 3) == [5, 7, 8])
            #expect(try seqs(after: 8, limit: 3) == [9, 10])
            #expect(try Outbox.queueRows(subscription: "s", after: 0, limit: 3, in: db).map(\.isDead) == [false, true, true])
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func manyReadsKeepOrderAndTheChain() async throws {
        let receiver = try DeliveryReceiver { _, _, _ in .status(204) }
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(
            subscriptions: ["w": ["url": .string(receiver.url), "fields": ["uid", "name"], "max_in_flight": 3]],
            queueWindow: 4)
        var lines: [String] = []
        for n in 1...6 { lines.append(Events.registered("W-\(n)", subject: "S\(n)", name: "名\(n)", address: "住所", household: "H\(n)")) }
        for round in 1...3 {
            for n in 1...6 { lines.append(Events.renamed("W-\(n)-r\(round)", subject: "S\(n)", name: "名\(n)-r\(round)")) }
        }
        #expect(await fixture.ingest(lines) == 24)
        let done = await fixture.wait(.seconds(30)) { Set(receiver.delivered.map(\.id)).count == 24 }
        #expect(done, "delivered \(Set(receiver.delivered.map(\.id)).count) of 24")
        #expect(chainProblems(receiver.delivered).isEmpty, "\(chainProblems(receiver.delivered))")
        // The last outcomes are recorded just after the receiver answered: then the queue is empty.
        let drained = await fixture.wait(.seconds(60)) { fixture.service.delivery.lanes["w"]?.queue.withLock { $0.count } == 0 }
        #expect(drained)
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func deadLettersFillingTheWindowDoNotHoldUpOtherPersons() async throws {
        // The first four persons' deltas are refused (400: dead at once); they fill the window.
        let refused = Set((1...4).map(Self.uid))
        let receiver = try DeliveryReceiver { _, _, body in
            refused.contains(body["uid"]?.stringValue ?? "") ? .status(400, body: "no") : .status(204)
        }
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(
            subscriptions: ["w": ["url": .string(receiver.url), "fields": ["uid", "name"], "max_in_flight": 2]],
            queueWindow: 4)
        var lines: [String] = []
        for n in 1...9 { lines.append(Events.registered("D-\(n)", subject: "S\(n)", name: "名\(n)", address: "住所", household: "H\(n)")) }
        #expect(await fixture.ingest(lines) == 9)
        let flowed = await fixture.wait(.seconds(30)) {
            Set(receiver.delivered.map { $0.json["uid"]?.stringValue ?? "" }) == Set((5...9).map(Self.uid))
        }
        #expect(flowed, "delivered to \(Set(receiver.delivered.map { $0.json["uid"]?.stringValue ?? "" }).sorted())")
        let letters = await fixture.request("GET", "/v1/dead-letters?subscription=w").json["dead_letters"]?.arrayValue ?? []
        #expect(Set(letters.compactMap { $0["uid"]?.stringValue }) == refused)
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func aPausedLaneHoldsNothingInMemory() async throws {
        let receiver = try DeliveryReceiver { _, _, _ in .status(204) }
        defer { receiver.stop() }
        let fixture = try await DeliveryFixture(
            subscriptions: ["w": ["url": .string(receiver.url), "fields": ["uid", "name"]]], queueWindow: 4)
        #expect(await fixture.request("POST", "/v1/subscriptions/w/pause").status == 200)
        var lines: [String] = []
        for n in 1...10 { lines.append(Events.registered("P-\(n)", subject: "S\(n)", name: "名\(n)", address: "住所", household: "H\(n)")) }
        #expect(await fixture.ingest(lines) == 10)
        #expect(await fixture.wait { await fixture.counts("w")["backlog"]?.integerValue == 10 }, "the backlog is counted on disk")
        // The lane goes round at least once a second, paused or not, and a running lane reads new rows
        // at every turn: once a turn has begun and ended after the rows were in the outbox, a paused
        // lane has had its chance to read them. `lastLoopMs` is stamped as a turn begins.
        let lane = try #require(fixture.service.delivery.lanes["w"])
        let rowsIn = fixture.service.delivery.nowMs()
        #expect(await fixture.wait { lane.lastLoopMs.load(ordering: .relaxed) > rowsIn })
        let turnAfter = lane.lastLoopMs.load(ordering: .relaxed)
        #expect(await fixture.wait { lane.lastLoopMs.load(ordering: .relaxed) > turnAfter }, "the lane's turn did not end")
        #expect(lane.queue.withLock { $0.count } == 0)
        #expect(await fixture.request("POST", "/v1/subscriptions/w/resume").status == 200)
        let done = await fixture.wait(.seconds(30)) { Set(receiver.delivered.map(\.id)).count == 10 }
        #expect(done)
        await fixture.stop()
    }
}
