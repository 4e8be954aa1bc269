/// Address folding for match keys (contract §3 step 2): full/half width, 漢数字 → digits,
/// `1丁目2番3号` = `1-2-3` = `１－２－３`, `番地`/`の` as separators, ヶ/ケ/が/ガ/ヵ alike, and the
/// prefecture dropped (sources often leave it out). Keys only: stored addresses are never changed.
public enum AddressKey {
    /// The 47 prefectures (都道府県), as written at the start of an address.
    static let prefectures: [[Unicode.Scalar]] = [
        "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県",
        "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県",
        "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県",
        "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県",
        "宮崎県", "鹿児島県", "沖縄県",
    ].map { Array($0.unicodeScalars) }

    /// The digit value of a 漢数字, or `nil`.
    static func kanjiDigit(_ scalar: Unicode.Scalar) -> Int? {
        switch scalar {
        case "〇", "零": return 0
        case "一", "壱": return 1
        case "二", "弐": return 2
        case "三", "参": return 3
        case "四": return 4
        case "五": return 5
        case "六": return 6
        case "七": return 7
        case "八": return 8
        case "九": return 9
        default: return nil
        }
    }

    /// The folded key of an address.
    public static func key(_ address: String) -> [Unicode.Scalar] {
        var scalars = japaneseOrder(MatchText.widthFolded(address)).filter { !MatchText.isSeparator($0) || $0 == "・" }
        for prefecture in prefectures where scalars.starts(with: prefecture) {
            scalars.removeFirst(prefecture.count)
            break
        }
        scalars = kanjiNumerals(scalars)
        var out: [Unicode.Scalar] = []
        var index = 0
        func lastIsDigit() -> Bool { out.last.map { ("0"..."9").contains($0) } ?? false }
        func dash() { if out.last != "-" { out.append("-") } }
        while index < scalars.count {
            let scalar = scalars[index]
            let next = index + 1 < scalars.count ? scalars[index + 1] : nil
            if MatchText.isDash(scalar.value) || scalar == "~" {
                if lastIsDigit() || out.last == "-" { dash() } else { out.append(scalar == "~" ? "~" : "ー") }
            } else if scalar == "丁", next == "目", lastIsDigit() {
                dash()
                index += 1
            } else if scalar == "番", next == "地", lastIsDigit() {
                dash()
                index += 1
            } else if (scalar == "番" || scalar == "号" || scalar == "の" || scalar == "ノ"), lastIsDigit() {
                dash()
            } else if scalar == "ヶ" || scalar == "ケ" || scalar == "が" || scalar == "ガ" {
                out.append("ヶ")
            } else {
                out.append(KanjiVariants.fold(MatchText.lower(scalar)))
            }
            index += 1
        }
        while out.last == "-" { out.removeLast() }
        return out
    }

    /// The words of an address in Latin script — `25 Pike Place, Seattle WA 98101` →
    /// `25 pike place seattle wa 98101` — lower-cased and width-folded, split at spaces and
    /// punctuation and between digits and letters (`12b` → `12 b`), one space between words; empty
    /// when the address holds anything but ASCII letters, digits and punctuation (Japanese
    /// addresses are compared by ``key(_:)`` alone).
    public static func latinWords(_ address: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var previous: WordScalar = .separator
        for scalar in MatchText.widthFolded(address) {
            guard scalar.value < 0x80 else { return [] }
            let lowered = MatchText.lower(scalar)
            let kind: WordScalar =
                ("0"..."9").contains(lowered) ? .digit : ("a"..."z").contains(lowered) ? .letter : .separator
            if kind == .separator {
                previous = .separator
                continue
            }
            if !out.isEmpty, kind != previous { out.append(" ") }
            out.append(lowered)
            previous = kind
        }
        return out
    }

    /// What a scalar of a Latin address is, for splitting it into words.
    private enum WordScalar { case digit, letter, separator }

    /// 十, 百 or 千.
    static func isKanjiUnit(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "十" || scalar == "百" || scalar == "千"
    }

    /// What follows a number in an address: 丁, 番, 号, 条, の or "-".
    static func isCounterAfterNumber(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "丁", "番", "号", "条", "の", "-": return true
        default: return false
        }
    }

    /// Replaces runs of 漢数字 (with 十, 百, 千) in number position by decimal digits: 二十三 → 23,
    /// 一〇二 → 102; 千代田 and 九段 stay as they are.
    static func kanjiNumerals(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var index = 0
        while index < scalars.count {
            var end = index
            while end < scalars.count, kanjiDigit(scalars[end]) != nil || isKanjiUnit(scalars[end]) {
                end += 1
            }
            guard end > index else {
                out.append(scalars[index])
                index += 1
                continue
            }
            let run = scalars[index..<end]
            // Only numbers in address position: before 丁目/番/号/条/の or a dash, or at the end.
            let next = end < scalars.count ? scalars[end] : nil
            let numeric = next.map { isCounterAfterNumber($0) || MatchText.isDash($0.value) } ?? true
            guard numeric else {
                out.append(contentsOf: run)
                index = end
                continue
            }
            var value = 0
            if run.contains(where: isKanjiUnit) {
                var section = 0
                for scalar in run {
                    if let digit = kanjiDigit(scalar) {
                        section = section * 10 + digit
                    } else {
                        let unit = scalar == "十" ? 10 : scalar == "百" ? 100 : 1000
                        value += (section == 0 ? 1 : section) * unit
                        section = 0
                    }
                }
                value += section
                out.append(contentsOf: String(value).unicodeScalars)
            } else {
                for scalar in run { out.append(contentsOf: String(kanjiDigit(scalar)!).unicodeScalars) }
            }
            index = end
        }
        return out
    }

    /// A Japanese address written in Western order, as foreign residents fill in forms —
    /// `22-36-6 小入, 長生郡一宮町, 愛知県` — back in Japanese order (`愛知県長生郡一宮町小入22-36-6`):
    /// the comma-separated parts reversed and the leading number moved after the town. Only for
    /// text that starts with a digit, has a comma and is not all ASCII (Latin addresses keep
    /// their order); anything else is returned as it is.
    static func japaneseOrder(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard let first = scalars.first, ("0"..."9").contains(first), scalars.contains(where: { $0.value > 0x7F }),
            scalars.contains(where: { $0 == "," || $0 == "、" })
        else { return scalars }
        let parts = scalars.split { $0 == "," || $0 == "、" }.map { Array($0.drop { $0 == " " }) }
        guard parts.count >= 2, var head = parts.first else { return scalars }
        let numberEnd = head.firstIndex { !("0"..."9").contains($0) && !MatchText.isDash($0.value) && $0 != " " } ?? head.endIndex
        let number = head[..<numberEnd].filter { $0 != " " }
        head = Array(head[numberEnd...])
        var out: [Unicode.Scalar] = []
        for part in parts.dropFirst().reversed() { out.append(contentsOf: part.filter { $0 != " " }) }
        out.append(contentsOf: head.filter { $0 != " " })
        out.append(contentsOf: number)
        return out
    }

    /// The part of a key before its first digit (prefecture gone): city and town, for
    /// "same area" agreement.
    static func area(_ key: [Unicode.Scalar]) -> ArraySlice<Unicode.Scalar> {
        let end = key.firstIndex { ("0"..."9").contains($0) } ?? key.endIndex
        return key[..<end]
    }
}
