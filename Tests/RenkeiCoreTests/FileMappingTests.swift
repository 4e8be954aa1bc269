import Foundation
import RenkeiCore
import Testing

/// Mapped sources and snapshots (issue 16): the mapping file, the row engine, the snapshot diff.
@Suite struct FileMappingTests {
    let schemas = SchemaFixtures.schemas
    static let digest: @Sendable ([UInt8]) -> String = { bytes in
        // FNV-1a, twice with different seeds: enough for tests (the daemon uses SHA-256).
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(a, radix: 16) + String(b, radix: 16)
    }

    static let libraryMappingPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Deploy/mappings/library-example.json").path

    static let header = "利用者番号,氏名,カナ氏名,生年月日,性別,郵便番号,住所,電話番号,登録日"
    static let night1 = """
        L000101,髙橋　一郎,"ﾀｶﾊｼ ｲﾁﾛｳ",S60.06.12,1,102-0074,千代田区九段南１－２－１,03-1234-5678,H28.04.01
        L000102,佐藤　花子,"ｻﾄｳ ﾊﾅｺ",H02.11.03,2,102-0083,千代田区麹町４－１－１　麹町ハイツ３０２,,R01.05.07
        L000103,"NGUYEN VAN AN","ｸﾞｴﾝ ｳﾞｧﾝ ｱﾝ",1994/02/28,1,101-0051,千代田区神田神保町２丁目３番地,090-0000-0000,R04.10.12
        L000104,山﨑　美咲,"ﾔﾏｻﾞｷ ﾐｻｷ",H17.07.21,2,102-0075,千代田区三番町６－２５,,R05.04.01
        L000105,田中　健一,"ﾀﾅｶ ｹﾝｲﾁ",S52.01.30,1,102-0074,千代田区九段南２丁目１０番２号,03-2222-3333,H15.09.09
        """
    static let night2 = """
        L000101,髙橋　一郎,"ﾀｶﾊｼ ｲﾁﾛｳ",S60.06.12,1,102-0074,千代田区九段南１－２－１,03-1234-5678,H28.04.01
        L000102,佐藤　花子,"ｻﾄｳ ﾊﾅｺ",H02.11.03,2,102-0071,千代田区富士見２－１０－２,,R01.05.07
        L000104,佐藤　美咲,"ｻﾄｳ ﾐｻｷ",H17.07.21,2,102-0075,千代田区三番町６－２５,,R05.04.01
        L000105,田中　健一,"ﾀﾅｶ ｹﾝｲﾁ",S52.01.30,1,102-0074,千代田区九段南２丁目１０番２号,03-2222-3333,H15.09.09
        L000106,鈴木　翔,"ｽｽﾞｷ ｼｮｳ",H25.03.15,1,102-0082,千代田区一番町１０,,R08.11.30
        """

    func libraryMapping() throws -> FileMapping {
        let text = Array(try Data(contentsOf: URL(fileURLWithPath: Self.libraryMappingPath)))
        return try FileMapping(text: text, file: "library-example.json", source: "library", format: .csv, schemas: schemas)
    }

    func rows(_ body: String) -> [(line: Int, cells: [String])] {
        CSVReader.records(Array((Self.header + "\n" + body).utf8)).dropFirst().map { record in
            (record.line, record.fields.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    func snapshot(_ body: String, _ file: MappedFile) throws -> [SnapshotRow] {
        try rows(body).compactMap { try file.snapshotRow(cells: $0.cells, line: $0.line, keys: ["利用者番号"]).get() }
    }

    @Test func libraryRowsBecomeValidRegistrations() throws {
        let mapping = try libraryMapping()
        let file = try MappedFile(mapping: mapping, header: Self.header.split(separator: ",").map(String.init), digest: Self.digest)
        let validator = EventValidator(schemas: schemas)
        var events: [JSONValue] = []
        for row in rows(Self.night1) { events += try file.events(cells: row.cells, line: row.line).get() }
        #expect(events.count == 5)
        for event in events {
            if case .failure(let rejection) = validator.validate(value: event, expectedSource: "library") {
                Issue.record("\(event["subject"]?.stringValue ?? ""): \(rejection)")
            }
        }
        let first = try #require(events.first)
        #expect(first["event_id"] == "L000101")
        #expect(first["type"] == "library.patron_registered")
        #expect(first["occurred_at"] == "2016-04-01T00:00:00+09:00")
        #expect(first["data"]?["birth_date"] == "1985-06-12")
        #expect(first["data"]?["name"] == "髙橋　一郎")
        #expect(events[1]["data"]?["birth_date"] == "1990-11-03")
        #expect(events[1]["occurred_at"] == "2019-05-07T00:00:00+09:00")
        #expect(events[2]["data"]?["birth_date"] == "1994-02-28")
    }

    @Test func snapshotOfTheSecondNightIsExactlyTheReadme() throws {
        let mapping = try libraryMapping()
        let file = try MappedFile(mapping: mapping, header: Self.header.split(separator: ",").map(String.init), digest: Self.digest)
        let first = SnapshotDiff(rows: try snapshot(Self.night1, file), previous: [:])
        #expect(first.added.count == 5 && first.changed.isEmpty && first.removed.isEmpty)
        let stored = Dictionary(uniqueKeysWithValues: try snapshot(Self.night1, file).map {
            ($0.key, SnapshotEntry(subject: $0.subject, fields: SnapshotEntry.fields(fromText: SnapshotEntry(subject: $0.subject, fields: $0.fields).fieldsText)))
        })
        // The same file again: nothing.
        let again = SnapshotDiff(rows: try snapshot(Self.night1, file), previous: stored)
        #expect(again.added.isEmpty && again.changed.isEmpty && again.removed.isEmpty)
        #expect(again.events(mapping: mapping, run: "r2", at: "2026-12-02T01:00:00+09:00").isEmpty)

        let second = SnapshotDiff(rows: try snapshot(Self.night2, file), previous: stored)
        let events = second.events(mapping: mapping, run: "r2", at: "2026-12-02T01:00:00+09:00")
        let summary = events.map { "\($0["subject"]?.stringValue ?? "") \($0["type"]?.stringValue ?? "") \(($0["data"]?.objectValue?.keys ?? []).sorted())" }
        #expect(summary == [
            "L000106 library.patron_registered [\"address\", \"birth_date\", \"name\", \"name_kana\", \"postal_code\"]",
            "L000102 library.patron_updated [\"address\", \"postal_code\"]",
            "L000104 library.patron_updated [\"name\", \"name_kana\"]",
            "L000103 library.patron_withdrawn []",
        ])
        #expect(events[1]["data"]?["postal_code"] == "102-0071")
        let validator = EventValidator(schemas: schemas)
        for event in events {
            if case .failure(let rejection) = validator.validate(value: event, expectedSource: "library") {
                Issue.record("\(rejection)")
            }
        }
        #expect(Set(events.compactMap { $0["event_id"]?.stringValue }).count == 4)
        #expect(abs(second.removedShare - 0.2) < 1e-9)
    }

    @Test func aRowChangedOnlyInAColumnNoEventCarriesRefreshesItsDigestAndSendsNothing() {
        let previous = ["L1": SnapshotEntry(subject: "L1", fields: ["name": "n1", "address": "a1"], rowDigest: "r1")]
        let same = SnapshotRow(key: "L1", line: 2, subject: "L1", registration: .object(JSONObject()),
                               fields: ["name": "n1", "address": "a1"], rowDigest: "r2")
        let diff = SnapshotDiff(rows: [same], previous: previous)
        #expect(diff.changed.isEmpty && diff.added.isEmpty && diff.removed.isEmpty)
        #expect(diff.refreshed.map(\.rowDigest) == ["r2"])
        // A key kept unmapped (byte for byte the same) is neither removed nor counted twice.
        let kept = SnapshotDiff(rows: [], previous: previous, keeping: ["L1"], rowCount: 1)
        #expect(kept.rows == 1 && kept.removed.isEmpty && kept.refreshed.isEmpty)
    }

    @Test func typeByCodeCodeTablesFixedLayoutAndSeveralEventsPerRow() throws {
        let text = """
            {"layout": {"fields": [{"name": "宛名番号", "bytes": 5}, {"name": "履歴番号", "bytes": 2},
                                   {"name": "異動事由", "bytes": 2}, {"name": "異動日", "bytes": 9},
                                   {"name": "氏名", "bytes": 8}, {"name": "性別", "bytes": 1},
                                   {"name": "生年月日", "bytes": 9}, {"name": "住所", "bytes": 6},
                                   {"name": "世帯番号", "bytes": 3}, {"name": "続柄", "bytes": 2}, {"name": "予備", "bytes": 2}]},
             "ignore": ["予備"],
             "codes": {"性別": {"1": "male", "2": "female"}, "続柄": {"01": "世帯主", "02": "妻", "03": "子"}},
             "events": [{"type": {"column": "異動事由", "codes": {"A1": "resident.registered", "B1": "resident.moved", "Z9": null}},
                         "subject": "宛名番号", "event_id": {"columns": ["宛名番号", "履歴番号"]},
                         "occurred_at": "異動日", "effective_date": "異動日",
                         "data": {"reason": {"value": "birth"}, "name": "氏名", "sex": {"column": "性別", "codes": "性別"},
                                  "birth_date": "生年月日", "address": "住所", "household_no": "世帯番号",
                                  "relationship": {"column": "続柄", "codes": "続柄"}}}]}
            """
        let mapping = try FileMapping(text: Array(text.utf8), file: "r.json", source: "resident", format: .fixed, schemas: schemas)
        let file = try MappedFile(mapping: mapping, header: nil, digest: Self.digest)
        // ASCII-width test data: 5+2+2+9+8+1+9+6+3+2+2 bytes.
        let lines = [
            "0000101A1R06.04.01TARO    1R06.04.01TOKYO 10003  ",
            "0000102B1R06.05.07TARO    1R06.04.01OSAKA 10003  ",
            "0000103Z9R06.05.08TARO    1R06.04.01OSAKA 10003  ",
            "0000104A1R06.04.01TARO    3R06.04.01TOKYO 10003  ",
            "0000105A1R06.04.01",
        ]
        let records = FixedRecordReader.records(Array(lines.joined(separator: "\r\n").utf8), widths: mapping.fixedFields.map(\.bytes))
        #expect(records.count == 5)
        func events(_ index: Int) -> Result<[JSONValue], MappedRowError> {
            file.events(cells: records[index].fields.map { String(decoding: $0, as: UTF8.self) }, line: records[index].line)
        }
        let registered = try events(0).get()
        #expect(registered.count == 1)
        #expect(registered[0]["event_id"] == "00001-01")
        #expect(registered[0]["type"] == "resident.registered")
        #expect(registered[0]["effective_date"] == "2024-04-01")
        #expect(registered[0]["data"]?["sex"] == "male")
        #expect(registered[0]["data"]?["relationship"] == "子")
        let moved = try events(1).get()
        #expect(moved[0]["type"] == "resident.moved")
        #expect(moved[0]["data"]?.objectValue?.keys.sorted() == ["address", "household_no", "relationship"])
        #expect(try events(2).get().isEmpty)  // Z9: skipped on purpose
        guard case .failure(let unknownCode) = events(3) else { Issue.record("code 3 accepted"); return }
        #expect(unknownCode.column == 6 && unknownCode.description.contains("code '3' is not in the code table 性別"))
        #expect(records[4].error != nil)
        let validator = EventValidator(schemas: schemas)
        for event in registered + moved {
            if case .failure(let rejection) = validator.validate(value: event, expectedSource: "resident") { Issue.record("\(rejection)") }
        }

        // A childcare application naming two children: one event per child.
        let childcare = """
            {"layout": {"header": true},
             "events": [
               {"type": "childcare.applied", "subject": "児童番号1", "event_id": {"columns": ["申請番号"]}, "occurred_at": "申請日",
                "data": {"child.name": "児童氏名1", "child.birth_date": "児童生年月日1", "guardians.0.name": "保護者氏名",
                         "preferred_facilities": {"column": "希望施設", "split": " "}}},
               {"type": "childcare.applied", "subject": "児童番号2", "event_id": {"columns": ["申請番号"]}, "occurred_at": "申請日",
                "when": {"column": "児童番号2"},
                "data": {"child.name": "児童氏名2", "child.birth_date": "児童生年月日2", "guardians.0.name": "保護者氏名",
                         "preferred_facilities": {"column": "希望施設", "split": " "}}}]}
            """
        let applied = try FileMapping(text: Array(childcare.utf8), file: "c.json", source: "childcare", format: .csv, schemas: schemas)
        let header = ["申請番号", "申請日", "保護者氏名", "希望施設", "児童番号1", "児童氏名1", "児童生年月日1", "児童番号2", "児童氏名2", "児童生年月日2"]
        let bound = try MappedFile(mapping: applied, header: header, digest: Self.digest)
        let two = try bound.events(cells: ["A-9", "R06.10.01", "山田　太郎", "F001 F002", "C1", "山田　一", "R02.04.01", "C2", "山田　二", "R04.06.01"], line: 2).get()
        #expect(two.map { $0["event_id"]?.stringValue } == ["A-9#1", "A-9#2"])
        #expect(two[1]["data"]?["child"]?["birth_date"] == "2022-06-01")
        #expect(two[0]["data"]?["preferred_facilities"] == ["F001", "F002"])
        let one = try bound.events(cells: ["A-10", "R06.10.01", "山田　太郎", "F001", "C3", "山田　三", "R02.04.01", "", "", ""], line: 3).get()
        #expect(one.count == 1)
        for event in two + one {
            if case .failure(let rejection) = validator.validate(value: event, expectedSource: "childcare") { Issue.record("\(rejection)") }
        }
    }

    @Test func mappingErrorsNameFileLineAndColumn() {
        let bad = """
            {"layout": {"header": true},
             "events": [{"type": "library.patron_registered", "subject": "利用者番号", "occurred_at": "登録日",
                         "data": {"name": "氏名",
                                  "sex": "性別"}}]}
            """
        #expect(throws: MappingError.self) {
            try FileMapping(text: Array(bad.utf8), file: "m.json", source: "library", format: .csv, schemas: schemas)
        }
        do {
            _ = try FileMapping(text: Array(bad.utf8), file: "m.json", source: "library", format: .csv, schemas: schemas)
        } catch {
            #expect(error.line == 4 && error.column == 23, "\(error)")
            #expect(error.description.hasPrefix("m.json:4:23: events[0].data.sex: library.patron_registered has no data field 'sex'"))
        }
        do {
            _ = try FileMapping(text: Array("{\"layout\": {\n  \"header\": tru}}".utf8), file: "m.json", source: "library", format: .csv, schemas: schemas)
            Issue.record("bad JSON accepted")
        } catch {
            #expect(error.line == 2, "\(error)")
        }
    }

    @Test func unlistedHeaderColumnAndBadDatesAreRefused() throws {
        let mapping = try libraryMapping()
        #expect(throws: MappedRowError.self) {
            try MappedFile(mapping: mapping, header: Self.header.split(separator: ",").map(String.init) + ["備考"], digest: Self.digest)
        }
        let file = try MappedFile(mapping: mapping, header: Self.header.split(separator: ",").map(String.init), digest: Self.digest)
        let result = file.events(cells: ["L1", "髙橋　一郎", "ﾀｶﾊｼ", "S64.01.08", "1", "102-0074", "千代田区", "", "H28.04.01"], line: 7)
        guard case .failure(let error) = result else { Issue.record("S64.01.08 accepted"); return }
        #expect(error.line == 7 && error.column == 4 && error.columnName == "生年月日")
        #expect(MappedDate.iso("1994/02/30").isFailure && (try? MappedDate.iso("１９９４／０２／２８").get()) == "1994-02-28")
        #expect((try? MappedDate.iso("19940228").get()) == "1994-02-28")
    }
}

extension Result {
    fileprivate var isFailure: Bool { if case .failure = self { true } else { false } }
}
