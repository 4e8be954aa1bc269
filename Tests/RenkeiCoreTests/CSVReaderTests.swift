import RenkeiCore
import Testing

@Suite struct CSVReaderTests {
    func fields(_ text: String) -> [[String]] {
        CSVReader.records(Array(text.utf8)).map { $0.fields.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func plainFieldsLFAndCRLF() {
        #expect(fields("a,b,c\n1,2,3\n") == [["a", "b", "c"], ["1", "2", "3"]])
        #expect(fields("a,b\r\n1,2\r\n") == [["a", "b"], ["1", "2"]])
        #expect(fields("a,b\r\n1,2") == [["a", "b"], ["1", "2"]])
        #expect(fields("a,,\n") == [["a", "", ""]])
    }

    @Test func quotedFieldsWithCommasNewlinesAndQuotes() {
        #expect(fields("\"a,b\",\"c\r\nd\",\"say \"\"hi\"\"\"\r\nx,y,z\r\n") == [["a,b", "c\r\nd", "say \"hi\""], ["x", "y", "z"]])
        #expect(fields("\"\",x\n") == [["", "x"]])
    }

    @Test func lineNumbersFollowEmbeddedNewlines() {
        let records = CSVReader.records(Array("h\n\"a\nb\nc\"\nlast\n".utf8))
        #expect(records.map(\.line) == [1, 2, 5])
    }

    @Test func byteOrderMarkAndBlankLinesAreSkipped() {
        #expect(fields("\u{FEFF}a,b\n\n1,2\n\r\n") == [["a", "b"], ["1", "2"]])
    }

    @Test func malformedRecordsAreFlaggedAndReadingResumes() {
        let records = CSVReader.records(Array("a,b\nx\"y,2\n\"q\"z,3\nok,4\n\"open,5\n".utf8))
        #expect(records[1].error?.column == 1)
        #expect(records[2].error?.column == 1)
        #expect(records[2].error?.reason.contains("closing quote") == true)
        #expect(records[3].error == nil)
        #expect(records[3].fields.map { String(decoding: $0, as: UTF8.self) } == ["ok", "4"])
        #expect(records[4].error?.reason.contains("not closed") == true)
    }

    @Test func rawKeepsTheRecordBytes() {
        let records = CSVReader.records(Array("a,b\r\n\"1\",2\r\n".utf8))
        #expect(String(decoding: records[1].raw, as: UTF8.self) == "\"1\",2")
        #expect(records[1].fieldOffsets == [5, 9])
    }

    @Test func arbitraryBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &generator)
            let alphabet: [UInt8] = [0x22, 0x2C, 0x0D, 0x0A, 0x41, 0xEF, 0xBB, 0xBF, 0x81]
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            _ = CSVReader.records(bytes)
        }
    }
}
