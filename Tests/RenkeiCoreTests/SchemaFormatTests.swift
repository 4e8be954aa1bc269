import Testing

@testable import RenkeiCore

@Suite struct SchemaFormatTests {
    @Test(arguments: ["2026-04-01", "2024-02-29", "2000-02-29", "1999-12-31", "2026-01-31"])
    func validDates(_ date: String) {
        #expect(SchemaFormat.date.isValid(date))
    }

    @Test(arguments: [
        "2026-02-30", "2025-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
        "2026-1-01", "26-01-01", "2026/01/01", "2026-01-01T00:00:00Z", "２０２６-01-01", "",
    ])
    func invalidDates(_ date: String) {
        #expect(!SchemaFormat.date.isValid(date))
    }

    @Test(arguments: [
        "2026-04-01T09:00:00+09:00", "2026-04-01T00:00:00Z", "2026-04-01t00:00:00z", "2026-04-01T09:00:00.123+09:00",
        "2024-02-29T23:59:59-05:30", "2016-12-31T23:59:60Z", "2017-01-01T08:59:60+09:00",
    ])
    func validDateTimes(_ value: String) {
        #expect(SchemaFormat.dateTime.isValid(value))
    }

    @Test(arguments: [
        "2026-04-01T09:00:00", "2026-04-01 09:00:00+09:00", "2026-02-30T09:00:00+09:00", "2026-04-01T24:00:00Z",
        "2026-04-01T09:60:00Z", "2026-04-01T09:00:60Z", "2026-04-01T09:00:00+0900", "2026-04-01T09:00:00+24:00",
        "2026-04-01T09:00:00.+09:00", "2026-04-01T09:00Z", "2026-04-01T09:00:00Zjunk", "2026-04-01",
    ])
    func invalidDateTimes(_ value: String) {
        #expect(!SchemaFormat.dateTime.isValid(value))
    }

    @Test func myNumberCheckDigit() {
        #expect(SchemaFormat.myNumber.isValid("123456789018"))
        for last in 0...9 where last != 8 {
            #expect(!SchemaFormat.myNumber.isValid("12345678901\(last)"))
        }
        #expect(!SchemaFormat.myNumber.isValid("12345678901"))
        #expect(!SchemaFormat.myNumber.isValid("1234567890188"))
        #expect(!SchemaFormat.myNumber.isValid("１23456789018"))
        // r ≤ 1 gives check digit 0: eleven zeros sum to 0.
        #expect(SchemaFormat.myNumber.isValid("000000000000"))
    }

    @Test func municipalityCodeCheckDigit() {
        #expect(SchemaFormat.municipalityCode.isValid("131016"))  // 千代田区
        #expect(SchemaFormat.municipalityCode.isValid("011002"))  // 札幌市
        #expect(SchemaFormat.municipalityCode.isValid("271004"))  // 大阪市
        #expect(!SchemaFormat.municipalityCode.isValid("131017"))
        #expect(!SchemaFormat.municipalityCode.isValid("13101"))
        #expect(!SchemaFormat.municipalityCode.isValid("13101a"))
    }
}
