import RenkeiCore
import Testing

/// Each normalisation rule of contract §3 step 2, on match keys only.
@Suite struct NormalizationTests {
    func kana(_ text: String) -> String { MatchTextTesting.string(MatchText.kanaStrong(text)) }
    func weak(_ text: String) -> String { MatchTextTesting.string(MatchText.kanaWeak(MatchText.kanaStrong(text))) }
    func name(_ text: String) -> String { MatchTextTesting.string(MatchText.nameKey(text, variants: true)) }
    func address(_ text: String) -> String { MatchTextTesting.string(AddressKey.key(text)) }

    @Test func halfWidthAndHiraganaKana() {
        #expect(kana("ﾀｶﾊｼ ｲﾁﾛｳ") == "タカハシ イチロウ")
        #expect(kana("たかはし　ようた") == "タカハシ ヨウタ")
        #expect(kana("ｶﾞｸ ﾊﾟﾝ") == "ガク パン")
    }

    @Test func voicedMarksSmallKanaAndDashes() {
        #expect(kana("ミチヂ ツヅキ") == kana("ミチジ ツズキ"))
        #expect(kana("ヶ") == kana("ケ"))
        for dash in ["ー", "―", "－", "‐", "ｰ", "-"] { #expect(kana("コ\(dash)ジ") == "コージ") }
    }

    @Test func weakRules() {
        #expect(weak("サイトウ") == weak("サイトー"))
        #expect(weak("オオノ") == weak("オーノ"))
        #expect(weak("オウノ") == weak("オオノ"))
        #expect(weak("ガク") == weak("カク"))
        #expect(weak("キョウコ") == weak("キヨコ"))
        #expect(kana("サイトウ") != kana("サイトー"))
    }

    @Test func variantKanjiAndCompatibilityIdeographs() {
        for (variant, common) in [
            ("髙橋", "高橋"), ("山\u{FA11}", "山崎"), ("齋藤", "斎藤"), ("齊藤", "斎藤"), ("渡邊", "渡辺"), ("渡邉", "渡辺"),
            ("澤田", "沢田"), ("濱田", "浜田"), ("廣瀬", "広瀬"), ("櫻井", "桜井"), ("嶋田", "島田"), ("國分", "国分"),
            ("會田", "会田"), ("德永", "徳永"), ("條", "条"),
        ] {
            #expect(name(variant) == name(common), "\(variant)")
        }
        // Storage keeps code points: the key is separate from the stored string.
        let stored = "山\u{FA11}"
        #expect(Array(stored.unicodeScalars).count == 2)
        #expect(stored.unicodeScalars.last?.value == 0xFA11)
    }

    @Test func latinCaseAndOrder() {
        #expect(name("SMITH John") == name("john smith"))
        #expect(name("ＳＭＩＴＨ　Ｊｏｈｎ") == name("John Smith"))
        #expect(name("高橋 一郎") == name("高橋　一郎"))
    }

    @Test func cp932Pairs() {
        #expect(MatchText.widthFolded("〜") == MatchText.widthFolded("～"))
        #expect(MatchText.widthFolded("￠£¬") == MatchText.widthFolded("¢￡￢"))
        #expect(address("1−2") == address("1－2"))
    }

    @Test func addresses() {
        let registry = address("東京都千代田区九段南1丁目2番1号")
        #expect(address("千代田区九段南１－２－１") == registry)
        #expect(address("東京都千代田区九段南一丁目2番1号") == registry)
        #expect(address("東京都千代田区九段南1-2-1") == registry)
        #expect(address("千代田区一番町10番地2") == address("東京都千代田区一番町10-2"))
        #expect(address("霞ヶ関1-1") == address("霞が関1-1"))
        #expect(address("霞ケ関1-1") == address("霞が関1-1"))
        #expect(address("東京都千代田区九段南1丁目2番1号") != address("東京都千代田区九段南1丁目2番2号"))
        // 千代田 and 九段 are place names, not numbers.
        #expect(registry.hasPrefix("千代田区九段南"))
    }

    @Test func datesAllowTypicalErrors() throws {
        let base = MatchProfile(identity: ["name": "山田 太郎", "birth_date": "1985-06-12"])
        for (date, level) in [
            ("1985-06-12", AgreementLevel.exact), ("1985-12-06", .normalised), ("1985-06-13", .partial),
            ("1958-06-12", .variant), ("1990-01-01", .disagree),
        ] {
            let other = MatchProfile(identity: ["name": "山田 太郎", "birth_date": .string(date)])
            #expect(MatchComparison(base, other, weights: .standard).level(.birthDate) == level, "\(date)")
        }
    }
}

/// Scalars to a String, for readable expectations.
enum MatchTextTesting {
    static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
