/// Per-field reasons an official can sign off, in Japanese with an English gloss (contract §3:
/// `name: 異体字 髙/高`, `birth_date: exact`).
///
/// Reasons never quote an address, a birth date or a 個人番号: only names (which the official
/// compares anyway) appear, and a protected person's address agreement is withheld too.
public enum MatchReasons {
    /// The reasons for one comparison, in field order, then the decision notes.
    /// - Parameters:
    ///   - comparison: the comparison.
    ///   - record: the record's profile.
    ///   - candidate: the candidate's profile.
    ///   - notes: decision notes (twins rule, ambiguity, 再転入), already worded.
    public static func reasons(
        _ comparison: MatchComparison, record: MatchProfile, candidate: MatchProfile, notes: [String] = []
    ) -> [String] {
        var reasons: [String] = []
        for field in MatchField.allCases {
            let level = comparison.level(field)
            if field == .sex && level == .missing { continue }
            reasons.append("\(field.key): " + text(field, level, comparison, record, candidate))
        }
        if comparison.sameHousehold { reasons.append("household: 児童と同一世帯 (same household as the child)") }
        return reasons + notes
    }

    static func text(
        _ field: MatchField, _ level: AgreementLevel, _ comparison: MatchComparison, _ a: MatchProfile, _ b: MatchProfile
    ) -> String {
        if level == .missing {
            if field == .name, !a.name.isEmpty, !b.name.isEmpty { return "かな表記のみ 読みで比較 (written in kana only: compared as the reading)" }
            return "記載なし (missing)"
        }
        if field == .address && (a.isProtected || b.isProtected) { return "支援措置のため非表示 (withheld: protected person)" }
        switch (field, level) {
        case (_, .exact): return "一致 (exact)"
        case (.name, .normalised): return "表記ゆれ 全角/半角・大文字/小文字・語順 (width, case or order)"
        case (.name, .variant): return "異体字 " + variantPairs(a.name, b.name) + " (variant kanji)"
        case (.name, .fuzzy): return "語順・ミドルネーム・イニシャル・綴りの近さで一致 (word order, middle name, initials or close spelling)"
        case (.name, .partial) where a.signature.nameLatin && b.signature.nameLatin && !MatchText.withinOneEdit(a.keys.part(.nameFolded), b.keys.part(.nameFolded)):
            return "片方の名前のみ記載 (one side gives one of the names only)"
        case (.name, .partial) where a.signature.nameGaiji || b.signature.nameGaiji:
            return "外字未対応 " + gaijiCodes(a.name.unicodeScalars.map(\.value), b.name.unicodeScalars.map(\.value))
                + " (unmapped gaiji: not compared as a character)"
        case (.name, .partial): return "1文字違い " + variantPairs(a.name, b.name) + " (one character differs)"
        case (.name, .wordOnly): return "名前の一語のみ一致 他の語は相違 (one word of the name agrees, another differs)"
        case (.name, .disagree) where comparison.surnameOnly: return "姓のみ一致 (surname only)"
        case (.nameKana, .normalised): return kanaNote(a.kana, b.kana)
        case (.nameKana, .fuzzy): return "濁音・小書き・長音を除いて一致 (ignoring voiced marks, small kana, long vowels)"
        case (.nameKana, .partial): return "1文字違い (one character differs)"
        case (.birthDate, .normalised): return "月日の入れ替わり (day and month swapped)"
        case (.birthDate, .variant): return "隣り合う数字の入れ替わり (two digits transposed)"
        case (.birthDate, .fuzzy): return "年が1・10・100違い (year off by 1, 10 or 100)"
        case (.birthDate, .partial): return "1桁違い (one digit off)"
        case (.address, .fuzzy) where a.signature.addressGaiji || b.signature.addressGaiji:
            return "外字未対応 " + gaijiCodes(a.keys.part(.address), b.keys.part(.address)) + " (unmapped gaiji: not compared as a character)"
        case (.address, .fuzzy) where a.signature.addressLatin && b.signature.addressLatin:
            return "語の大半が一致 (most words agree)"
        case (.address, .partial) where a.signature.addressLatin && b.signature.addressLatin && comparison.splitsAddress:
            return "語の大半か番号がすべて一致 (most words or every number agree: another house, or the street written otherwise)"
        case (.address, .partial) where a.signature.addressLatin && b.signature.addressLatin:
            return "一部の語が一致 (some words agree: street or locality)"
        case (.address, .wordOnly): return "一部の語が一致 (some words agree: street or locality)"
        case (.address, .fuzzy): return "番地は一致 表記に誤字 (numbers agree; a typo in the rest)"
        case (.address, .normalised): return "正規化して一致 丁目・番地・全角 (normalised)"
        case (.address, .variant): return "都道府県・市区町村の省略 (prefecture or city left out)"
        case (.address, .partial): return "同じ町域 (same area)"
        case (.address, .disagree): return "不一致 転居の可能性 (differs; may have moved)"
        default: return "不一致 (differs)"
        }
    }

    /// The Private Use code points of two names, each once (`U+E000 U+E001`).
    static func gaijiCodes(_ a: some Sequence<UInt32>, _ b: some Sequence<UInt32>) -> String {
        var codes: [UInt32] = []
        for value in Array(a) + Array(b) where GaijiTable.isPrivateUse(value) && !codes.contains(value) {
            codes.append(value)
        }
        return codes.map(GaijiTable.format).joined(separator: " ")
    }

    /// `髙/高` for each position where two names of equal length differ (after width folding).
    static func variantPairs(_ a: String, _ b: String) -> String {
        let x = MatchText.widthFolded(a).filter { $0 != " " }
        let y = MatchText.widthFolded(b).filter { $0 != " " }
        guard x.count == y.count else { return MatchText.string(x) + "/" + MatchText.string(y) }
        var pairs: [String] = []
        for index in x.indices where x[index] != y[index] {
            pairs.append(MatchText.string([x[index]]) + "/" + MatchText.string([y[index]]))
        }
        return pairs.joined(separator: " ")
    }

    /// What made two kana strings differ before strong folding.
    static func kanaNote(_ a: String, _ b: String) -> String {
        let scalars = Array(a.unicodeScalars) + Array(b.unicodeScalars)
        var notes: [String] = []
        if scalars.contains(where: { (0xFF61...0xFF9F).contains($0.value) }) { notes.append("半角カナ (half-width kana)") }
        if scalars.contains(where: { (0x3041...0x309F).contains($0.value) }) {
            notes.append("ひらがな/カタカナ (hiragana/katakana)")
        }
        if notes.isEmpty { notes.append("表記ゆれ (spelling variant)") }
        return notes.joined(separator: "・")
    }

    /// Decision notes.
    public static let twinsNote = "decision: 名が異なるため自動連携せず 双子の可能性 (given names differ; never auto-linked)"
    /// Decision note for a link whose given names differ, made because no one else born that day
    /// shares the candidate's surname or address (no twin to confuse it with).
    public static let noSiblingNote = "decision: 名は異なるが 同じ生年月日で同姓・同住所の者なし (given names differ; no one else born that day with this surname or address)"
    /// Decision note for a close second candidate.
    public static let ambiguousNote = "decision: 他の候補と僅差 (another candidate scores close)"
    /// Decision note for 再転入.
    public static let returnNote = "decision: 再転入の可能性 転出・死亡者と一致 (may be a returning resident; never merged automatically)"
}
