/// Character-level folding for match keys (contract §3 step 2). Every function returns a new key;
/// nothing here is ever written back to a stored name.
public enum MatchText {
    // MARK: - Width, CP932 and separators

    /// Half-width katakana U+FF66…U+FF9D in order, as full-width katakana.
    private static let halfWidthKana: [Unicode.Scalar] = Array(
        "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
            .unicodeScalars)

    /// Dashes and long-vowel marks that sources and decoders mix up (ー―－‐ｰ- and friends).
    static func isDash(_ value: UInt32) -> Bool {
        switch value {
        case 0x2D, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFF0D, 0x30FC, 0xFF70, 0x2500, 0x2501:
            return true
        default:
            return false
        }
    }

    /// Folds full-width ASCII to ASCII, half-width katakana to full-width (composing ﾞ and ﾟ), the
    /// seven characters CP932 and JIS decoders map differently, and every space to U+0020; drops
    /// variation selectors (IVS sequences keep the base ideograph).
    public static func widthFolded(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0xFE00...0xFE0F, 0xE0100...0xE01EF:
                continue
            case 0x3000, 0x09, 0x0A, 0x0D, 0xA0:
                out.append(" ")
            case 0xFF01...0xFF5E:
                out.append(Unicode.Scalar(value - 0xFEE0)!)
            case 0x301C: out.append("~")  // 〜 WAVE DASH = ～ (CP932 0x8160)
            case 0x2225: out.append("\u{2016}")  // ∥ = ‖
            case 0xFFE0: out.append("\u{A2}")  // ￠
            case 0xFFE1: out.append("\u{A3}")  // ￡
            case 0xFFE2: out.append("\u{AC}")  // ￢
            case 0xFF66...0xFF9D:
                out.append(halfWidthKana[Int(value - 0xFF66)])
            case 0xFF61: out.append("。")
            case 0xFF62: out.append("「")
            case 0xFF63: out.append("」")
            case 0xFF64: out.append("、")
            case 0xFF65: out.append("・")
            case 0xFF9E, 0x3099, 0x309B:
                if let last = out.last, let voiced = voiced(last) { out[out.count - 1] = voiced } else { out.append("゛") }
            case 0xFF9F, 0x309A, 0x309C:
                if let last = out.last, let semi = semiVoiced(last) { out[out.count - 1] = semi } else { out.append("゜") }
            default:
                out.append(scalar)
            }
        }
        return out
    }

    /// The voiced form (濁音) of a kana, if it has one.
    static func voiced(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let value = katakana(scalar).value
        let hiragana = scalar.value != value
        var result: UInt32?
        switch value {
        case 0x30AB, 0x30AD, 0x30AF, 0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD, 0x30BF, 0x30C1,
            0x30C4, 0x30C6, 0x30C8, 0x30CF, 0x30D2, 0x30D5, 0x30D8, 0x30DB:
            result = value + 1
        case 0x30A6: result = 0x30F4
        default: result = nil
        }
        guard let result else { return nil }
        return Unicode.Scalar(hiragana && result != 0x30F4 ? result - 0x60 : result)
    }

    /// The semi-voiced form (半濁音) of a kana, if it has one.
    static func semiVoiced(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let value = katakana(scalar).value
        let hiragana = scalar.value != value
        switch value {
        case 0x30CF, 0x30D2, 0x30D5, 0x30D8, 0x30DB:
            return Unicode.Scalar(hiragana ? value + 2 - 0x60 : value + 2)
        default:
            return nil
        }
    }

    /// Hiragana → katakana (ぁ…ゖ, ゝゞ); anything else unchanged.
    @inline(__always)
    static func katakana(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x3041...0x3096, 0x309D, 0x309E: return Unicode.Scalar(scalar.value + 0x60)!
        default: return scalar
        }
    }

    /// ASCII upper case → lower case.
    @inline(__always)
    static func lower(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 0x20)! : scalar
    }

    /// Whether a scalar separates name parts (space, ・, comma, full stop).
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x30FB, 0x2C, 0x2E, 0x3001, 0x3002, 0xB7: return true
        default: return false
        }
    }

    // MARK: - Kana

    /// Strong kana folding: width, hiragana → katakana, ヂ→ジ, ヅ→ズ, ヵ→カ, ヶ→ケ, ヰ→イ, ヱ→エ,
    /// ヲ→オ, every dash and long-vowel mark → ー, Latin lower case. Separators are kept as one space.
    public static func kanaStrong(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for scalar in widthFolded(text) {
            if isSeparator(scalar) {
                if let last = out.last, last != " " { out.append(" ") }
                continue
            }
            if isDash(scalar.value) {
                out.append("ー")
                continue
            }
            var folded = lower(katakana(scalar))
            switch folded.value {
            case 0x30C2: folded = "ジ"
            case 0x30C5: folded = "ズ"
            case 0x30F5: folded = "カ"
            case 0x30F6: folded = "ケ"
            case 0x30F0: folded = "イ"
            case 0x30F1: folded = "エ"
            case 0x30F2: folded = "オ"
            default: break
            }
            out.append(folded)
        }
        if out.last == " " { out.removeLast() }
        return out
    }

    /// Small katakana → large.
    private static let smallToLarge: [UInt32: UInt32] = [
        0x30A1: 0x30A2, 0x30A3: 0x30A4, 0x30A5: 0x30A6, 0x30A7: 0x30A8, 0x30A9: 0x30AA, 0x30C3: 0x30C4,
        0x30E3: 0x30E4, 0x30E5: 0x30E6, 0x30E7: 0x30E8, 0x30EE: 0x30EF,
    ]

    /// Weak kana folding (住民記録 search rules) over a strong key: 濁音/半濁音 dropped (ガ→カ,
    /// パ→ハ, ヴ→ウ), small → large, long-vowel marks dropped, オウ/オオ → オ (and ウウ → ウ,
    /// エイ → エ), separators dropped.
    public static func kanaWeak(_ strong: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for scalar in strong {
            var value = scalar.value
            if value == 0x20 || value == 0x30FC { continue }
            if let large = smallToLarge[value] { value = large }
            value = unvoiced(value)
            if value == 0x30A6 || value == 0x30AA || value == 0x30A4, let last = out.last?.value {
                // After an O-row kana, ウ and オ lengthen it; after a U-row kana, ウ; after E-row, イ.
                let row = vowelRow(last)
                if (row == 4 && (value == 0x30A6 || value == 0x30AA)) || (row == 2 && value == 0x30A6)
                    || (row == 3 && value == 0x30A4)
                {
                    continue
                }
            }
            out.append(Unicode.Scalar(value)!)
        }
        return out
    }

    /// ガ→カ, パ→ハ, ヴ→ウ, …; other scalars unchanged.
    static func unvoiced(_ value: UInt32) -> UInt32 {
        switch value {
        case 0x30AC, 0x30AE, 0x30B0, 0x30B2, 0x30B4, 0x30B6, 0x30B8, 0x30BA, 0x30BC, 0x30BE, 0x30C0, 0x30C2,
            0x30C5, 0x30C7, 0x30C9, 0x30D0, 0x30D3, 0x30D6, 0x30D9, 0x30DC:
            return value - 1
        case 0x30D1, 0x30D4, 0x30D7, 0x30DA, 0x30DD: return value - 2
        case 0x30F4: return 0x30A6
        default: return value
        }
    }

    /// The vowel row of an unvoiced large katakana: 0 a, 1 i, 2 u, 3 e, 4 o; -1 otherwise.
    static func vowelRow(_ value: UInt32) -> Int {
        switch value {
        case 0x30A2, 0x30AB, 0x30B5, 0x30BF, 0x30CA, 0x30CF, 0x30DE, 0x30E4, 0x30E9, 0x30EF: return 0
        case 0x30A4, 0x30AD, 0x30B7, 0x30C1, 0x30CB, 0x30D2, 0x30DF, 0x30EA: return 1
        case 0x30A6, 0x30AF, 0x30B9, 0x30C4, 0x30CC, 0x30D5, 0x30E0, 0x30E6, 0x30EB: return 2
        case 0x30A8, 0x30B1, 0x30BB, 0x30C6, 0x30CD, 0x30D8, 0x30E1, 0x30EC: return 3
        case 0x30AA, 0x30B3, 0x30BD, 0x30C8, 0x30CE, 0x30DB, 0x30E2, 0x30E8, 0x30ED: return 4
        default: return -1
        }
    }

    // MARK: - Names

    /// Name folding: width, Latin lower case, separators → one space, and, when `variants`,
    /// 旧字体/異体字 → common form. Latin-script names come back with their words in sorted order
    /// (foreign residents' names arrive in either order).
    public static func nameKey(_ text: String, variants: Bool) -> [Unicode.Scalar] {
        var words: [[Unicode.Scalar]] = [[]]
        var latin = true
        for scalar in widthFolded(text) {
            if isSeparator(scalar) || isDash(scalar.value) && scalar.value != 0x30FC {
                if !words[words.count - 1].isEmpty { words.append([]) }
                continue
            }
            let folded = variants ? KanjiVariants.fold(lower(scalar)) : lower(scalar)
            if folded.value > 0x7F { latin = false }
            words[words.count - 1].append(folded)
        }
        if words.last?.isEmpty == true { words.removeLast() }
        if latin && words.count > 1 {
            words.sort { $0.lexicographicallyPrecedes($1) { $0.value < $1.value } }
        }
        var out: [Unicode.Scalar] = []
        for (index, word) in words.enumerated() {
            if index > 0 { out.append(" ") }
            out.append(contentsOf: word)
        }
        return out
    }

    /// The words of a key (split at spaces).
    static func words(_ key: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        key.split(separator: " ")
    }

    /// A key without its spaces.
    static func joined(_ key: [Unicode.Scalar]) -> [Unicode.Scalar] { key.filter { $0 != " " } }

    /// Whether two keys are at most one edit apart (Levenshtein distance ≤ 1: one scalar inserted,
    /// deleted or replaced). Linear, allocation-free.
    static func withinOneEdit(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Bool {
        let (short, long) = a.count <= b.count ? (a, b) : (b, a)
        guard long.count - short.count <= 1 else { return false }
        var i = short.startIndex, j = long.startIndex
        while i < short.endIndex, short[i] == long[j] {
            i += 1
            j += 1
        }
        if i == short.endIndex { return true }  // equal, or one appended
        // First difference: replace (same length) or insert into the shorter (lengths differ).
        if short.count == long.count { i += 1 }
        j += 1
        return short[i...].elementsEqual(long[j...])
    }

    /// Whether two keys are at most `limit` edits apart (Levenshtein distance: scalars inserted,
    /// deleted or replaced). Dynamic programming stopped as soon as a row exceeds the limit; asked only for the few
    /// pairs whose numbers and lengths allow a typo.
    static func withinEdits(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>, limit: Int) -> Bool {
        guard limit >= 0, abs(a.count - b.count) <= limit else { return false }
        if limit == 0 { return a.elementsEqual(b) }
        if limit == 1 { return withinOneEdit(a, b) }
        let x = Array(a), y = Array(b)
        var previous = Array(0...y.count)
        var current = previous
        for i in 1...max(x.count, 1) where !x.isEmpty {
            current[0] = i
            var best = i
            for j in 1...max(y.count, 1) where !y.isEmpty {
                current[j] = min(previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1), previous[j] + 1, current[j - 1] + 1)
                best = min(best, current[j])
            }
            guard best <= limit else { return false }  // every later row is at least this
            swap(&previous, &current)
        }
        return previous[y.count] <= limit
    }

    /// Whether two Latin-script names (folded words, space-separated) agree as people write
    /// names on forms: every word of the shorter name pairs with a different word of the longer
    /// one — equal, an initial of it (`V` / `van`), or close in spelling (Jaro–Winkler ≥ 0.9, both
    /// at least four letters) — with at least two words paired and at least one of them spelt out
    /// (`NGUYEN VAN AN` / `An Nguyen`, `An V. Nguyen`, `Jon Smith` / `John Smith`).
    static func latinNamesAgree(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Bool {
        let x = a.split(separator: 0x20), y = b.split(separator: 0x20)
        let (short, long) = x.count <= y.count ? (x, y) : (y, x)
        guard short.count >= 2 else { return false }
        var used = Array(repeating: false, count: long.count)
        var spelt = 0
        // Equal words first, then close spellings, then initials, so an initial never takes the
        // word another word spells out.
        var pending: [ArraySlice<UInt32>] = []
        for word in short {
            if let index = long.indices.first(where: { !used[$0] && long[$0].elementsEqual(word) }) {
                used[index] = true
                spelt += 1
            } else {
                pending.append(word)
            }
        }
        var initials: [ArraySlice<UInt32>] = []
        for word in pending {
            if word.count >= 4,
                let index = long.indices.first(where: { !used[$0] && long[$0].count >= 4 && jaroWinkler(word, long[$0]) >= 0.9 })
            {
                used[index] = true
                spelt += 1
            } else {
                initials.append(word)
            }
        }
        for word in initials {
            guard let index = long.indices.first(where: { other in
                !used[other] && (word.count == 1 && long[other].first == word.first || long[other].count == 1 && word.first == long[other].first)
            }) else { return false }
            used[index] = true
        }
        return spelt >= 1
    }

    /// Whether a name is written in kana alone (hiragana, katakana of either width, the long-vowel
    /// mark, spaces and middle dots), with at least one kana.
    static func isKanaOnly(_ text: String) -> Bool {
        var kana = false
        for scalar in widthFolded(text) {
            switch scalar.value {
            case 0x3041...0x309F, 0x30A0...0x30FA, 0x30FC...0x30FF: kana = true
            case 0x20, 0x30FB, 0x3000: continue
            default: return false
            }
        }
        return kana
    }

    /// Whether one Latin-script name gives a single word that the other, of two or more words,
    /// spells out (equal, or Jaro–Winkler ≥ 0.9 for words of four letters or more): the other name
    /// left out (`ELTON` / `Elton Maxon`). Initials alone never count.
    static func latinNameWordAgrees(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Bool {
        let x = a.split(separator: 0x20), y = b.split(separator: 0x20)
        let (short, long) = x.count <= y.count ? (x, y) : (y, x)
        guard short.count == 1, long.count >= 2, let word = short.first, word.count >= 2 else { return false }
        return long.contains { $0.elementsEqual(word) || word.count >= 4 && $0.count >= 4 && jaroWinkler(word, $0) >= 0.9 }
    }

    /// Whether two Latin-script names of two words or more each share a word spelt out the same
    /// on both sides (two letters or more), while the names do not agree as a whole
    /// (``latinNamesAgree(_:_:)``, asked first): one of the person's names replaced on one side,
    /// the other kept (`john smith` / `peter smith`, `maria garcia lopez` / `maria fernandez`).
    /// A close spelling is not enough (`maria` / `mario` are two names), nor an initial. The
    /// level this gives (``AgreementLevel/wordOnly``) weighs what the estimate finds: a shared
    /// common surname is weak evidence, among namesakes as among the same person's records.
    static func latinNameWordShared(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Bool {
        let x = a.split(separator: 0x20), y = b.split(separator: 0x20)
        guard x.count >= 2, y.count >= 2 else { return false }
        return x.contains { word in word.count >= 2 && y.contains { $0.elementsEqual(word) } }
    }

    /// How far two Latin-script addresses' words agree (``AddressKey/latinWords(_:)``): the Dice
    /// coefficient 2·agreeing / (words of one + words of the other), 0…1, and whether every number
    /// of the side giving fewer numbers (house, flat, postcode) has its equal on the other. Words
    /// are paired once each: equal words first, then two adjacent words of one side that, joined,
    /// are a word of the other — a space typed inside a word or left out between two (`p lace` /
    /// `place`, `dimenttowers` / `diment towers`; letters only, equal or misspelt as below; the two
    /// count as one word) — then a misspelt word (four letters or more, Jaro–Winkler ≥ 0.9), then
    /// a number with one digit changed (three digits or more), which counts half and does not make
    /// the numbers agree. Also the same Dice coefficient over the words without the numbers
    /// (`wordsShare`: the street and the locality, however the numbers differ), and how many numbers
    /// the side giving fewer gives (`numbers`). A word left out on one side lowers the figure less than a word that
    /// differs, and the order of the words does not matter.
    static func addressWordAgreement(
        _ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>
    ) -> (share: Double, numbersAgree: Bool, wordsShare: Double, numbers: Int) {
        let x = a.split(separator: 0x20), y = b.split(separator: 0x20)
        guard !x.isEmpty, !y.isEmpty else { return (0, false, 0, 0) }
        func isNumber(_ word: ArraySlice<UInt32>) -> Bool { word.first.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        func isWord(_ word: ArraySlice<UInt32>) -> Bool { !word.isEmpty && word.allSatisfy { $0 >= 0x61 && $0 <= 0x7A } }
        func spelt(_ word: ArraySlice<UInt32>, _ other: ArraySlice<UInt32>) -> Bool {
            word.elementsEqual(other) || word.count >= 4 && other.count >= 4 && jaroWinkler(word, other) >= 0.9
        }
        var usedX = Array(repeating: false, count: x.count)
        var usedY = Array(repeating: false, count: y.count)
        var agreeing = 0.0
        var numbersX = 0, numbersY = 0, numbersEqual = 0
        var joined = 0  // pairs of words counted as one
        for word in y where isNumber(word) { numbersY += 1 }
        for (i, word) in x.enumerated() {
            if isNumber(word) { numbersX += 1 }
            if let index = y.indices.first(where: { !usedY[$0] && y[$0].elementsEqual(word) }) {
                usedY[index] = true
                usedX[i] = true
                agreeing += 1
                if isNumber(word) { numbersEqual += 1 }
            }
        }
        // Every agreement below but a number's pairs words (not numbers): what agrees of the words
        // alone is `agreeing` less the numbers' part.
        var numbersAgreeing = Double(numbersEqual)
        // A space typed inside a word, or left out between two: either side's adjacent pair.
        func join(_ first: [ArraySlice<UInt32>], _ usedFirst: inout [Bool], _ second: [ArraySlice<UInt32>], _ usedSecond: inout [Bool]) {
            var i = 0
            while i + 1 < first.count {
                defer { i += 1 }
                guard !usedFirst[i], !usedFirst[i + 1], isWord(first[i]), isWord(first[i + 1]) else { continue }
                let whole = ArraySlice(Array(first[i]) + Array(first[i + 1]))
                guard let index = second.indices.first(where: { !usedSecond[$0] && isWord(second[$0]) && spelt(whole, second[$0]) })
                else { continue }
                usedFirst[i] = true
                usedFirst[i + 1] = true
                usedSecond[index] = true
                agreeing += 1
                joined += 1
            }
        }
        join(x, &usedX, y, &usedY)
        join(y, &usedY, x, &usedX)
        for (i, word) in x.enumerated() where !usedX[i] {
            if isNumber(word) {
                guard word.count >= 3,
                    let index = y.indices.first(where: {
                        !usedY[$0] && isNumber(y[$0]) && y[$0].count == word.count && zip(y[$0], word).filter { $0 != $1 }.count == 1
                    })
                else { continue }
                usedY[index] = true
                agreeing += 0.5
                numbersAgreeing += 0.5
            } else if word.count >= 4,
                let index = y.indices.first(where: { !usedY[$0] && !isNumber(y[$0]) && y[$0].count >= 4 && jaroWinkler(word, y[$0]) >= 0.9 })
            {
                usedY[index] = true
                agreeing += 1
            }
        }
        let words = x.count - numbersX + y.count - numbersY - joined
        let wordsShare = words > 0 ? 2 * (agreeing - numbersAgreeing) / Double(words) : 0
        return (
            2 * agreeing / Double(x.count + y.count - joined), numbersEqual == min(numbersX, numbersY), wordsShare,
            min(numbersX, numbersY)
        )
    }

    /// Jaro–Winkler similarity of two keys (0…1; prefix scale 0.1 over at most four scalars).
    static func jaroWinkler(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Double {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty, !y.isEmpty else { return x.isEmpty && y.isEmpty ? 1 : 0 }
        let window = max(0, max(x.count, y.count) / 2 - 1)
        var matchedX = Array(repeating: false, count: x.count), matchedY = Array(repeating: false, count: y.count)
        var matches = 0
        for i in x.indices {
            let low = max(0, i - window), high = min(y.count, i + window + 1)
            guard low < high else { break }  // past the end of the shorter key
            for j in low..<high where !matchedY[j] && x[i] == y[j] {
                matchedX[i] = true
                matchedY[j] = true
                matches += 1
                break
            }
        }
        guard matches > 0 else { return 0 }
        var transpositions = 0
        var j = 0
        for i in x.indices where matchedX[i] {
            while !matchedY[j] { j += 1 }
            if x[i] != y[j] { transpositions += 1 }
            j += 1
        }
        let m = Double(matches)
        let jaro = (m / Double(x.count) + m / Double(y.count) + (m - Double(transpositions) / 2) / m) / 3
        var prefix = 0
        while prefix < min(4, x.count, y.count), x[prefix] == y[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }

    /// How many edits an address key of `length` scalars may differ by and still be a typo of the
    /// other: none below 8 scalars (a short key one edit from another is another place: 九段南1-2 /
    /// 九段北1-2), one up to 13, two from 14.
    static func typoLimit(_ length: Int) -> Int {
        length >= 14 ? 2 : length >= 8 ? 1 : 0
    }

    /// Whether the shorter of two address keys (at least four scalars, not all ASCII) is a proper
    /// suffix of the longer: the city or town written on one side only.
    static func isSuffix(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Bool {
        let (short, long) = a.count <= b.count ? (a, b) : (b, a)
        return short.count >= 4 && long.count > short.count && long[(long.endIndex - short.count)...].elementsEqual(short)
            && short.contains { $0 > 0x7F }
    }

    /// A string from scalars.
    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

extension MatchText {
    /// ``jaroWinkler(_:_:)`` of two strings' scalars (tests).
    public static func jaroWinklerForTests(_ a: String, _ b: String) -> Double {
        jaroWinkler(ArraySlice(a.unicodeScalars.map(\.value)), ArraySlice(b.unicodeScalars.map(\.value)))
    }
}
