/// A deterministic synthetic population with known truth, for tests and `ops/bench link`:
/// households of residents (Japanese names with readings, foreign residents in Latin script,
/// twins), and source records derived from them with realistic corruption (異体字, half-width or
/// hiragana kana, typos, missing fields, moved or re-written addresses, date errors), plus
/// records of people who are not residents at all.
public struct SyntheticPopulation: Sendable {
    /// One generated resident: registry identity, household, and whether they have a twin.
    public struct Resident: Sendable {
        /// Identity fields as the registry holds them.
        public var identity: JSONObject
        /// The household number.
        public var household: String
        /// The index of their twin in ``residents``, if any.
        public var twin: Int?
    }

    /// One derived source record and the resident it belongs to (`nil`: not a resident).
    public struct Record: Sendable {
        /// Identity fields as the source gives them.
        public var identity: JSONObject
        /// The true resident index.
        public var truth: Int?
    }

    /// The residents, in registration order (index 0 is the first uid).
    public private(set) var residents: [Resident] = []
    private var random: SplitMix

    /// Generates about `count` residents in households.
    /// - Parameters:
    ///   - count: the number of residents.
    ///   - seed: the generator seed (same seed, same population).
    public init(residents count: Int, seed: UInt64 = 2026) {
        random = SplitMix(seed: seed)
        residents.reserveCapacity(count)
        var householdNumber = 0
        while residents.count < count {
            householdNumber += 1
            makeHousehold("H" + String(householdNumber), limit: count - residents.count)
        }
    }

    // MARK: - Residents

    private mutating func makeHousehold(_ household: String, limit: Int) {
        let foreign = random.chance(0.03)
        let surname = random.zipf(SyntheticNames.surnames.count)
        let address = randomAddress()
        let size = min(limit, [1, 1, 2, 2, 3, 3, 4, 4, 5][random.below(9)])
        let headYear = 1940 + random.below(65)
        for member in 0..<size {
            let female = member == 1 ? true : random.chance(0.5)
            var year = member < 2 ? headYear + (member == 1 ? random.below(5) - 2 : 0) : headYear + 25 + random.below(15)
            year = min(year, 2025)
            let date = randomDate(year: year)
            if member >= 2, size - member >= 2, random.chance(0.04) {
                // Twins: same household, same birth date, different given names.
                let first = residents.count
                append(foreign: foreign, surname: surname, female: female, date: date, address: address, household: household)
                var second = makeIdentity(foreign: foreign, surname: surname, female: random.chance(0.5), date: date, address: address)
                while second["name"] == residents[first].identity["name"] {
                    second = makeIdentity(foreign: foreign, surname: surname, female: random.chance(0.5), date: date, address: address)
                }
                residents[first].twin = first + 1
                residents.append(Resident(identity: second, household: household, twin: first))
                return
            }
            append(foreign: foreign, surname: surname, female: female, date: date, address: address, household: household)
        }
    }

    private mutating func append(foreign: Bool, surname: Int, female: Bool, date: String, address: String, household: String) {
        let identity = makeIdentity(foreign: foreign, surname: surname, female: female, date: date, address: address)
        residents.append(Resident(identity: identity, household: household, twin: nil))
    }

    private mutating func makeIdentity(foreign: Bool, surname: Int, female: Bool, date: String, address: String) -> JSONObject {
        var identity = JSONObject()
        if foreign {
            let family = SyntheticNames.foreignSurnames[surname % SyntheticNames.foreignSurnames.count]
            let given = SyntheticNames.foreignGiven[random.below(SyntheticNames.foreignGiven.count)]
            identity["name"] = .string(family + " " + given)
        } else {
            let (kanji, kana, variant) = SyntheticNames.surnames[surname]
            let prefixes = female ? SyntheticNames.femalePrefixes : SyntheticNames.malePrefixes
            let suffixes = female ? SyntheticNames.femaleSuffixes : SyntheticNames.maleSuffixes
            let prefix = prefixes[random.below(prefixes.count)]
            let suffix = suffixes[random.below(suffixes.count)]
            // Some families register the 旧字体 form.
            let family = !variant.isEmpty && surname % 3 == 0 ? variant : kanji
            identity["name"] = .string(family + " " + prefix.0 + suffix.0)
            identity["name_kana"] = .string(kana + " " + prefix.1 + suffix.1)
        }
        identity["birth_date"] = .string(date)
        identity["sex"] = .string(female ? "female" : "male")
        identity["address"] = .string(address)
        return identity
    }

    private mutating func randomAddress() -> String {
        let (city, towns) = SyntheticNames.towns[random.below(SyntheticNames.towns.count)]
        let town = towns[random.below(towns.count)]
        return city + town + "\(1 + random.below(5))丁目\(1 + random.below(30))番\(1 + random.below(20))号"
    }

    private mutating func randomDate(year: Int) -> String {
        let month = 1 + random.below(12)
        let day = 1 + random.below(28)
        return String(year) + "-" + Self.pad(month) + "-" + Self.pad(day)
    }

    static func pad(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }

    // MARK: - Source records

    /// Derives `count` source records: `residentShare` of them from distinct residents (with
    /// corruption), the rest people who are not residents.
    public mutating func records(count: Int, residentShare: Double = 0.9, seed: UInt64 = 7) -> [Record] {
        var chooser = SplitMix(seed: seed)
        var records: [Record] = []
        var used = Set<Int>()
        for _ in 0..<count {
            if chooser.chance(residentShare), used.count < residents.count {
                var index = chooser.below(residents.count)
                while used.contains(index) { index = chooser.below(residents.count) }
                used.insert(index)
                records.append(Record(identity: corrupt(residents[index].identity, &chooser), truth: index))
            } else {
                let foreign = chooser.chance(0.03)
                var identity = makeIdentity(
                    foreign: foreign, surname: random.zipf(SyntheticNames.surnames.count), female: chooser.chance(0.5),
                    date: randomDate(year: 1940 + random.below(80)), address: randomAddress())
                identity["sex"] = nil
                records.append(Record(identity: identity, truth: nil))
            }
        }
        return records
    }

    /// A source's copy of a registry identity, with the errors and variants sources make.
    func corrupt(_ identity: JSONObject, _ random: inout SplitMix) -> JSONObject {
        var out = JSONObject()
        if var name = identity["name"]?.stringValue {
            if random.chance(0.25) { name = Self.mapScalars(name, Self.modernToOld) }
            if random.chance(0.1) { name = Self.mapScalars(name, Self.oldToModern) }
            if random.chance(0.3) { name = name.replacingSpaces(with: "") }
            if random.chance(0.1) { name = name.replacingSpaces(with: "\u{3000}") }
            if name.unicodeScalars.allSatisfy({ $0.value < 0x80 }) {
                let words = name.split(separator: " ")
                if random.chance(0.5), words.count == 2 { name = words[1] + " " + words[0] }
                if random.chance(0.3) { name = name.uppercased() }
            }
            out["name"] = .string(name)
        }
        if var kana = identity["name_kana"]?.stringValue, !random.chance(0.08) {
            if random.chance(0.03) { kana = Self.mapScalars(kana, ["ウ": "ー", "ヅ": "ズ", "ヂ": "ジ", "ョ": "ヨ"]) }
            if random.chance(0.25) {
                kana = Self.halfWidth(kana)
            } else if random.chance(0.25) {
                kana = MatchText.string(kana.unicodeScalars.map { (0x30A1...0x30F6).contains($0.value) ? Unicode.Scalar($0.value - 0x60)! : $0 })
            }
            out["name_kana"] = .string(kana)
        }
        if var date = identity["birth_date"]?.stringValue {
            var bytes = Array(date.utf8)
            if random.chance(0.015), bytes[8] <= UInt8(ascii: "1") {
                bytes = Array(bytes[0..<5]) + Array(bytes[8..<10]) + [UInt8(ascii: "-")] + Array(bytes[5..<7])
            } else if random.chance(0.015) {
                bytes[9] = bytes[9] == UInt8(ascii: "9") ? UInt8(ascii: "8") : bytes[9] + 1
            }
            date = String(decoding: bytes, as: UTF8.self)
            out["birth_date"] = .string(date)
        }
        if let address = identity["address"]?.stringValue, !random.chance(0.05) {
            var text = address
            if random.chance(0.12) {
                var mover = SplitMix(seed: random.next())
                text = Self.mapScalars(SyntheticNames.towns[mover.below(SyntheticNames.towns.count)].0, [:]) + "本町\(1 + mover.below(9))-\(1 + mover.below(9))"
            } else {
                if random.chance(0.4) { text = Self.dashed(text) }
                if random.chance(0.3), let index = text.firstIndex(where: { "都県".contains($0) }) {
                    text = String(text[text.index(after: index)...])
                }
                if random.chance(0.3) { text = Self.fullWidthDigits(text) }
            }
            out["address"] = .string(text)
        }
        return out
    }
}

extension String {
    fileprivate func replacingSpaces(with replacement: String) -> String {
        split(separator: " ", omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
