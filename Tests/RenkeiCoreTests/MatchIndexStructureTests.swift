import Testing

@testable import RenkeiCore

/// The compact structures under the linker, checked against plain reference models on random
/// operations: the block table, one-edit agreement and its sketch pre-filter, packed dates.
@Suite struct MatchIndexStructureTests {
    /// A small deterministic generator (splitmix64).
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test func blockTableAgreesWithASetPerKey() {
        var random = Random(state: 7)
        var table = BlockTable()
        func digest(_ record: UInt32) -> MatchDigest {
            var signature = MatchSignature()
            signature.nameExact = UInt64(record) &+ 1
            return MatchDigest(signature)
        }
        var model: [UInt64: Set<UInt32>] = [:]
        for _ in 0..<20_000 {
            let key = UInt64(random.next(40))
            let record = UInt32(random.next(300))
            if random.next(3) == 0 {
                table.remove(record, from: key)
                model[key]?.remove(record)
            } else if model[key]?.contains(record) != true {  // the index never inserts a pair twice
                table.insert(record, digest(record), into: key, digestOf: digest)
                model[key, default: []].insert(record)
            }
        }
        for key in 0..<UInt64(40) {
            var found: [UInt32] = []
            table.forEach(in: key, ifAtMost: .max) { record, listed in
                found.append(record)
                #expect(listed == nil || listed == digest(record), "a listed record keeps its own digest")
            }
            #expect(found.sorted() == (model[key] ?? []).sorted(), "key \(key)")
            #expect(Set(found).count == found.count, "key \(key) lists a record twice")
            let size = model[key]?.count ?? 0
            if size > 1 {
                var limited = 0
                table.forEach(in: key, ifAtMost: size - 1) { _, _ in limited += 1 }
                #expect(limited == 0, "a block over the limit is skipped whole")
            }
        }
    }

    /// Levenshtein distance, the textbook way.
    static func distance(_ a: [UInt32], _ b: [UInt32]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    @Test func oneEditAgreementAndItsSketchMatchLevenshtein() {
        var random = Random(state: 11)
        let alphabet: [UInt32] = [0x30A2, 0x30AB, 0x30B5, 0x9AD9, 0x9AD8, 0x5D0E, 0x61, 0x20BB7]
        var withinOne = 0
        for _ in 0..<20_000 {
            let a = (0..<random.next(6)).map { _ in alphabet[random.next(alphabet.count)] }
            var b = a
            for _ in 0..<random.next(3) {
                switch random.next(3) {
                case 0 where !b.isEmpty: b[random.next(b.count)] = alphabet[random.next(alphabet.count)]
                case 1: b.insert(alphabet[random.next(alphabet.count)], at: random.next(b.count + 1))
                default: if !b.isEmpty { b.remove(at: random.next(b.count)) }
                }
            }
            let expected = Self.distance(a, b) <= 1
            #expect(MatchText.withinOneEdit(a[...], b[...]) == expected, "\(a) \(b)")
            if expected {
                withinOne += 1
                let x = MatchSignature.Sketch(a.map { Unicode.Scalar($0)! })
                let y = MatchSignature.Sketch(b.map { Unicode.Scalar($0)! })
                #expect(a.isEmpty || b.isEmpty || x.mayBeOneEditFrom(y), "the sketch must never rule out \(a) \(b)")
            }
        }
        #expect(withinOne > 1_000, "the generator should produce many near pairs")
    }

    @Test func packedDatesKeepTheirDigitsAndRefuseOtherLengths() {
        #expect(MatchProfile.packedDate("1985-06-12") == 0x3139_3835_3036_3132)
        #expect(MatchProfile.packedDate("19850612") == MatchProfile.packedDate("1985-06-12"))
        #expect(MatchProfile.packedDate("1985-06") == 0)
        #expect(MatchProfile.packedDate("1985-06-120") == 0)
        #expect(MatchComparison.date(MatchProfile.packedDate("1985-06-12"), MatchProfile.packedDate("1985-12-06")) == .normalised)
        #expect(MatchComparison.date(MatchProfile.packedDate("1985-06-12"), MatchProfile.packedDate("1985-06-21")) == .variant)
        #expect(MatchComparison.date(MatchProfile.packedDate("1985-06-12"), MatchProfile.packedDate("1958-06-21")) == .disagree)
        #expect(MatchComparison.date(0, MatchProfile.packedDate("1985-06-12")) == .missing)
    }

    /// Date agreement digit by digit, the way it was first written (an array of differing positions).
    static func referenceDate(_ a: UInt64, _ b: UInt64) -> AgreementLevel {
        guard a != 0, b != 0 else { return .missing }
        if a == b { return .exact }
        if a >> 32 == b >> 32, (a >> 16) & 0xFFFF == b & 0xFFFF, a & 0xFFFF == (b >> 16) & 0xFFFF { return .normalised }
        func digit(_ value: UInt64, _ index: Int) -> UInt64 { (value >> UInt64(56 - 8 * index)) & 0xFF }
        let differing = (0..<8).filter { digit(a, $0) != digit(b, $0) }
        let year = { (value: UInt64) in (0..<4).reduce(0) { $0 * 10 + Int(digit(value, $1)) - 0x30 } }
        if differing.allSatisfy({ $0 < 4 }), [1, 10, 100].contains(abs(year(a) - year(b))) { return .fuzzy }
        if differing.count == 1 { return .partial }
        if differing.count == 2, differing[1] == differing[0] + 1, digit(a, differing[0]) == digit(b, differing[1]),
            digit(a, differing[1]) == digit(b, differing[0])
        {
            return .variant
        }
        return .disagree
    }

    @Test func dateAgreementMatchesTheDigitByDigitReference() {
        var random = Random(state: 5)
        func date(_ digits: [Int]) -> UInt64 { digits.reduce(0) { $0 << 8 | UInt64(0x30 + $1) } }
        for _ in 0..<50_000 {
            // Mostly near pairs (one or two digits changed, swapped or transposed), some strangers.
            let a = (0..<8).map { _ in random.next(10) }
            var b = a
            switch random.next(4) {
            case 0: b[random.next(8)] = random.next(10)
            case 1:
                let i = random.next(7)
                b.swapAt(i, i + 1 + (random.next(3) == 0 ? min(random.next(3), 6 - i) : 0))
            case 2: (b[4], b[5], b[6], b[7]) = (a[6], a[7], a[4], a[5])
            default: b = (0..<8).map { _ in random.next(10) }
            }
            if random.next(10) == 0 { b[random.next(8)] = random.next(10) }
            let x = date(a)
            let y = date(b)
            #expect(MatchComparison.date(x, y) == Self.referenceDate(x, y), "\(a) \(b)")
        }
        #expect(MatchComparison.date(0x3139_3835_3036_3132, 0x3139_3835_3036_3231) == .variant)
        #expect(MatchComparison.date(0x3139_3835_3036_3132, 0x3139_3835_3036_3233) == .disagree)
    }

    @Test func replacingAndRemovingProfilesUpdatesEveryBlock() {
        var index = MatchIndex()
        let before: JSONObject = ["name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1990-01-02", "address": "新宿区西新宿1-1-1"]
        let after: JSONObject = ["name": "鈴木 花子", "name_kana": "スズキ ハナコ", "birth_date": "1990-01-02", "address": "新宿区西新宿1-1-1"]
        index.set(3, MatchProfile(identity: before, standing: .active))
        index.set(4, MatchProfile(identity: before, standing: .active))
        #expect(index.candidates(MatchProfile(identity: before)) == [3, 4])
        index.set(3, MatchProfile(identity: after, standing: .active))
        // Same birth date: both remain candidates of either name; the kana and name blocks moved.
        #expect(index.candidates(MatchProfile(identity: ["name": "鈴木 花子"])) == [3])
        #expect(index.candidates(MatchProfile(identity: ["name": "山田 花子"])) == [4])
        index.set(4, nil)
        #expect(index.candidates(MatchProfile(identity: before)) == [3])
        #expect(index.profile(4) == nil)
        #expect(index.profile(3)?.name == "鈴木 花子")
        #expect(index.profile(3)?.kana == "スズキ ハナコ")
        #expect(index.count == 1)
    }
}
