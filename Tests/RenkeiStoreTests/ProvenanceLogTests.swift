import Foundation
import RenkeiCore
import Testing
@testable import RenkeiStore

/// Issue 13: provenance is stored beside each event, outside its canonical bytes, and covered by the
/// hash chain in a way that keeps logs from before provenance verifiable.
@Suite struct ProvenanceLogTests {
    static let spool = Provenance(via: .spool, file: "a.jsonl", source: "resident")
    static let push = Provenance(via: .push, peer: "192.0.2.1:40000", source: "resident")

    static func stored(_ db: Database) throws -> [[UInt8]?] {
        try db.prepare("SELECT provenance FROM events ORDER BY lsn").rows([]) { $0.blob(0) }
    }

    @Test func provenanceIsStoredBesideTheBodyAndADuplicateKeepsTheFirst() async throws {
        let dir = TemporaryDirectory()
        let writer = try LogWriter(path: dir.databasePath, clock: fixedClock)
        #expect(try await writer.append([makeEvent(id: "e1")]) == [.appended(lsn: 1)])  // none: as before issue 13
        #expect(try await writer.append([makeEvent(id: "e2")], provenance: Self.spool) == [.appended(lsn: 2)])
        // The same event from another way in is a duplicate: nothing written, the first provenance stays.
        #expect(try await writer.append([makeEvent(id: "e2")], provenance: Self.push) == [.duplicate(lsn: 2)])
        await writer.close()
        let db = try Database(path: dir.databasePath, readOnly: true)
        #expect(try Self.stored(db) == [nil, Self.spool.json.canonicalBytes])
        // The body is the event's canonical bytes, with no trace of how it came.
        let body = try db.prepare("SELECT body FROM events WHERE lsn = 2").rows([]) { $0.blob(0) }.first ?? nil
        #expect(body == makeEvent(id: "e2").contentBytes)
        #expect(try EventLog.verify(in: db) == VerifyReport(ok: true, checked: 2))
    }

    @Test func theChainCoversProvenance() async throws {
        for tamper in [
            "UPDATE events SET provenance = X'7B22766961223A2270757368227D' WHERE lsn = 2",  // {"via":"push"}
            "UPDATE events SET provenance = NULL WHERE lsn = 2",
            "UPDATE events SET provenance = X'7B22766961223A2270757368227D' WHERE lsn = 1",  // added to a row without
        ] {
            let dir = TemporaryDirectory()
            let writer = try LogWriter(path: dir.databasePath)
            _ = try await writer.append([makeEvent(id: "e1")])
            _ = try await writer.append([makeEvent(id: "e2"), makeEvent(id: "e3")], provenance: Self.spool)
            await writer.close()
            let raw = try Database(path: dir.databasePath)
            try raw.execute("DROP TRIGGER events_no_update; " + tamper)
            let report = try EventLog.verify(in: try Database(path: dir.databasePath, readOnly: true))
            #expect(!report.ok, "\(tamper) went unnoticed")
            #expect(report.error == "hash mismatch", "\(tamper): \(report)")
        }
    }

    /// A log written before provenance existed (no column): opening it adds the column, its rows
    /// verify as they are, and new rows chain on them with their provenance.
    @Test func aLogFromBeforeProvenanceIsUpgradedAndStillVerifies() async throws {
        let dir = TemporaryDirectory()
        do {
            let old = try Database(path: dir.databasePath)
            try old.execute(
                """
                CREATE TABLE events (
                    lsn INTEGER PRIMARY KEY CHECK (lsn >= 1), source TEXT NOT NULL, event_id TEXT NOT NULL,
                    type TEXT NOT NULL, subject TEXT NOT NULL, recorded_at TEXT NOT NULL, body BLOB NOT NULL,
                    hash BLOB NOT NULL CHECK (length(hash) = 32), UNIQUE (source, event_id));
                """)
            let event = makeEvent(id: "old1")
            let recordedAt = "2026-01-01T00:00:00.000Z"
            let hash = LogChain.hash(
                previous: LogChain.genesis, record: CanonicalEnvelope(event.envelope).record(lsn: 1, recordedAt: recordedAt))
            try old.prepare("INSERT INTO events VALUES (1, 'resident', 'old1', 'resident.name_changed', '100000001', ?, ?, ?)")
                .run([.text(recordedAt), .blob(event.contentBytes), .blob(hash)])
        }
        let writer = try LogWriter(path: dir.databasePath)
        #expect(try await writer.append([makeEvent(id: "new1")], provenance: Self.push) == [.appended(lsn: 2)])
        await writer.close()
        let db = try Database(path: dir.databasePath, readOnly: true)
        #expect(try EventLog.verify(in: db) == VerifyReport(ok: true, checked: 2))
        #expect(try Self.stored(db) == [nil, Self.push.json.canonicalBytes])
    }
}
