import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// Issue 13, audited reads: they fail closed, `reveal=protected` is read from the decoded query (for
/// households too), look-ups record the uid they resolved to, and the access log is hash-chained.
@Suite("Audited reads", .serialized)
struct AuditTests {
    static let operatorPeer = PeerCredentials(uid: 4242, gid: 4242, pid: 77)

    /// Two residents of household H7; the first becomes protected (支援措置).
    static let household = [
        AuditEvents.resident("AR1", subject: "100000001", name: "保護 花子", household: "H7"),
        AuditEvents.resident("AR2", subject: "100000002", name: "同居 太郎", household: "H7"),
        #"{"source":"resident","event_id":"AR3","type":"resident.protection_changed","occurred_at":"2026-04-02T09:00:00+09:00","subject":"100000001","data":{"protected":true}}"#,
        IngestEvents.patron("AL1", subject: "L0001", name: "図書 一郎"),
    ]

    static func get(_ routes: StatusRoutes, _ target: String) async -> HTTPResponse {
        await routes.handle(HTTPRequest(method: "GET", target: target, peer: operatorPeer))
    }

    static func uid(_ routes: StatusRoutes, _ subject: String, source: String = "resident") async throws -> String {
        let reply = await get(routes, "/v1/persons?source=\(source)&subject=\(subject)")
        return try #require((try? JSONParser.parse(reply.body))?["uid"]?.stringValue)
    }

    static func newestEntry(_ service: RenkeiService) throws -> JSONValue? {
        try AccessLog.entries(in: service.reader(), limit: 1).first
    }

    /// Makes every access-log write fail, as a full or broken disk would, from a second connection.
    static func breakAccessLog(_ service: RenkeiService) throws {
        let db = try Database(path: service.databasePath)
        try db.execute("CREATE TRIGGER access_log_broken BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;")
    }

    static func repairAccessLog(_ service: RenkeiService) throws {
        try Database(path: service.databasePath).execute("DROP TRIGGER access_log_broken")
    }

    @Test func aReadWhoseEntryCannotBeWrittenShowsNothing() async throws {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, Self.household)
        let routes = StatusRoutes(service: fixture.service)
        let uid = try await Self.uid(routes, "100000002")
        let protectedUID = try await Self.uid(routes, "100000001")

        try Self.breakAccessLog(fixture.service)
        for target in [
            "/v1/persons/\(uid)", "/v1/persons?source=resident&subject=100000002",
            "/v1/persons/\(protectedUID)?reveal=protected", "/v1/households/H7?reveal=protected", "/v1/households/H7",
            "/v1/persons/\(uid)/history", "/v1/reviews", "/v1/disclosures?uid=\(uid)", "/v1/access-log",
        ] {
            let reply = await Self.get(routes, target)
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(reply.status == 503, "\(target) answered \(reply.status) although its access-log entry failed")
            for secret in ["同居", "保護", "九段", uid, protectedUID, "AR2"] {
                #expect(!text.contains(secret), "\(target): the 503 shows \(secret)")
            }
        }
        // A rebuild that cannot be audited does not start.
        #expect(await routes.handle(HTTPRequest(method: "POST", target: "/v1/rebuild", peer: Self.operatorPeer)).status == 503)
        #expect(try fixture.status()["rebuild"]?.isNull == true)
        #expect(fixture.logLines.contains { $0.contains("access log: could not record GET /v1/persons/\(uid)") })

        try Self.repairAccessLog(fixture.service)
        let again = await Self.get(routes, "/v1/persons/\(uid)")
        #expect(again.status == 200)
        #expect(String(decoding: again.body, as: UTF8.self).contains("同居"))
        await fixture.stop()
    }

    @Test func revealIsReadFromTheDecodedQueryForPersonsAndHouseholds() async throws {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, Self.household)
        let routes = StatusRoutes(service: fixture.service)
        let protectedUID = try await Self.uid(routes, "100000001")

        // Percent-encoded: the route sees `protected` and shows the address; the entry must say so.
        let person = await Self.get(routes, "/v1/persons/\(protectedUID)?reveal=%70rotected")
        #expect(person.status == 200)
        #expect((try? JSONParser.parse(person.body))?["address"]?.stringValue != nil)
        let personEntry = try #require(try Self.newestEntry(fixture.service))
        #expect(personEntry["operator_action"]?.stringValue == "reveal_protected")
        #expect(personEntry["uid"]?.stringValue == protectedUID)
        #expect(personEntry["caller_uid"]?.integerValue == 4242)

        let household = await Self.get(routes, "/v1/households/H7?reveal=%70rotected")
        #expect((try? JSONParser.parse(household.body))?["members"]?.arrayValue?.contains(.string(protectedUID)) == true)
        #expect(try Self.newestEntry(fixture.service)?["operator_action"]?.stringValue == "reveal_protected")
        #expect(fixture.logLines.contains { $0.contains("operator action: household H7 read with protected members revealed (uid 4242)") })

        // A plain read is no operator action.
        _ = await Self.get(routes, "/v1/households/H7")
        #expect(try Self.newestEntry(fixture.service)?["operator_action"]?.isNull == true)
        await fixture.stop()
    }

    @Test func aLookUpBySourceAndSubjectRecordsTheUIDItResolvedTo() async throws {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, Self.household)
        let routes = StatusRoutes(service: fixture.service)
        let uid = try await Self.uid(routes, "L0001", source: "library")
        let entry = try #require(try Self.newestEntry(fixture.service))
        #expect(entry["target"]?.stringValue == "/v1/persons?source=library&subject=L0001")
        #expect(entry["uid"]?.stringValue == uid)
        _ = await Self.get(routes, "/v1/persons/\(uid)")
        #expect(try Self.newestEntry(fixture.service)?["uid"]?.stringValue == uid)
        _ = await Self.get(routes, "/v1/reviews")
        #expect(try Self.newestEntry(fixture.service)?["uid"]?.isNull == true)
        await fixture.stop()
    }

    @Test func verifyChecksTheAccessLogChainAndFindsATamperedEntry() async throws {
        let fixture = try await IngestFixture(push: false)
        try await StartupTests.replay(fixture.service, Self.household)
        let routes = StatusRoutes(service: fixture.service)
        for _ in 0..<5 { _ = await Self.get(routes, "/v1/households/H7") }
        let good = try JSONParser.parse(await Self.get(routes, "/v1/verify").body)
        #expect(good["ok"] == .bool(true))
        #expect(good["checked"]?.integerValue ?? 0 >= 4)
        #expect(good["access_log"]?["ok"] == .bool(true))
        #expect(good["access_log"]?["checked"]?.integerValue == 5)

        // A scratch copy, its triggers dropped, one entry's status changed.
        let copy = fixture.root.appendingPathComponent("tampered.db").path
        _ = try await fixture.service.writer.perform { db in try db.execute("VACUUM INTO '\(copy)'") }
        let scratch = try Database(path: copy)
        try scratch.execute(
            "DROP TRIGGER access_log_no_update; UPDATE access_log SET status = 404 WHERE id = 3;")
        let report = try AccessLog.verify(in: scratch)
        #expect(!report.ok)
        #expect(report.firstBadID == 3)
        #expect(report.checked == 2)
        // And a removed entry.
        try scratch.execute("DROP TRIGGER access_log_no_delete; UPDATE access_log SET status = 200 WHERE id = 3; DELETE FROM access_log WHERE id = 4;")
        let afterDelete = try AccessLog.verify(in: scratch)
        #expect(afterDelete.firstBadID == 5, "\(afterDelete)")

        // Through GET /v1/verify on the live database: the top-level `ok` goes false, the event log's keys stay.
        try Database(path: fixture.service.databasePath).execute(
            "DROP TRIGGER access_log_no_update; UPDATE access_log SET target = '/v1/reviews' WHERE id = 2;")
        let bad = try JSONParser.parse(await Self.get(routes, "/v1/verify").body)
        #expect(bad["ok"] == .bool(false))
        #expect(bad["first_bad_lsn"] == .null)
        #expect(bad["error"]?.stringValue?.hasPrefix("access log: ") == true)
        #expect(bad["checked"]?.integerValue == 4)
        #expect(bad["access_log"]?["ok"] == .bool(false))
        #expect(bad["access_log"]?["first_bad_id"]?.integerValue == 2)
        await fixture.stop()
    }

    /// A database from before the chain: its entries have no hash; the chain starts after them.
    @Test func entriesFromBeforeTheChainAreUnchainedAndTheChainStartsAfterThem() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-al-\(UUID().uuidString.prefix(8)).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path)
        // The schema and rows as the previous version wrote them.
        try db.execute(
            """
            CREATE TABLE access_log(
                id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, caller_uid INTEGER, caller_pid INTEGER,
                method TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL);
            INSERT INTO access_log(at, caller_uid, caller_pid, method, target, status) VALUES
                ('2026-01-01T00:00:00Z', 1000, 1, 'GET', '/v1/persons/U1?reveal=%70rotected', 200),
                ('2026-01-01T00:00:01Z', 1000, 1, 'POST', '/v1/links', 200);
            """)
        #expect(try StateSchema.migrate(db).adoptedLegacy)  // a database from before issue 13
        let entry = AccessLogEntry(at: "2026-02-01T00:00:00Z", callerUID: 1000, callerPID: 2, method: "GET", target: "/v1/reviews", status: 200)
        #expect(try AccessLog.append(entry, in: db) == 3)
        try AccessLog.append(entry, in: db)
        let report = try AccessLog.verify(in: db)
        #expect(report.ok && report.checked == 2 && report.unchained == 2, "\(report)")
        // Old entries are read with what the daemon decides now (the decoded query).
        let entries = try AccessLog.entries(in: db, limit: 10)
        #expect(entries.last?["operator_action"]?.stringValue == "reveal_protected")
        #expect(entries.dropLast().last?["operator_action"]?.stringValue == "change")

        // An entry without a hash after the chain began breaks it.
        try db.execute("INSERT INTO access_log(at, method, target, status) VALUES ('x', 'GET', '/v1/reviews', 200)")
        let broken = try AccessLog.verify(in: db)
        #expect(!broken.ok && broken.firstBadID == 5)
    }
}

/// Envelope lines for the audit tests.
enum AuditEvents {
    static func resident(_ id: String, subject: String, name: String, household: String) -> String {
        #"{"source":"resident","event_id":"\#(id)","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"\#(subject)","data":{"reason":"move_in","name":"\#(name)","birth_date":"1980-05-05","sex":"female","address":"東京都千代田区九段南1丁目2番1号","postal_code":"102-0074","household_no":"\#(household)","relationship":"世帯主"}}"#
    }
}
