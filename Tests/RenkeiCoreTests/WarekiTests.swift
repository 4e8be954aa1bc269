import RenkeiCore
import Testing

@Suite struct WarekiTests {
    func iso(_ text: String) -> String? {
        if case .success(let date) = Wareki.isoDate(text) { return date }
        return nil
    }

    @Test func kanjiLetterAndFullWidthForms() {
        #expect(iso("令和6年4月1日") == "2024-04-01")
        #expect(iso("R6.4.1") == "2024-04-01")
        #expect(iso("r06/04/01") == "2024-04-01")
        #expect(iso("H02.01.15") == "1990-01-15")
        #expect(iso("平成２年１月１５日") == "1990-01-15")
        #expect(iso("令6年4月1日") == "2024-04-01")
        #expect(iso("Ｒ６．４．１") == "2024-04-01")
        #expect(iso(" 昭和50年12月3日 ") == "1975-12-03")
        #expect(iso("T1-7-30") == "1912-07-30")
    }

    @Test func gannen() {
        #expect(iso("令和元年5月1日") == "2019-05-01")
        #expect(iso("平成元年1月8日") == "1989-01-08")
        #expect(iso("R元.5.1") == "2019-05-01")
        #expect(iso("大正元年7月30日") == "1912-07-30")
        #expect(iso("昭和元年12月25日") == "1926-12-25")
    }

    @Test func eraBoundariesAreExact() {
        #expect(iso("昭和64年1月7日") == "1989-01-07")
        #expect(iso("平成元年1月8日") == "1989-01-08")
        #expect(iso("平成31年4月30日") == "2019-04-30")
        #expect(iso("令和元年5月1日") == "2019-05-01")
        // Change days of 明治→大正 and 大正→昭和 belong to both eras.
        #expect(iso("明治45年7月30日") == "1912-07-30")
        #expect(iso("大正15年12月25日") == "1926-12-25")
    }

    @Test func datesOutsideTheirEraAreRefused() {
        for text in ["昭和64年1月8日", "平成元年1月7日", "平成31年5月1日", "令和元年4月30日", "明治45年7月31日",
                     "大正元年7月29日", "大正15年12月26日", "昭和元年12月24日", "H31.5.1", "S64.1.8"] {
            guard case .failure(let failure) = Wareki.isoDate(text) else {
                Issue.record("\(text) was accepted")
                continue
            }
            #expect(failure.description.contains("day of"), "\(text): \(failure)")
        }
    }

    @Test func daysThatDoNotExistAreRefused() {
        #expect(iso("令和5年2月29日") == nil)
        #expect(iso("令和6年2月29日") == "2024-02-29")
        #expect(iso("平成12年2月29日") == "2000-02-29")
        #expect(iso("R6.13.1") == nil)
        #expect(iso("R6.4.31") == nil)
        #expect(iso("R0.4.1") == nil)
    }

    @Test func malformedTextIsRefusedWithAReason() {
        for text in ["令和", "令和6年", "R6.4", "R6.4/1", "X6.4.1", "令和六年四月一日", "", "明治5年1月1日", "R6年4.1日"] {
            if case .success(let value) = Wareki.isoDate(text) { Issue.record("\(text) gave \(value)") }
        }
        if case .failure(let failure) = Wareki.isoDate("明治5年1月1日") {
            #expect(failure.description.contains("lunisolar"))
        }
    }

    @Test func recognisesWarekiShapes() {
        #expect(Wareki.looksLikeWareki("令和6年4月1日"))
        #expect(Wareki.looksLikeWareki("H02.01.15"))
        #expect(!Wareki.looksLikeWareki("2024-04-01"))
        #expect(!Wareki.looksLikeWareki("Hello"))
    }
}
