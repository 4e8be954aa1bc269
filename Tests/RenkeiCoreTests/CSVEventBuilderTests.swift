import RenkeiCore
import Testing

@Suite struct CSVEventBuilderTests {
    let schemas = SchemaFixtures.schemas

    func builder(_ header: [String], renames: [String: String] = [:], source: String = "tax") throws -> CSVEventBuilder {
        try CSVEventBuilder(header: header, renames: renames, schemas: schemas, source: source)
    }

    @Test func schemaKindsOfFields() {
        #expect(schemas.fieldKind(at: ["schema_version"], eventType: nil) == .integer)
        #expect(schemas.fieldKind(at: ["occurred_at"], eventType: nil) == .string)
        #expect(schemas.fieldKind(at: ["effective_date"], eventType: nil) == .date)
        #expect(schemas.fieldKind(at: ["data", "fiscal_year"], eventType: "tax.assessed") == .integer)
        #expect(schemas.fieldKind(at: ["data", "taxable"], eventType: "tax.assessed") == .boolean)
        #expect(schemas.fieldKind(at: ["data", "birth_date"], eventType: "tax.assessed") == .date)
        #expect(schemas.fieldKind(at: ["data", "child", "birth_date"], eventType: "childcare.applied") == .date)
        #expect(schemas.fieldKind(at: ["data", "guardians", "0", "name"], eventType: "childcare.applied") == .string)
        #expect(schemas.fieldKind(at: ["data", "protected"], eventType: "resident.protection_changed") == .boolean)
        #expect(schemas.fieldKind(at: ["data", "nope"], eventType: "tax.assessed") == nil)
        #expect(schemas.fieldKind(at: ["data", "fiscal_year"], eventType: "no.such") == nil)
    }

    @Test func typedCellsAndWarekiDates() throws {
        let b = try builder(["type", "event_id", "subject", "occurred_at", "fiscal_year", "taxable", "income_levy",
                             "per_capita_levy", "name", "birth_date", "address"])
        let result = b.envelope(cells: ["tax.assessed", "T-1", "N1", "2026-04-01T09:00:00+09:00", "2026", "true", "12,000",
                                        "5000", "髙橋", "昭和64年1月7日", "東京都"])
        let value = try result.get()
        #expect(value["source"] == "tax")
        #expect(value["data"]?["fiscal_year"] == .integer(2026))
        #expect(value["data"]?["taxable"] == .bool(true))
        #expect(value["data"]?["income_levy"] == .integer(12000))
        #expect(value["data"]?["birth_date"] == "1989-01-07")
        #expect(value["data"]?["name"] == "髙橋")
        #expect(SchemaFixtures.validator.validate(value: value, expectedSource: "tax").isSuccess)
    }

    @Test func nestedDottedHeadersAndArrays() throws {
        let b = try builder(["type", "event_id", "subject", "occurred_at", "child.name", "child.birth_date",
                             "data.guardians.0.name", "guardians.1.name", "preferred_facilities.0"], source: "childcare")
        let value = try b.envelope(cells: ["childcare.applied", "C-1", "K1", "2026-04-01T09:00:00+09:00", "山﨑 太郎",
                                           "R5.6.1", "山﨑 花子", "", "F001"]).get()
        #expect(value["data"]?["child"]?["birth_date"] == "2023-06-01")
        #expect(value["data"]?["guardians"] == [["name": "山﨑 花子"]])
        #expect(value["data"]?["preferred_facilities"] == ["F001"])
    }

    @Test func renameMapAndColumnLookup() throws {
        let b = try builder(["利用者番号", "type", "生年月日"], renames: ["利用者番号": "subject", "生年月日": "birth_date"],
                            source: "library")
        #expect(b.paths == [["subject"], ["type"], ["data", "birth_date"]])
        #expect(b.column(forField: "data.birth_date") == 3)
        #expect(b.column(forField: "subject") == 1)
        #expect(b.column(forField: "data.nothing") == nil)
    }

    @Test func badCellsNameTheirColumnWithoutTheValue() throws {
        let b = try builder(["type", "fiscal_year", "birth_date", "taxable"])
        let wrongInt = b.envelope(cells: ["tax.assessed", "二〇二六", "", ""])
        #expect(wrongInt.failure?.column == 2)
        #expect(wrongInt.failure?.field == "data.fiscal_year")
        let wrongEra = b.envelope(cells: ["tax.assessed", "", "昭和64年1月8日", ""])
        #expect(wrongEra.failure?.column == 3)
        #expect(wrongEra.failure?.reason.contains("1989-01-07") == true)
        #expect(wrongEra.failure?.description.contains("昭和64年1月8日") == false)
        let wrongBool = b.envelope(cells: ["tax.assessed", "", "", "maybe"])
        #expect(wrongBool.failure?.column == 4)
        let short = b.envelope(cells: ["tax.assessed"])
        #expect(short.failure?.reason.contains("header has 4") == true)
    }

    @Test func headerProblems() {
        #expect(throws: CSVRowError.self) { try builder(["subject", "event_id"]) }
        #expect(throws: CSVRowError.self) { try builder(["type", "name", "data.name"]) }
        #expect(throws: CSVRowError.self) { try builder(["type", ""]) }
        #expect(throws: CSVRowError.self) { try builder(["type", "a..b"]) }
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
