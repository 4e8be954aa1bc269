import Foundation
import RenkeiCore
import RenkeiSystem
@testable import RenkeiDaemon
import Testing

/// Issue 17: records as the receiving system reads them — fixed-length widths in CP932 bytes,
/// padding and alignment, CSV quoting — and the errors that replace a wrong record.
@Suite struct FileRecordEncoderTests {
    static func target(format: String, encoding: String, mapping: String) throws -> Configuration.FileTarget {
        let parsed = try OutputMapping(text: Array(mapping.utf8), file: "out.json", format: format == "fixed" ? .fixed : .csv)
        return Configuration.FileTarget(
            directory: "/tmp", format: format, encoding: encoding, mapping: parsed, cutEverySeconds: 60, cutEveryRows: 10,
            doneMarker: false, exportEverySeconds: nil)
    }

    static func body(name: String, version: Int = 7) -> [UInt8] {
        JSONValue.object(["uid": "U0000000001", "kind": "person.changed", "version": .integer(Int64(version)), "view": ["name": .string(name)]])
            .serializedBytes
    }

    static let fixed = """
        {"layout": {"fields": [{"name": "番号", "bytes": 11}, {"name": "氏名", "bytes": 10}, {"name": "版", "bytes": 4, "align": "right", "pad": "0"}]},
         "record": {"番号": "uid", "氏名": "view.name", "版": "version"}}
        """

    @Test func fixedLengthFieldsAreMeasuredInCP932BytesPaddedAndAligned() throws {
        let encoder = FileRecordEncoder(target: try Self.target(format: "fixed", encoding: "cp932", mapping: Self.fixed))
        let record = try encoder.record(Self.body(name: "髙橋 一"))
        // 髙橋 = 4 bytes, space, 一 = 2 bytes: 7 of 10, then 3 spaces; the version right-aligned with zeros.
        #expect(record == Array("U0000000001".utf8) + [0xFB, 0xFC, 0x8B, 0xB4, 0x20, 0x88, 0xEA, 0x20, 0x20, 0x20] + Array("0007\r\n".utf8))
        #expect(try encoder.header().isEmpty)
    }

    @Test func aValueTooWideOrWithoutACP932CodeIsAnErrorNeverACutOrAQuestionMark() throws {
        let encoder = FileRecordEncoder(target: try Self.target(format: "fixed", encoding: "cp932", mapping: Self.fixed))
        #expect(throws: FileRecordEncoder.Failure.self) { try encoder.record(Self.body(name: "髙橋髙橋髙橋")) }
        do {
            _ = try encoder.record(Self.body(name: "髙橋髙橋髙橋"))
        } catch {
            #expect(error.description.contains("column 氏名 (view.name)") && error.description.contains("12 bytes"), "\(error)")
        }
        do {
            _ = try encoder.record(Self.body(name: "𠮷田"))
            Issue.record("𠮷 was written")
        } catch {
            #expect(error.description.contains("U+20BB7") && error.description.contains("氏名"), "\(error)")
        }
    }

    @Test func csvValuesAreQuotedOnTheTextAndTheHeaderComesFirst() throws {
        let mapping = #"{"layout": {"columns": ["番号", "氏名"], "delimiter": "\\", "line_ending": "lf"}, "record": {"番号": "uid", "氏名": "view.name"}}"#
        let encoder = FileRecordEncoder(target: try Self.target(format: "csv", encoding: "cp932", mapping: mapping))
        #expect(try encoder.header() == CP932Encoder().encode("番号\\氏名\n"))
        // ソ is 0x83 0x5C in CP932: its second byte is the delimiter's, so the value is quoted for
        // readers that split on bytes.
        #expect(try encoder.record(Self.body(name: "ソ")) == Array("U0000000001\\\"".utf8) + [0x83, 0x5C, 0x22, 0x0A])
        #expect(try encoder.record(Self.body(name: "a\\b\"c")) == Array("U0000000001\\\"a\\b\"\"c\"\n".utf8))
    }
}
