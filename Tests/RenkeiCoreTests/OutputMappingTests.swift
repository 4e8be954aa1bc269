import Foundation
import RenkeiCore
import Testing

/// Issue 17: output mappings — the source mapping format read the other way.
@Suite struct OutputMappingTests {
    static func mapping(_ text: String, format: OutputMapping.Format = .csv) throws(MappingError) -> OutputMapping {
        try OutputMapping(text: Array(text.utf8), file: "out.json", format: format)
    }

    static let body: JSONObject = [
        "uid": "U0000000001", "kind": "person.changed", "version": 3,
        "view": ["uid": "U0000000001", "name": "髙橋 一郎", "sex": "male", "birth_date": "1980-04-01", "guardian_of": ["U2", "U3"]],
        "changes": ["address": ["old": "旧", "new": "新"]],
    ]

    @Test func codeTablesAreReadBackwardsAndPathsReachIntoTheBody() throws {
        let mapping = try Self.mapping("""
            {"layout": {"columns": ["番号", "区分", "版", "氏名", "性別", "生年月日", "旧住所", "続柄", "固定", "保護者"]},
             "codes": {"区分": {"01": "person.created", "02": "person.changed"}, "性別": {"1": "male", "2": "female", "9": null}},
             "record": {"番号": "uid", "区分": {"field": "kind", "codes": "区分"}, "版": "version", "氏名": "view.name",
                        "性別": {"field": "view.sex", "codes": "性別"}, "生年月日": {"field": "view.birth_date", "as": "yyyymmdd"},
                        "旧住所": "changes.address.old", "続柄": {"field": "view.relationship", "codes": "性別"},
                        "固定": {"value": "X"}, "保護者": {"field": "view.guardian_of", "join": ";"}}}
            """)
        #expect(try mapping.values(of: Self.body) == ["U0000000001", "02", "3", "髙橋 一郎", "1", "19800401", "旧", "9", "X", "U2;U3"])
        #expect(mapping.viewFields == ["name", "sex", "birth_date", "relationship", "guardian_of", "address"])
        #expect(mapping.lineEnding == [0x0D, 0x0A])
    }

    @Test func aValueMissingFromATableIsAnErrorNamingColumnFieldAndCode() throws {
        let mapping = try Self.mapping("""
            {"layout": {"columns": ["性別"]}, "codes": {"性別": {"2": "female"}},
             "record": {"性別": {"field": "view.sex", "codes": "性別"}}}
            """)
        #expect(throws: OutputValueError(column: "性別", field: "view.sex", reason: "'male' has no code in table 性別: add it to the mapping's codes")) {
            try mapping.values(of: Self.body)
        }
    }

    @Test func mappingsThatCannotBeWrittenOutAreRefusedWithTheirPlace() {
        // Two codes for one value: which would be written?
        #expect(throws: MappingError.self) {
            try Self.mapping(#"{"layout": {"columns": ["a"]}, "codes": {"t": {"1": "x", "2": "x"}}, "record": {"a": {"field": "k", "codes": "t"}}}"#)
        }
        do {
            _ = try Self.mapping(#"{"layout": {"columns": ["a", "b"]}, "record": {"a": "uid"}}"#)
            Issue.record("a column without a record entry was accepted")
        } catch {
            #expect(error.reason.contains("'b'") && error.line == 1, "\(error)")
        }
        #expect(throws: MappingError.self) { try Self.mapping(#"{"layout": {"columns": ["a"]}, "record": {"a": "uid", "z": "kind"}}"#) }
        #expect(throws: MappingError.self) { try Self.mapping(#"{"layout": {"fields": [{"name": "a", "bytes": 0}]}, "record": {"a": "uid"}}"#, format: .fixed) }
    }

    @Test func fixedLayoutsKeepWidthAlignmentAndPadding() throws {
        let mapping = try Self.mapping("""
            {"layout": {"fields": [{"name": "番号", "bytes": 12}, {"name": "版", "bytes": 4, "align": "right", "pad": "0"}], "line_ending": "lf"},
             "record": {"番号": "uid", "版": "version"}}
            """, format: .fixed)
        #expect(mapping.columns.map(\.bytes) == [12, 4])
        #expect(mapping.columns[1].alignRight && mapping.columns[1].pad == 0x30)
        #expect(mapping.lineEnding == [0x0A])
        #expect(try mapping.values(of: Self.body) == ["U0000000001", "3"])
    }

    @Test func theExampleOutputMappingLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/mappings/out-resident-fixed-example.json").path
        let mapping = try OutputMapping(text: Array(try Data(contentsOf: URL(fileURLWithPath: path))), file: path, format: .fixed)
        #expect(mapping.columns.count > 5)
    }
}
