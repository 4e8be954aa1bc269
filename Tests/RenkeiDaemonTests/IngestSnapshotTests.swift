import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// Mapped snapshot sources (issue 16): the contract's vendor export on two nights, read through
/// `Deploy/mappings/library-example.json`, becomes exactly what `examples/vendor/README.md` states;
/// a file read again adds nothing; a truncated file is held until an operator decides.
@Suite("Ingest: mapped snapshot sources")
struct IngestSnapshotTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let vendor = repository.appendingPathComponent("Tests/Fixtures/vendor")

    static let settings: [String: JSONObject] = [
        "library": ["files": [
            "format": "csv", "encoding": "cp932",
            "mapping": .string(repository.appendingPathComponent("Deploy/mappings/library-example.json").path),
            // Five patrons: the README's one withdrawal is 20 %, over the 5 % default meant for a city.
            "snapshot": ["key": ["利用者番号"], "max_removed_share": .double(0.25)],
        ]]
    ]

    func file(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.vendor.appendingPathComponent(name)))
    }

    /// "subject type [data keys]" of each event logged after `lsn`.
    func summary(_ daemon: IngestFixture, after lsn: Int = 0) async throws -> [String] {
        try await daemon.loggedEvents().dropFirst(lsn).map { logged in
            let event = logged.event.envelope
            let keys = (event["data"]?.objectValue?.keys ?? []).sorted().joined(separator: ",")
            return "\(event["subject"]?.stringValue ?? "") \(event["type"]?.stringValue ?? "") [\(keys)]"
        }
    }

    func runs(_ daemon: IngestFixture) async throws -> [Snapshots.Run] {
        try await daemon.service.writer.perform { db in try Snapshots.runs(in: db) }
    }

    @Test(.timeLimit(.minutes(3)))
    func twoNightsBecomeExactlyTheReadmeAndRereadingAddsNothing() async throws {
        let daemon = try await IngestFixture(sources: Self.settings, push: false)
        defer { Task { await daemon.stop() } }

        try daemon.drop(try file("library-patrons-20261130.csv"), as: "a-20261130.csv", into: "library")
        #expect(await daemon.waitTaken("a-20261130.csv", source: "library"))
        let first = try await summary(daemon)
        #expect(first == ["L000101", "L000102", "L000103", "L000104", "L000105"].map {
            "\($0) library.patron_registered [address,birth_date,name,name_kana,postal_code]"
        })
        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(events.first?["data"]?["birth_date"] == "1985-06-12")  // S60.06.12
        #expect(events[2]["data"]?["birth_date"] == "1994-02-28")  // 1994/02/28
        #expect(events[1]["occurred_at"] == "2019-05-07T00:00:00+09:00")  // R01.05.07
        #expect(events.first?["data"]?["name"]?.stringValue?.unicodeScalars.first?.value == 0x9AD9)  // 髙, CP932
        #expect(events.first?["data"]?["name_kana"] == "ﾀｶﾊｼ ｲﾁﾛｳ")

        // The same file again (another name): nothing more.
        try daemon.drop(try file("library-patrons-20261130.csv"), as: "b-20261130-again.csv", into: "library")
        #expect(await daemon.waitTaken("b-20261130-again.csv", source: "library"))
        #expect(try await daemon.loggedEvents().count == 5)

        // The second night: exactly the README's four differences.
        try daemon.drop(try file("library-patrons-20261201.csv"), as: "c-20261201.csv", into: "library")
        #expect(await daemon.waitTaken("c-20261201.csv", source: "library"))
        let second = try await summary(daemon, after: 5)
        #expect(second == [
            "L000106 library.patron_registered [address,birth_date,name,name_kana,postal_code]",
            "L000102 library.patron_updated [address,postal_code]",
            "L000104 library.patron_updated [name,name_kana]",
            "L000103 library.patron_withdrawn []",
        ])
        let changed = try await daemon.loggedEvents().map(\.event.envelope)
        let recordedRuns = try await runs(daemon)
        try #require(changed.count == 9, "\(daemon.logLines.suffix(8)) \(recordedRuns)")
        #expect(changed[6]["data"]?["address"] == "千代田区富士見２－１０－２")
        #expect(changed[7]["data"]?["name"] == "佐藤　美咲")

        // A dry run of the truncated file: what it would do, nothing ingested or recorded.
        let check = await StatusRoutes(service: daemon.service).handle(HTTPRequest(
            method: "POST", target: "/v1/mappings/library/check", body: try file("library-patrons-20261202-truncated.csv")))
        #expect(check.status == 200)
        let dryRun = try JSONParser.parse(check.body)
        #expect(dryRun["snapshot"]?["removed"] == 3 && dryRun["snapshot"]?["would_hold"] == true)
        #expect(dryRun["events"]?.arrayValue?.count == 3 && dryRun["refused"] == [])
        #expect(try await runs(daemon).count == 3)

        // Read again: nothing more.
        try daemon.drop(try file("library-patrons-20261201.csv"), as: "d-20261201-again.csv", into: "library")
        #expect(await daemon.waitTaken("d-20261201-again.csv", source: "library"))
        #expect(try await daemon.loggedEvents().count == 9)

        let recorded = try await runs(daemon).reversed().map { "\($0.file) \($0.rows)/\($0.added)/\($0.changed)/\($0.removed) \($0.state.rawValue)" }
        #expect(recorded == [
            "a-20261130.csv 5/5/0/0 applied", "b-20261130-again.csv 5/0/0/0 applied",
            "c-20261201.csv 5/1/2/1 applied", "d-20261201-again.csv 5/0/0/0 applied",
        ])
        #expect(daemon.rejections("c-20261201.csv", source: "library").isEmpty)
        #expect(try daemon.status()["snapshots"]?["held"] == [])

        // The views hold the move, and a rebuild from the log gives them byte for byte.
        #expect(await daemon.wait { try daemon.status()["projection_lsn"]?.integerValue == 9 })
        let views = try StartupTests.views(daemon.service)
        #expect(views.count == 6)
        #expect(views.values.contains { String(decoding: $0, as: UTF8.self).contains("千代田区富士見２－１０－２") })
        #expect(!views.values.contains { String(decoding: $0, as: UTF8.self).contains("麹町ハイツ") })
        #expect(await RebuildTests.rebuild(daemon))
        #expect(try StartupTests.views(daemon.service) == views)
    }

    @Test(.timeLimit(.minutes(3)))
    func aTruncatedFileIsHeldUntilAnOperatorDecides() async throws {
        let daemon = try await IngestFixture(sources: Self.settings, push: false)
        defer { Task { await daemon.stop() } }
        try daemon.drop(try file("library-patrons-20261201.csv"), as: "a.csv", into: "library")
        #expect(await daemon.waitTaken("a.csv", source: "library"))
        #expect(try await daemon.loggedEvents().count == 5)

        // Two of five rows: three withdrawals (60 %) are held, not applied.
        try daemon.drop(try file("library-patrons-20261202-truncated.csv"), as: "b.csv", into: "library")
        #expect(await daemon.waitTaken("b.csv", source: "library"))
        #expect(await daemon.wait { try await runs(daemon).first?.file == "b.csv" })
        #expect(FileManager.default.fileExists(atPath: daemon.spool("library").appendingPathComponent("held/b.csv").path))
        #expect(try await daemon.loggedEvents().count == 5)
        let held = try #require(try await runs(daemon).first)
        #expect(held.state == .held && held.removed == 3 && held.rows == 2)
        #expect(held.reason?.contains("max_removed_share") == true)
        let shown = try daemon.status()["snapshots"]?["held"]?.arrayValue ?? []
        #expect(shown.map { $0["id"]?.integerValue } == [held.id])

        // A later full file waits in the spool while the run is held.
        try daemon.drop(try file("library-patrons-20261201.csv"), as: "b2.csv", into: "library")
        #expect(await daemon.wait { daemon.logLines.contains { $0.contains("b2.csv: waits for held snapshot run \(held.id)") } })
        #expect(FileManager.default.fileExists(atPath: daemon.spool("library").appendingPathComponent("b2.csv").path))

        // Discarded: nothing applied; the file goes to rejected/ with the reason.
        let discarded = try await daemon.service.spool.decideHeld(held.id, accept: false).get()
        #expect(discarded.state == .discarded)
        #expect(try await daemon.loggedEvents().count == 5)
        #expect(FileManager.default.fileExists(atPath: daemon.spool("library").appendingPathComponent("rejected/b.csv").path))
        #expect(daemon.rejections("b.csv", source: "library").first?["error"]?.stringValue?.contains("discarded") == true)
        guard case .failure(let again) = try await daemon.service.spool.decideHeld(held.id, accept: true) else {
            Issue.record("a discarded run was accepted")
            return
        }
        #expect(again.status == 409)
        // Then the waiting file is taken: the same rows as the snapshot in force, nothing more.
        #expect(await daemon.waitTaken("b2.csv", source: "library"))
        #expect(try await daemon.loggedEvents().count == 5)

        // Held again, then accepted: the three withdrawals are applied.
        try daemon.drop(try file("library-patrons-20261202-truncated.csv"), as: "c.csv", into: "library")
        #expect(await daemon.waitTaken("c.csv", source: "library"))
        // The run is recorded before the file leaves the spool for held/ (a stop in between loses nothing).
        #expect(await daemon.wait { try await runs(daemon).first?.file == "c.csv" })
        let second = try #require(try await runs(daemon).first)
        #expect(second.state == .held)
        // Through the status socket's routes, as renkeictl snapshot list|accept does.
        let routes = StatusRoutes(service: daemon.service)
        let listed = await routes.handle(HTTPRequest(method: "GET", target: "/v1/snapshots"))
        let list = try JSONParser.parse(listed.body)["snapshots"]?.arrayValue ?? []
        #expect(listed.status == 200 && list.map { $0["state"]?.stringValue } == ["held", "applied", "discarded", "applied"])
        #expect(list.first?["digest"]?.stringValue?.count == 64)
        let reply = await routes.handle(HTTPRequest(method: "POST", target: "/v1/snapshots/\(second.id)/accept"))
        #expect(reply.status == 200)
        let accepted = try JSONParser.parse(reply.body)
        #expect(accepted["state"] == "accepted" && accepted["removed"] == 3)
        #expect(await routes.handle(HTTPRequest(method: "POST", target: "/v1/snapshots/\(second.id)/accept")).status == 409)
        #expect(await routes.handle(HTTPRequest(method: "POST", target: "/v1/snapshots/999/discard")).status == 404)
        #expect(try await summary(daemon, after: 5) == [
            "L000104 library.patron_withdrawn []", "L000105 library.patron_withdrawn []", "L000106 library.patron_withdrawn []",
        ])
        #expect(FileManager.default.fileExists(atPath: daemon.spool("library").appendingPathComponent("done/c.csv").path))
        #expect(try daemon.status()["snapshots"]?["held"] == [])
    }

    @Test(.timeLimit(.minutes(3)))
    func aMappedChangeFileWithBadRowsTakesTheGoodOnes() async throws {
        let mapping = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-map-\(UUID().uuidString.prefix(8)).json")
        try Data(contentsOf: Self.repository.appendingPathComponent("Deploy/mappings/library-example.json")).write(to: mapping)
        defer { try? FileManager.default.removeItem(at: mapping) }
        let settings: [String: JSONObject] = [
            "library": ["files": ["format": "csv", "encoding": "utf-8", "mapping": .string(mapping.path)]]
        ]
        let daemon = try await IngestFixture(sources: settings, push: false)
        defer { Task { await daemon.stop() } }
        let text = """
            利用者番号,氏名,カナ氏名,生年月日,性別,郵便番号,住所,電話番号,登録日
            L1,山田　太郎,ﾔﾏﾀﾞ ﾀﾛｳ,S60.06.12,1,102-0074,千代田区,,H28.04.01
            L2,山田　花子,ﾔﾏﾀﾞ ﾊﾅｺ,S64.01.08,2,102-0074,千代田区,,H28.04.01
            L3,山田　次郎,ﾔﾏﾀﾞ ｼﾞﾛｳ,1990/01/01,1,102-0074,千代田区,,H28.04.01

            """
        try daemon.drop(Array(text.utf8), as: "changes.csv", into: "library")
        #expect(await daemon.waitTaken("changes.csv", source: "library"))
        #expect(try await summary(daemon).map { $0.prefix(2) } == ["L1", "L3"])
        let rejected = daemon.rejections("changes.csv", source: "library")
        #expect(rejected.count == 1)
        #expect(rejected.first?["line"]?.integerValue == 3 && rejected.first?["column"]?.integerValue == 4)
        #expect(rejected.first?["error"]?.stringValue?.contains("生年月日") == true)
        // Read again: the mapped event ids make it nothing more.
        try daemon.drop(Array(text.utf8), as: "changes-again.csv", into: "library")
        #expect(await daemon.waitTaken("changes-again.csv", source: "library"))
        #expect(try await daemon.loggedEvents().count == 2)
        // The dry run names the refused row too.
        let check = await StatusRoutes(service: daemon.service).handle(HTTPRequest(
            method: "POST", target: "/v1/mappings/library/check", body: Array(text.utf8)))
        let dryRun = try JSONParser.parse(check.body)
        #expect(dryRun["events"]?.arrayValue?.count == 2 && dryRun["refused"]?.arrayValue?.first?["line"] == 3)
    }

    @Test(.timeLimit(.minutes(3)))
    func aFixedLengthCP932ChangeFileWithCodesAndWareki() async throws {
        let settings: [String: JSONObject] = [
            "resident": ["files": [
                "format": "fixed", "encoding": "cp932",
                "mapping": .string(Self.repository.appendingPathComponent("Deploy/mappings/resident-fixed-example.json").path),
            ]]
        ]
        let daemon = try await IngestFixture(sources: settings, push: false)
        defer { Task { await daemon.stop() } }
        let bytes = try file("resident-ido-fixed-cp932.dat")
        try daemon.drop(bytes, as: "ido-20240601.dat", into: "resident")
        #expect(await daemon.waitTaken("ido-20240601.dat", source: "resident"))
        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(try await summary(daemon) == [
            "0000000101 resident.registered [address,birth_date,household_no,name,name_kana,postal_code,reason,relationship,sex]",
            "0000000102 resident.registered [address,birth_date,household_no,name,name_kana,postal_code,reason,relationship,sex]",
            "0000000101 resident.moved [address,postal_code]",
            "0000000105 resident.died []",
        ])
        #expect(events.map { $0["event_id"]?.stringValue ?? "" } == ["0000000101-001", "0000000102-001", "0000000101-002", "0000000105-001"])
        #expect(events[0]["data"]?["name"]?.stringValue?.unicodeScalars.first?.value == 0x9AD9)  // 髙 in 20 bytes, padded
        #expect(events[0]["data"]?["name"] == "髙橋　一郎")
        #expect(events[0]["data"]?["reason"] == "move_in" && events[1]["data"]?["reason"] == "birth")
        #expect(events[0]["data"]?["birth_date"] == "1985-06-12" && events[0]["effective_date"] == "2024-04-01")
        #expect(events[1]["data"]?["sex"] == "female" && events[1]["data"]?["relationship"] == "子")
        #expect(events[2]["data"]?["address"] == "東京都千代田区富士見２－１０－２")
        let rejected = daemon.rejections("ido-20240601.dat", source: "resident")
        #expect(rejected.count == 1)
        #expect(rejected.first?["line"] == 5 && rejected.first?["column"] == 8)
        #expect(rejected.first?["error"]?.stringValue?.contains("code '3' is not in the code table 性別") == true)
        #expect(rejected.first?["raw"]?.stringValue?.contains("山﨑") == true)

        // Read again: the ids (宛名番号 + 履歴番号) make it nothing more.
        try daemon.drop(bytes, as: "ido-20240601-again.dat", into: "resident")
        #expect(await daemon.waitTaken("ido-20240601-again.dat", source: "resident"))
        #expect(try await daemon.loggedEvents().count == 4)
    }

    @Test(.timeLimit(.minutes(3)))
    func aChildcareApplicationRowNamingTwoChildrenBecomesTwoEvents() async throws {
        let settings: [String: JSONObject] = [
            "childcare": ["files": [
                "format": "csv", "encoding": "cp932",
                "mapping": .string(Self.repository.appendingPathComponent("Deploy/mappings/childcare-example.json").path),
            ]]
        ]
        let daemon = try await IngestFixture(sources: settings, push: false)
        defer { Task { await daemon.stop() } }
        let bytes = try file("childcare-applications-cp932.csv")
        try daemon.drop(bytes, as: "applications.csv", into: "childcare")
        #expect(await daemon.waitTaken("applications.csv", source: "childcare"))
        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(events.map { "\($0["event_id"]?.stringValue ?? "") \($0["subject"]?.stringValue ?? "")" }
            == ["M2024-0001#1 C0000001", "M2024-0001#2 C0000002", "M2024-0002#1 C0000003"])
        #expect(events[1]["data"]?["child"]?["birth_date"] == "2022-06-15")
        #expect(events[1]["data"]?["guardians"]?.arrayValue?.first?["atena_no"] == "0000000201")
        #expect(events[0]["data"]?["preferred_facilities"] == ["F001", "F002"])
        #expect(daemon.rejections("applications.csv", source: "childcare").isEmpty)
        try daemon.drop(bytes, as: "applications-again.csv", into: "childcare")
        #expect(await daemon.waitTaken("applications-again.csv", source: "childcare"))
        #expect(try await daemon.loggedEvents().count == 3)
    }

    @Test func aBrokenMappingStopsStartUpNamingFileLineAndColumn() async throws {
        let mapping = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-bad-\(UUID().uuidString.prefix(8)).json")
        try Data("""
            {"layout": {"header": true},
             "events": [{"type": "library.patron_registerd", "subject": "利用者番号", "occurred_at": "登録日"}]}
            """.utf8).write(to: mapping)
        defer { try? FileManager.default.removeItem(at: mapping) }
        let settings: [String: JSONObject] = [
            "library": ["files": ["format": "csv", "encoding": "cp932", "mapping": .string(mapping.path), "snapshot": ["key": ["利用者番号"]]]]
        ]
        do {
            let daemon = try await IngestFixture(sources: settings, push: false)
            await daemon.stop()
            Issue.record("a daemon started with a broken mapping")
        } catch let error as RenkeiError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("sources.library.files.mapping: \(mapping.path):2:14: events[0].type: 'library.patron_registerd' is not a known event type"), "\(error.message)")
        }
    }

    @Test func eucJPFieldsDecodeThroughTheirMappingToCP932() throws {
        // "山崎　太郎,ﾔﾏｻﾞｷ ﾀﾛｳ,東京都千代田区１丁目２番,S60.06.12" in EUC-JP (JIS X 0208 and 0x8E kana).
        let euc: [UInt8] = [
            187, 179, 186, 234, 161, 161, 194, 192, 207, 186, 44, 142, 212, 142, 207, 142, 187, 142, 222, 142, 183, 32, 142,
            192, 142, 219, 142, 179, 44, 197, 236, 181, 254, 197, 212, 192, 233, 194, 229, 197, 196, 182, 232, 163, 177, 195,
            250, 204, 220, 163, 178, 200, 214, 44, 83, 54, 48, 46, 48, 54, 46, 49, 50,
        ]
        let text = try SpoolIngest.decodeField(euc, encoding: "euc-jp")
        #expect(text == "山崎　太郎,ﾔﾏｻﾞｷ ﾀﾛｳ,東京都千代田区１丁目２番,S60.06.12")
        // JIS X 0212 (0x8F …) is not in CP932: refused, never guessed.
        #expect(throws: (any Error).self) { try SpoolIngest.decodeField([0x8F, 0xB0, 0xA1], encoding: "euc-jp") }
    }
}
