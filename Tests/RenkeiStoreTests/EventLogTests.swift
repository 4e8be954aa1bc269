import Foundation
import RenkeiCore
import Testing
@testable import RenkeiStore

@Suite struct EventLogTests {
    @Test func appendAndReadKeepExactCodePoints() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath, clock: fixedClock)
        let names = ["髙橋", "\u{FA11}田", "葛\u{E0100}西", "渡邊\u{E0101}"]
        let events = names.enumerated().map { makeEvent(id: "E\($0.offset)", name: $0.element) }
        #expect(try await writer.append(events) == [.appended(lsn: 1), .appended(lsn: 2), .appended(lsn: 3), .appended(lsn: 4)])
        let read = try await writer.perform { db in try EventLog.read(in: db, after: 0, limit: 100) }
        #expect(read.map(\.lsn) == [1, 2, 3, 4])
        for (logged, name) in zip(read, names) {
            let stored = logged.event.data["name"]?.stringValue ?? ""
            #expect(Array(stored.unicodeScalars) == Array(name.unicodeScalars))
            #expect(logged.recordedAt == "2026-03-31T23:33:20.123Z")
            #expect(logged.hash.count == 64)
        }
        #expect(read[0].event.contentBytes == events[0].contentBytes)
        #expect(try await writer.perform { db in try EventLog.read(in: db, after: 2, limit: 1) }.map(\.lsn) == [3])
        await writer.close()
    }

    @Test func lsnsAreGapFreeAcrossBatchesAndHashesChain() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath, clock: fixedClock)
        _ = try await writer.append((0..<3).map { makeEvent(id: "a\($0)") })
        _ = try await writer.append([makeEvent(id: "a1"), makeEvent(id: "b0")])  // a duplicate takes no lsn
        _ = try await writer.append((0..<2).map { makeEvent(id: "c\($0)") })
        let read = try await writer.perform { db in try EventLog.read(in: db, after: 0, limit: 100) }
        #expect(read.map(\.lsn) == Array(1...6))
        // The chain of contract §1, recomputed independently of the store's code path.
        var previous = [UInt8](repeating: 0, count: 32)
        for logged in read {
            var record = logged.event.envelope
            record["lsn"] = .integer(logged.lsn)
            record["recorded_at"] = .string(logged.recordedAt)
            let hash = LogChain.hash(previous: previous, record: JSONValue.object(record).canonicalBytes)
            #expect(hash.map { String(format: "%02x", $0) }.joined() == logged.hash)
            previous = hash
        }
        let head = try await writer.perform { db in try EventLog.head(in: db) }
        #expect(head.lsn == 6 && head.hash == previous)
        await writer.close()
    }

    @Test func emptyLogHeadIsZero() throws {
        let dir = TemporaryDirectory()
        let db = try Database(path: dir.databasePath)
        try StateSchema.migrate(db)
        let head = try EventLog.head(in: db)
        #expect(head.lsn == 0 && head.hash == [UInt8](repeating: 0, count: 32))
        #expect(try EventLog.verify(in: db) == VerifyReport(ok: true, checked: 0))
    }

    @Test func duplicateVersusConflict() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        // U+FA10 塚 is a CJK compatibility ideograph that NFC maps to U+585A 塚: Swift's String == calls
        // them equal, the log must not.
        let compatibility = "\u{FA10}本", unified = "\u{585A}本"
        #expect(compatibility == unified)
        let outcomes = try await writer.append([
            makeEvent(id: "x1", name: compatibility),
            makeEvent(id: "x1", name: compatibility, reversedKeys: true),  // same content, other key order
            makeEvent(id: "x1", name: unified),  // canonically equivalent, different bytes
            makeEvent(source: "library", id: "x1", name: unified),  // another source's own x1
        ])
        #expect(outcomes == [.appended(lsn: 1), .duplicate(lsn: 1), .conflict(existingLSN: 1), .appended(lsn: 2)])
        let later = try await writer.append([
            makeEvent(id: "x1", name: unified), makeEvent(id: "x1", name: compatibility), makeEvent(id: "x2"),
        ])
        #expect(later == [.conflict(existingLSN: 1), .duplicate(lsn: 1), .appended(lsn: 3)])
        let read = try await writer.perform { db in try EventLog.read(in: db, after: 0, limit: 10) }
        #expect(Array(read[0].event.data["name"]!.stringValue!.unicodeScalars) == Array(compatibility.unicodeScalars))
        await writer.close()
    }

    @Test func verifyPassesOnAGoodLogAndReportsProgress() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        for batch in 0..<5 { _ = try await writer.append((0..<5_000).map { makeEvent(id: "v\(batch)-\($0)") }) }
        let (report, progress) = try await writer.perform { db in
            var seen: [Int64] = []
            let report = try EventLog.verify(in: db) { seen.append($0) }
            return (report, seen)
        }
        #expect(report == VerifyReport(ok: true, checked: 25_000))
        #expect(progress == [10_000, 20_000, 25_000])
        await writer.close()
    }

    @Test func appendOnlyTriggersRefuseUpdates() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        _ = try await writer.append([makeEvent(id: "t1")])
        await writer.close()
        let db = try Database(path: dir.databasePath)
        #expect(throws: StoreError.self) { try db.execute("UPDATE events SET subject = 'x'") }
        #expect(throws: StoreError.self) { try db.execute("DELETE FROM events") }
    }

    /// Writes three events, closes the writer, then lets `tamper` change the file through a second
    /// connection (with the append-only triggers dropped, as an attacker with file access could).
    func tamperedReport(_ tamper: (Database) throws -> Void) async throws -> VerifyReport {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath)
        _ = try await writer.append((1...4).map { makeEvent(id: "t\($0)") })
        await writer.close()
        let raw = try Database(path: dir.databasePath)
        try raw.execute("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete")
        try tamper(raw)
        let reader = try Database(path: dir.databasePath, readOnly: true)
        return try EventLog.verify(in: reader)
    }

    @Test func verifyNamesATamperedBody() async throws {
        let report = try await tamperedReport { db in
            let forged = makeEvent(id: "t2", name: "高橋 崎子").contentBytes
            try db.prepare("UPDATE events SET body = ? WHERE lsn = 2").run([.blob(forged)])
        }
        #expect(report == VerifyReport(ok: false, checked: 1, firstBadLSN: 2, error: "hash mismatch"))
    }

    @Test func verifyNamesATamperedHash() async throws {
        let report = try await tamperedReport { db in
            try db.prepare("UPDATE events SET hash = ? WHERE lsn = 3").run([.blob(Array(repeating: 7, count: 32))])
        }
        #expect(report == VerifyReport(ok: false, checked: 2, firstBadLSN: 3, error: "hash mismatch"))
    }

    @Test func verifyNamesAGapAndABrokenBody() async throws {
        let gap = try await tamperedReport { db in try db.execute("DELETE FROM events WHERE lsn = 2") }
        #expect(gap.firstBadLSN == 2 && gap.checked == 1)
        #expect(gap.error?.hasPrefix("lsn gap after 1") == true)
        let broken = try await tamperedReport { db in
            try db.prepare("UPDATE events SET body = ? WHERE lsn = 4").run([.blob(Array("{\"source\":".utf8))])
        }
        #expect(broken.firstBadLSN == 4 && broken.checked == 3)
        #expect(broken.error?.hasPrefix("body is not valid JSON") == true)
        let subject = try await tamperedReport { db in try db.execute("UPDATE events SET subject = 'X' WHERE lsn = 1") }
        #expect(subject.firstBadLSN == 1 && subject.error == "column subject does not match the body")
    }

    @Test func reopeningContinuesTheChain() async throws {
        let dir = TemporaryDirectory()
        let first = try LogWriter(path: dir.databasePath)
        _ = try await first.append((0..<3).map { makeEvent(id: "r\($0)") })
        await first.close()
        await #expect(throws: StoreError.self) { _ = try await first.append([makeEvent(id: "z")]) }
        let second = try LogWriter(path: dir.databasePath)
        let outcomes = try await second.append([makeEvent(id: "r1"), makeEvent(id: "r3"), makeEvent(id: "r4")])
        #expect(outcomes == [.duplicate(lsn: 2), .appended(lsn: 4), .appended(lsn: 5)])
        #expect(try await second.perform { db in try EventLog.verify(in: db) } == VerifyReport(ok: true, checked: 5))
        await second.close()
    }

    @Test func canonicalEnvelopeMatchesCanonicalBytes() {
        let envelope: JSONObject = [
            "source": "tax", "event_id": "e\"1\n", "type": "tax.assessed", "occurred_at": "2026-04-01T00:00:00Z",
            "subject": "T1", "lsn": 99, "zeta": [.double(1.5), .double(2.0), ["b": 1, "a": nil, "\u{FA10}": "x", "塚": "y"]],
            "data": ["taxable": false, "income_levy": 0, "per_capita_levy": .double(5000), "fiscal_year": 2026],
        ]
        let canonical = CanonicalEnvelope(envelope)
        #expect(canonical.body == JSONValue.object(envelope).canonicalBytes)
        var record = envelope
        record["lsn"] = 7
        record["recorded_at"] = "2026-04-01T00:00:00.000Z"
        #expect(canonical.record(lsn: 7, recordedAt: "2026-04-01T00:00:00.000Z") == JSONValue.object(record).canonicalBytes)
        let reparsed = try! JSONParser.parse(JSONValue.object(envelope).canonicalBytes)
        #expect(JSONValue.object(envelope).canonicalForm == reparsed)
    }

    @Test func recordedAtFormat() {
        #expect(LogChain.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(LogChain.timestamp(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(LogChain.timestamp(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        #expect(LogChain.timestamp(Date(timeIntervalSince1970: 4_102_444_799.999)) == "2099-12-31T23:59:59.999Z")
    }
}
