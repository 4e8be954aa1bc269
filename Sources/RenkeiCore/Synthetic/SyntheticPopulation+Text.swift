// MARK: - Text corruption helpers and the generator's random source

extension SyntheticPopulation {
    static let modernToOld: [Unicode.Scalar: String] = [
        "高": "髙", "崎": "﨑", "斎": "齋", "辺": "邊", "沢": "澤", "浜": "濱", "広": "廣", "桜": "櫻", "島": "嶋",
        "国": "國",
    ]
    static let oldToModern: [Unicode.Scalar: String] = [
        "髙": "高", "﨑": "崎", "齋": "斎", "齊": "斉", "邊": "辺", "澤": "沢", "濱": "浜", "廣": "広", "櫻": "桜",
        "嶋": "島", "國": "国", "德": "徳",
    ]

    static func mapScalars(_ text: String, _ table: [Unicode.Scalar: String]) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if let replacement = table[scalar] { out += replacement } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// Full-width katakana → half-width (voiced marks as separate ﾞ/ﾟ).
    static func halfWidth(_ text: String) -> String {
        let full = Array("ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン".unicodeScalars)
        var index: [UInt32: UInt32] = [:]
        for (offset, scalar) in full.enumerated() { index[scalar.value] = 0xFF66 + UInt32(offset) }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if let half = index[value] {
                out.append(Unicode.Scalar(half)!)
            } else if let base = index[MatchText.unvoiced(value)] {
                out.append(Unicode.Scalar(base)!)
                let semi = [0x30D1, 0x30D4, 0x30D7, 0x30DA, 0x30DD].contains(value)
                out.append(semi ? "\u{FF9F}" : "\u{FF9E}")
            } else if scalar == " " {
                out.append(" ")
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `1丁目2番3号` → `1-2-3`.
    static func dashed(_ text: String) -> String {
        var out = text
        for (from, to) in [("丁目", "-"), ("番地", "-"), ("番", "-"), ("号", "")] {
            out = out.split(separator: from, omittingEmptySubsequences: false).joined(separator: to)
        }
        return out
    }

    /// ASCII digits and `-` → full-width (０…９, －).
    static func fullWidthDigits(_ text: String) -> String {
        MatchText.string(text.unicodeScalars.map { scalar in
            if ("0"..."9").contains(scalar) { return Unicode.Scalar(scalar.value + 0xFEE0)! }
            return scalar == "-" ? "－" : scalar
        })
    }
}

/// SplitMix64: small, fast, and the same sequence on every machine (the synthetic populations,
/// estimation's sampling and the benchmarks' own corruptions all draw from it).
public struct SplitMix: Sendable {
    private var state: UInt64

    /// Starts the sequence of `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// `true` with the given probability.
    public mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < probability }

    /// A skewed index in 0..<count (common surnames are common: the first is about 3%, close to
    /// 佐藤's share in Japan).
    mutating func zipf(_ count: Int) -> Int {
        let u = Double(next() >> 11) / Double(1 << 53)
        let quarter = u.squareRoot().squareRoot()
        return min(count - 1, Int(Double(count) * u * quarter * quarter.squareRoot()))
    }
}
