import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// CSV spool files (contract §6): CP932 with 髙 and 﨑, 和暦 dates, rename map, quoted fields, CRLF;
/// bad rows refused with line, column and reason while the good rows of the same file are taken.
@Suite("Ingest: CSV spool")
struct IngestCSVTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/csv")

    static let librarySettings: [String: JSONObject] = [
        "library": ["csv": ["encoding": "cp932", "columns": ["利用者番号": "subject"]]]
    ]

    func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
    }

    @Test(.timeLimit(.minutes(2)))
    func cp932FileWithWarekiAndQuotedFields() async throws {
        let daemon = try await IngestFixture(sources: Self.librarySettings, push: false)
        defer { Task { await daemon.stop() } }
        try daemon.drop(try fixture("library-cp932.csv"), as: "patrons.csv", into: "library")
        #expect(await daemon.waitTaken("patrons.csv", source: "library"))

        let events = try await daemon.loggedEvents().map(\.event.envelope)
        let byID = Dictionary(uniqueKeysWithValues: events.map { ($0["event_id"]?.stringValue ?? "", $0) })
        #expect(byID.keys.sorted() == ["L-1", "L-2", "L-3", "L-5"])
        #expect(byID["L-1"]?["subject"] == "L0001")
        #expect(byID["L-1"]?["data"]?["name"]?.stringValue?.unicodeScalars.first?.value == 0x9AD9)  // 髙
        #expect(byID["L-1"]?["data"]?["birth_date"] == "1989-01-07")
        #expect(byID["L-2"]?["data"]?["name"]?.stringValue?.unicodeScalars.map(\.value).contains(0xFA11) == true)  // 﨑
        #expect(byID["L-2"]?["data"]?["birth_date"] == "1989-01-08")
        #expect(byID["L-2"]?["data"]?["address"] == "東京都千代田区4丁目5番6号, 101号室")
        #expect(byID["L-3"]?["data"]?["name"] == "髙木 \"タク\"")
        #expect(byID["L-3"]?["data"]?["address"] == "東京都千代田区7-8-9, 2F")
        #expect(byID["L-3"]?["data"]?["birth_date"] == "2024-04-01")
        #expect(byID["L-5"]?["data"]?["name"]?.stringValue?.unicodeScalars.map(\.value).contains(0xFF5E) == true)  // 0x8160
        #expect(byID["L-5"]?["data"]?["birth_date"] == "1990-01-15")

        let rejected = daemon.rejections("patrons.csv", source: "library")
        #expect(rejected.count == 2)
        #expect(rejected.first?["line"]?.integerValue == 5)
        #expect(rejected.first?["column"]?.integerValue == 7)
        #expect(rejected.first?["error"]?.stringValue?.contains("昭和") == true)
        #expect(rejected.first?["error"]?.stringValue?.contains("birth_date") == true)
        #expect(rejected.first?["raw"]?.stringValue?.hasPrefix("L0004") == true)
        // A quoted line break is read as part of the field (and refused by the address schema).
        #expect(rejected.last?["line"]?.integerValue == 7)
        #expect(rejected.last?["column"]?.integerValue == 8)
        #expect(rejected.last?["error"]?.stringValue?.contains("data.address") == true)
        #expect(FileManager.default.fileExists(atPath: daemon.spool("library").appendingPathComponent("done/patrons.csv").path))
        let status = try daemon.status()["sources"]?["library"]
        #expect(status?["events"]?.integerValue == 4)
        #expect(status?["rejected"]?.integerValue == 2)
    }

    @Test(.timeLimit(.minutes(2)))
    func ibmExtensionBytesAndAnUndecodableRow() async throws {
        let daemon = try await IngestFixture(sources: Self.librarySettings, push: false)
        defer { Task { await daemon.stop() } }
        try daemon.drop(try fixture("library-cp932-ibm.csv"), as: "ibm.csv", into: "library")
        #expect(await daemon.waitTaken("ibm.csv", source: "library"))
        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(events.map { $0["event_id"]?.stringValue ?? "" } == ["L-10", "L-11"])
        #expect(events.first?["data"]?["name"]?.stringValue?.unicodeScalars.first?.value == 0x9AD9)
        #expect(events.first?["data"]?["birth_date"] == "2019-04-30")
        #expect(events.last?["data"]?["name"]?.stringValue?.unicodeScalars.map(\.value).contains(0xFA11) == true)
        #expect(events.last?["data"]?["birth_date"] == "2019-05-01")
        let rejected = daemon.rejections("ibm.csv", source: "library")
        #expect(rejected.count == 1)
        #expect(rejected.first?["line"]?.integerValue == 4)
        #expect(rejected.first?["column"]?.integerValue == 5)
        #expect(rejected.first?["error"]?.stringValue?.contains("0x85") == true)
        #expect(rejected.first?["error"]?.stringValue?.contains("byte offset") == true)
        #expect(rejected.first?["raw_base64"] != nil)
    }

    @Test(.timeLimit(.minutes(2)))
    func utf8WithBOMTypedFieldsAndConflicts() async throws {
        let daemon = try await IngestFixture(push: false)
        defer { Task { await daemon.stop() } }
        let csv = """
            \u{FEFF}source,event_id,type,occurred_at,subject,fiscal_year,taxable,income_levy,per_capita_levy,atena_no\r
            tax,T-1,tax.assessed,2026-06-01T09:00:00+09:00,N1,2026,true,"12,000",5000,000000000000001\r
            tax,T-2,tax.assessed,2026-06-01T09:00:00+09:00,N2,2026,false,0,0,000000000000002\r
            tax,T-1,tax.assessed,2026-06-01T09:00:00+09:00,N1,2026,true,13000,5000,000000000000001\r
            tax,T-3,tax.assessed,2026-06-01T09:00:00+09:00,N3,令和八年,true,1,1,000000000000003\r
            resident,T-4,tax.assessed,2026-06-01T09:00:00+09:00,N4,2026,true,1,1,000000000000004\r
            tax,T-5,tax.assessed,2026-06-01T09:00:00+09:00,N5,2026,true,1\r

            """
        try daemon.drop(Array(csv.utf8), as: "tax.csv", into: "tax")
        #expect(await daemon.waitTaken("tax.csv", source: "tax"))
        let events = try await daemon.loggedEvents().map(\.event.envelope)
        #expect(events.map { $0["event_id"]?.stringValue ?? "" } == ["T-1", "T-2"])
        #expect(events.first?["data"]?["income_levy"] == .integer(12000))
        #expect(events.first?["data"]?["atena_no"] == "000000000000001")
        let rejected = daemon.rejections("tax.csv", source: "tax")
        let byLine = Dictionary(uniqueKeysWithValues: rejected.map { ($0["line"]?.integerValue ?? 0, $0) })
        #expect(byLine.keys.sorted() == [4, 5, 6, 7])
        #expect(byLine[4]?["column"]?.integerValue == 2, "a conflicting event_id points at the event_id column")
        #expect(byLine[5]?["column"]?.integerValue == 6)
        #expect(byLine[6]?["column"]?.integerValue == 1, "another source's row names the source column")
        #expect(byLine[7]?["error"]?.stringValue?.contains("header has 10") == true)
    }

    @Test(.timeLimit(.minutes(2)))
    func aHeaderThatCannotBeUsedRefusesTheFileButKeepsIt() async throws {
        let daemon = try await IngestFixture(push: false)
        defer { Task { await daemon.stop() } }
        try daemon.drop(Array("event_id,subject\nX,Y\n".utf8), as: "nohead.csv", into: "tax")
        #expect(await daemon.waitTaken("nohead.csv", source: "tax"))
        let rejected = daemon.rejections("nohead.csv", source: "tax")
        #expect(rejected.first?["error"]?.stringValue?.contains("no type column") == true)
        #expect(FileManager.default.fileExists(atPath: daemon.spool("tax").appendingPathComponent("done/nohead.csv").path))
        #expect(try await daemon.loggedEvents().isEmpty)
    }
}
