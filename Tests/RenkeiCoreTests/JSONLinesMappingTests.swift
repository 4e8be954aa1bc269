import RenkeiCore
import Testing

/// A mapping of JSON lines in a vendor's own shape (issue 16, `files.format` `jsonl`): the layout
/// takes only `columns`, the columns default to what the mapping reads and ignores, and rows read by
/// ``JSONLinesRecordReader`` map like CSV rows.
@Suite struct JSONLinesMappingTests {
    let schemas = SchemaFixtures.schemas

    static let mapping = """
        {"ignore": ["メール"],
         "events": [{"type": "library.patron_registered", "subject": "会員番号",
                     "event_id": {"columns": ["会員番号"]}, "occurred_at": "登録日",
                     "data": {"name": "氏名.漢字", "birth_date": "生年月日", "address": "住所"}}]}
        """

    @Test func membersAreColumnsAndRowsMapLikeCSV() throws {
        let mapping = try FileMapping(text: Array(Self.mapping.utf8), file: "elib.json", source: "library", format: .jsonl, schemas: schemas)
        #expect(mapping.declaredColumns == ["メール", "会員番号", "住所", "氏名.漢字", "生年月日", "登録日"])
        let bound = try MappedFile(mapping: mapping, header: nil, digest: { _ in "0" })
        let line = #"{"会員番号": 7, "氏名": {"漢字": "髙橋　一郎"}, "生年月日": "S60.06.12", "住所": "千代田区", "登録日": "R06.04.01", "メール": {"仕事": "a@example.jp"}}"#
        let records = JSONLinesRecordReader.records(Array(line.utf8), columns: bound.columns, ignored: mapping.ignored)
        #expect(records.count == 1 && records[0].error == nil)
        let cells = records[0].fields.map { String(decoding: $0, as: UTF8.self) }
        guard case .success(let events) = bound.events(cells: cells, line: 1) else {
            Issue.record("the row was refused")
            return
        }
        #expect(events.first?["subject"] == "7" && events.first?["event_id"] == "7")
        #expect(events.first?["data"] == ["name": "髙橋　一郎", "birth_date": "1985-06-12", "address": "千代田区"])
    }

    @Test func aJSONLinesLayoutTakesOnlyColumns() {
        let text = #"{"layout": {"fields": [{"name": "a", "bytes": 1}]}, "events": [{"type": "library.patron_registered", "subject": "a", "occurred_at": "a"}]}"#
        #expect(throws: MappingError.self) {
            try FileMapping(text: Array(text.utf8), file: "bad.json", source: "library", format: .jsonl, schemas: schemas)
        }
        do {
            _ = try FileMapping(text: Array(text.utf8), file: "bad.json", source: "library", format: .jsonl, schemas: schemas)
        } catch {
            #expect(error.description.contains("layout.fields: unknown key (allowed here: columns, comment)"), "\(error)")
        }
    }
}
