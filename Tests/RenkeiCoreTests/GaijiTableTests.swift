import RenkeiCore
import Testing

/// 外字 tables (issue 16): the TSV format, its errors, mapping texts and events, and the matcher's
/// treatment of an unmapped Private Use character.
@Suite struct GaijiTableTests {
    static let table = """
        # vendor table: code, text, kind, note
        U+E000\t髙
        F041\t𠮷\tunicode\t土よし
        u+e002\t葛\u{E0100}
        F043\t〓\tsubstitute\t該当文字なし

        """

    func load(_ text: String) throws(RenkeiError) -> GaijiTable {
        try GaijiTable(tsv: Array(text.utf8), file: "/etc/renkei/gaiji/library.tsv")
    }

    @Test func readsCodesInBothNotationsWithIVSAndSubstitutes() throws {
        let table = try load(Self.table)
        #expect(table.entries.count == 4)
        #expect(table.entries[0xE000]?.text == "髙")
        #expect(table.entries[0xE001]?.text == "𠮷")  // CP932 F041
        #expect(table.entries[0xE002]?.text.unicodeScalars.map(\.value) == [0x845B, 0xE0100])
        #expect(table.entries[0xE003]?.isSubstitute == true)
        #expect(table.entries[0xE003]?.line == 5)
        #expect(GaijiTable.cp932UserDefined(0xF040) == 0xE000)
        #expect(GaijiTable.cp932UserDefined(0xF080) == 0xE03F)
        #expect(GaijiTable.cp932UserDefined(0xF140) == 0xE0BC)
        #expect(GaijiTable.cp932UserDefined(0xF9FC) == 0xE757)
        #expect(GaijiTable.cp932UserDefined(0xF07F) == nil)
        #expect(GaijiTable.cp932UserDefined(0x8140) == nil)
    }

    @Test func errorsNameTheFileAndLine() {
        let cases: [(String, String)] = [
            ("U+E000\t髙\nU+4E00\t一\n", "library.tsv line 2: 'U+4E00' is not a 外字 code"),
            ("U+E000 髙\n", "line 1: expected CODE<TAB>TEXT"),
            ("# c\nF040\t\n", "line 2: U+E000: the Unicode text (column 2) is empty"),
            ("U+E000\t髙\nF040\t高\n", "line 2: U+E000 is already mapped on line 1"),
            ("U+E000\t\u{E001}\n", "line 1: U+E000: the text may not hold U+E001"),
            ("U+E000\t髙\tmaybe\n", "line 1: column 3 is 'maybe'"),
            ("FA40\t髙\n", "line 1: 'FA40' is not a 外字 code"),
        ]
        for (text, expected) in cases {
            do {
                _ = try load(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.message.contains(expected), "\(error.message)")
                #expect(error.message.hasPrefix("/etc/renkei/gaiji/library.tsv line"))
            }
        }
    }

    @Test func mapsTextsAndKeepsTheUnmapped() throws {
        let table = try load(Self.table)
        let outcome = table.map("\u{E000}橋 \u{E001}\u{E0FF}")
        #expect(outcome.text == "髙橋 𠮷\u{E0FF}")
        #expect(outcome.mapped == 2)
        #expect(outcome.unmapped == [0xE0FF])
        let plain = table.map("高橋 一郎")
        #expect(plain.text == "高橋 一郎" && plain.mapped == 0 && plain.unmapped.isEmpty)
    }

    @Test func eventKeepsTheRawTextInItsNote() throws {
        let table = try load(Self.table)
        let line = #"{"source":"childcare","event_id":"C1","type":"childcare.applied","occurred_at":"2026-04-01T09:00:00+09:00","subject":"K1","data":{"child":{"name":"\uE000橋 陽","birth_date":"2022-05-01"},"guardians":[{"name":"\uE000橋 \uE0FF子"}],"preferred_facilities":["F1"]}}"#
        let event = try Event(envelope: try #require(JSONParser.parse(Array(line.utf8)).objectValue))
        let outcome = table.apply(to: event)
        #expect(outcome.mapped == 2 && outcome.unmapped == 1)
        #expect(outcome.event.data["child"]?["name"] == "髙橋 陽")
        #expect(outcome.event.data["guardians"]?.arrayValue?.first?["name"] == "髙橋 \u{E0FF}子")
        let note = try #require(outcome.event.envelope["gaiji"]?.objectValue)
        #expect(note.keys == ["data.child.name", "data.guardians.0.name"])
        #expect(note["data.child.name"] == "\u{E000}橋 陽")
        #expect(outcome.event.envelope["data"] == .object(outcome.event.data))
        // Nothing to map: the event is untouched (same bytes, so a resend stays a duplicate).
        let plainLine = #"{"source":"childcare","event_id":"C1","type":"childcare.applied","occurred_at":"2026-04-01T09:00:00+09:00","subject":"K1","data":{"child":{"name":"高橋 陽","birth_date":"2022-05-01"},"guardians":[{"name":"高橋 花子"}],"preferred_facilities":["F1"]}}"#
        let plain = try Event(envelope: try #require(JSONParser.parse(Array(plainLine.utf8)).objectValue))
        #expect(table.apply(to: plain).event == plain)
    }

    @Test func unmappedGaijiNeverAgreesExactlyAndIsNamedInReasons() {
        // Two vendors' identical code point: equal bytes, but not known to be the same character.
        let a = MatchProfile(identity: ["name": "\u{E000}橋 一郎", "birth_date": "1985-06-12"])
        let b = MatchProfile(identity: ["name": "\u{E000}橋 一郎", "birth_date": "1985-06-12"])
        let comparison = MatchComparison(a, b, weights: .standard)
        #expect(comparison.level(.name) == .partial)
        let reasons = MatchReasons.reasons(comparison, record: a, candidate: b)
        #expect(reasons.first == "name: 外字未対応 U+E000 (unmapped gaiji: not compared as a character)")
        // Against the mapped character: one character differs at most, and the reason says why.
        let mapped = MatchProfile(identity: ["name": "髙橋 一郎", "birth_date": "1985-06-12"])
        let other = MatchComparison(a, mapped, weights: .standard, quick: false)
        #expect(other.level(.name) == .partial)
        #expect(MatchReasons.reasons(other, record: a, candidate: mapped).first?.hasPrefix("name: 外字未対応 U+E000") == true)
        // Without 外字 the same names agree exactly.
        let plain = MatchProfile(identity: ["name": "髙橋 一郎", "birth_date": "1985-06-12"])
        #expect(MatchComparison(mapped, plain, weights: .standard).level(.name) == .exact)
    }

    @Test func aMappedGaijiIsFoldedLikeAnyVariant() throws {
        // The library's U+E000 is 髙: mapped at ingest, its patron links to the registry's 高橋 by
        // the usual variant folding, and the reason names the pair.
        let table = try load(Self.table)
        let resident = #"{"source":"resident","event_id":"R1","type":"resident.registered","occurred_at":"2026-04-01T09:00:00+09:00","subject":"000000001","data":{"reason":"move_in","name":"高橋 一郎","name_kana":"タカハシ イチロウ","birth_date":"1985-06-12","sex":"male","address":"東京都千代田区九段南1丁目2番1号","household_no":"H1","relationship":"世帯主"}}"#
        let patron = #"{"source":"library","event_id":"L1","type":"library.patron_registered","occurred_at":"2026-04-03T11:00:00+09:00","subject":"LIB-1","data":{"name":"\uE000橋 一郎","name_kana":"タカハシ イチロウ","birth_date":"1985-06-12","address":"東京都千代田区九段南1丁目2番1号"}}"#
        var projection = Projection()
        projection.apply(try EventLog.event(resident, lsn: 1))
        let raw = try EventLog.event(patron, lsn: 2)
        var mapped = raw
        mapped.event = table.apply(to: raw.event).event
        projection.apply(mapped)
        #expect(projection.uid(source: "library", subject: "LIB-1") == "U0000000001")
        let link = projection.personView("U0000000001")?["links"]?.arrayValue?.last
        #expect(link?["method"] == "match")
        #expect(link?["reasons"]?.arrayValue?.first == "name: 異体字 髙/高 (variant kanji)")
        // Unmapped, the name agrees only partly and the reason says why; kana, birth date and
        // address still link it.
        var unmapped = Projection()
        unmapped.apply(try EventLog.event(resident, lsn: 1))
        unmapped.apply(raw)
        #expect(unmapped.uid(source: "library", subject: "LIB-1") == "U0000000001")
        let reasons = unmapped.personView("U0000000001")?["links"]?.arrayValue?.last?["reasons"]?.arrayValue
        #expect(reasons?.first == "name: 外字未対応 U+E000 (unmapped gaiji: not compared as a character)")
    }

    @Test func anAddressHoldingUnmappedGaijiAgreesAtMostFuzzily() {
        let a = MatchProfile(identity: ["name": "高橋 一郎", "address": "東京都\u{E010}町1-2-3"])
        let b = MatchProfile(identity: ["name": "高橋 一郎", "address": "東京都\u{E010}町1-2-3"])
        let comparison = MatchComparison(a, b, weights: .standard)
        #expect(comparison.level(.address) == .fuzzy)
        #expect(MatchReasons.reasons(comparison, record: a, candidate: b).contains("address: 外字未対応 U+E010 (unmapped gaiji: not compared as a character)"))
        let plain = MatchProfile(identity: ["name": "高橋 一郎", "address": "東京都千代田区1-2-3"])
        #expect(MatchComparison(plain, plain, weights: .standard).level(.address) == .exact)
    }
}
