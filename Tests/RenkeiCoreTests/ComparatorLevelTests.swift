@testable import RenkeiCore
import Testing

/// The comparator levels issue 14 adds, level by level: date slips, address typos, Latin names.
@Suite struct ComparatorLevelTests {
    func level(_ field: MatchField, _ a: JSONObject, _ b: JSONObject) -> AgreementLevel {
        MatchComparison(MatchProfile(identity: a), MatchProfile(identity: b), weights: .standard, quick: false).level(field)
    }

    func date(_ a: String, _ b: String) -> AgreementLevel {
        level(.birthDate, ["name": "A B", "birth_date": .string(a)], ["name": "A B", "birth_date": .string(b)])
    }

    @Test func eachDateSlipHasItsOwnLevel() {
        #expect(date("1985-06-12", "1985-06-12") == .exact)
        #expect(date("1985-06-12", "1985-12-06") == .normalised)  // day and month swapped
        #expect(date("1985-06-12", "1985-06-21") == .variant)  // adjacent digits transposed
        #expect(date("1985-06-12", "1958-06-12") == .variant)
        #expect(date("1989-06-12", "1990-06-12") == .fuzzy)  // year off by 1 (two digits differ)
        #expect(date("1985-06-12", "1995-06-12") == .fuzzy)  // by 10
        #expect(date("1985-06-12", "1885-06-12") == .fuzzy)  // by 100
        #expect(date("1985-06-12", "1987-06-12") == .partial)  // one digit, year off by 2
        #expect(date("1985-06-12", "1985-06-19") == .partial)
        #expect(date("1985-06-12", "1986-06-13") == .disagree)  // year and day
        #expect(date("1985-06-12", "1990-01-01") == .disagree)
    }

    func address(_ a: String, _ b: String) -> AgreementLevel {
        level(.address, ["name": "A B", "address": .string(a)], ["name": "A B", "address": .string(b)])
    }

    @Test func addressTyposAreALevelOfTheirOwn() {
        // The public benchmark's case: the same number, one letter wrong.
        #expect(address("25 pike place, kingston", "25 pike mlace, kingston") == .fuzzy)
        #expect(address("25 pike place, kingston", "25 pike plaec, kingston") == .fuzzy)  // two edits on a long key
        #expect(address("25 pike place, kingston", "27 pike place, kingston") == .partial)  // another house, same street
        #expect(address("25 pike place", "25 oak street") == .disagree)
        #expect(address("東京都千代田区九段南1丁目2番1号", "東京都千代田区九段面1丁目2番1号") == .fuzzy)  // a typo in the town
        #expect(address("千代田区九段南1-2-1", "千代田区九段南1-2-3") == .partial)  // same area, another house
        #expect(address("千代田区九段南1-2-1", "新宿区西新宿1-2-1") == .disagree)  // same numbers elsewhere
        #expect(address("九段南1-2", "九段北1-2") == .disagree)  // short keys: one edit is another place
        #expect(address("千代田区九段南1-2-1", "千代田区九段南１－２－１") == .normalised)
        // Western order, as forms are filled in: the same address.
        #expect(address("愛知県長生郡一宮町小入22-36-6", "22-36-6 小入, 長生郡一宮町, 愛知県") == .normalised)
        #expect(address("25 pike place, kingston", "kingston, 25 pike place") == .fuzzy)  // Latin words in another order
    }

    /// Latin-script addresses where typos, a part left out and a changed postcode come together
    /// (FEBRL's corruptions) are placed by how many of their words agree.
    @Test func latinAddressesByTheirWords() {
        let home = "3 light street, pinehill, windermere 3212 vic"
        #expect(address(home, "3 light setreet, pinehill, windermere 3212 vic") == .fuzzy)  // a typo
        #expect(address(home, "3 light street, windermere 3212 vic") == .fuzzy)  // a part left out
        #expect(address(home, "3 lihgt setreet, pinehil, windermere 3212") == .fuzzy)  // typos in three words, state left out
        #expect(address(home, "3 light street, pinehill, windermere 3213 vic") == .partial)  // the postcode mistyped: numbers differ
        #expect(address(home, "5 light street, pinehill, windermere 3212 vic") == .partial)  // another house in the street
        #expect(address(home, "18 oak avenue, pinehill, windermere 3212 vic") == .wordOnly)  // the same locality only
        #expect(address(home, "18 oak avenue, kelso, bega 2550 nsw") == .disagree)
        // A space typed inside a word or left out between two: the pieces count as the word.
        #expect(address(home, "3 li ght st reet, pine hill, windermere 3212") == .fuzzy)  // the state left out too
        #expect(address(home, "3 lightstreet, pinehillwindermere 3212") == .fuzzy)
        #expect(address(home, "3 oak avenue, pine hill, kelso 2550 nsw") == .disagree)  // one join does not make it the same
        #expect(address(home, "3 oak avenue, kelso, bega 2550 nsw") == .disagree)  // only the house number
        // Words are split at punctuation and between digits and letters; Japanese addresses have none.
        #expect(String(String.UnicodeScalarView(AddressKey.latinWords("Flat 2B, 25 Pike-Place"))) == "flat 2 b 25 pike place")
        #expect(AddressKey.latinWords("千代田区九段南1-2-1").isEmpty)
        #expect(AddressKey.latinWords("22-36-6 小入, 長生郡一宮町").isEmpty)
    }

    /// Latin-script addresses between "the same house written otherwise" (`fuzzy`) and "differs":
    /// `partial` where most words or every number agree, not both (another house in the same
    /// street, a postcode mistyped or transposed, the street renamed at the same house number and
    /// postcode); `word_only` where only part of the words agree. Japanese addresses keep theirs.
    @Test func latinAddressesWithANumberDifferingAreAboveSomeWords() {
        let home = "3 light street, pinehill, windermere 3212 vic"
        #expect(address(home, "3 light street, pinehill, windermere 3212 vic") == .exact)
        #expect(address(home, "3 light setreet, pinehill, windermere 3212 vic") == .fuzzy)
        // Most words agree, a number differs.
        #expect(address(home, "5 light street, pinehill, windermere 3212 vic") == .partial)  // another house
        #expect(address(home, "3 light street, pinehill, windermere 3221 vic") == .partial)  // postcode transposed
        #expect(address(home, "light street, pinehill, windermere 3221 vic") == .partial)  // and the house number left out
        #expect(address(home, "12 light street, pinehill, windermere 3221 vic") == .partial)  // both numbers differ
        #expect(address("7 longstaff street, graoville, 6430 qld", "16 longstaff street, loftus, 6430 qld") == .partial)  // three words of four
        // Every number agrees, the words less: the house number and postcode kept, a street replaced.
        #expect(address(home, "3 oak avenue, pinehill, windermere 3212 vic") == .partial)
        // Neither: only part of the words.
        #expect(address(home, "18 oak avenue, pinehill, windermere 3212 vic") == .wordOnly)
        #expect(address(home, "oak avenue, pinehill, windermere vic") == .wordOnly)  // no number on one side: none agrees
        #expect(address(home, "18 oak avenue, kelso, bega 2550 nsw") == .disagree)
        // Japanese addresses: as before (same 町域, another house: partial; never word_only).
        #expect(address("千代田区九段南1-2-1", "千代田区九段南1-2-3") == .partial)
        #expect(address("千代田区九段南1-2-1", "千代田区九段北3-5-1") == .disagree)
        // The words' share without the numbers, and how many numbers the shorter side gives.
        func agreement(_ a: String, _ b: String) -> (share: Double, numbersAgree: Bool, wordsShare: Double, numbers: Int) {
            let x = String(String.UnicodeScalarView(AddressKey.latinWords(a))).unicodeScalars.map(\.value)
            let y = String(String.UnicodeScalarView(AddressKey.latinWords(b))).unicodeScalars.map(\.value)
            return MatchText.addressWordAgreement(x[...], y[...])
        }
        let another = agreement(home, "12 light street, pinehill, windermere 3221 vic")
        #expect(another.wordsShare == 1 && !another.numbersAgree && another.numbers == 2)
        let street = agreement(home, "3 oak avenue, pinehill, windermere 3212 vic")
        #expect(street.wordsShare == 0.6 && street.numbersAgree && street.numbers == 2)
        #expect(agreement(home, "oak avenue, pinehill, windermere vic").numbers == 0)
    }

    /// The address's level weighs as estimated and reads as itself; weights written before it
    /// existed (no `word_only` under `address`, or rows of seven) place such pairs at `partial`
    /// with the same total as then.
    @Test func theAddressWordOnlyLevelAndWeightsWithoutIt() throws {
        let resident = MatchProfile(identity: ["name": "John Smith", "birth_date": "1980-02-03", "address": "3 light street, pinehill, windermere 3212 vic"])
        let patron = MatchProfile(identity: ["name": "John Smith", "birth_date": "1980-02-03", "address": "18 oak avenue, pinehill, windermere 3212 vic"])
        let moved = MatchProfile(identity: ["name": "John Smith", "birth_date": "1980-02-03", "address": "5 light street, pinehill, windermere 3212 vic"])
        var weights = MatchWeights.standard
        weights.weights[MatchField.address.rawValue][AgreementLevel.wordOnly.rawValue] = -0.5
        let comparison = MatchComparison(patron, resident, weights: weights, quick: false)
        #expect(comparison.level(.address) == .wordOnly)
        #expect(comparison.total == weights.prior + weights.weight(.name, .exact) + weights.weight(.birthDate, .exact) - 0.5)
        #expect(MatchReasons.reasons(comparison, record: patron, candidate: resident).last
            == "address: 一部の語が一致 (some words agree: street or locality)")
        let split = MatchComparison(moved, resident, weights: weights, quick: false)
        #expect(split.level(.address) == .partial)
        #expect(MatchReasons.reasons(split, record: moved, candidate: resident).last
            == "address: 語の大半か番号がすべて一致 (most words or every number agree: another house, or the street written otherwise)")
        #expect(weights.json["address"]?["word_only"] == .double(-0.5))

        // An event written before the level: no `word_only` under `address`.
        var json = weights.json
        var address = try #require(json["address"]?.objectValue)
        address["word_only"] = nil
        json["address"] = .object(address)
        let old = try #require(MatchWeights(json: json))
        #expect(!old.givesAddressWordOnly && old.givesWordOnly && weights.givesAddressWordOnly)
        #expect(old.weight(.address, .wordOnly) == old.weight(.address, .partial))
        #expect(old.json["address"]?["word_only"] == nil)  // written back as read
        #expect(MatchWeights(json: old.json) == old)
        for record in [patron, moved] {
            let before = MatchComparison(record, resident, weights: old, quick: false)
            #expect(before.level(.address) == .partial)
            #expect(before.total == old.prior + old.weight(.name, .exact) + old.weight(.birthDate, .exact) + old.weight(.address, .partial))
            #expect(MatchReasons.reasons(before, record: record, candidate: resident).last
                == "address: 一部の語が一致 (some words agree: street or locality)")
        }
        // Rows of seven (the order before `word_only`): the column weighs as partial, not given.
        let rows = MatchWeights.standard.weights.map { Array($0.prefix(5)) + [$0[6], $0[7]] }
        let seven = MatchWeights(weights: rows, prior: -13, sameHousehold: 8)
        #expect(!seven.givesAddressWordOnly && !seven.givesWordOnly)
        #expect(seven.weight(.address, .wordOnly) == MatchWeights.standard.weight(.address, .partial))
        #expect(seven.weight(.address, .disagree) == MatchWeights.standard.weight(.address, .disagree))
        #expect(MatchComparison(patron, resident, weights: seven, quick: false).level(.address) == .partial)
        // The defaults weigh it as partial did, so their decisions do not move.
        #expect(MatchWeights.standard.weight(.address, .wordOnly) == MatchWeights.standard.weight(.address, .partial))
    }

    /// Estimated parameters give the address's word-only level its own weight, ordered between
    /// partial and disagree; parameters read from an event without its m and u do not give it.
    @Test func estimatedParametersGiveTheAddressLevelOrNot() {
        var parameters = LinkingParameters()
        parameters.matchProbability = 0.001
        for field in MatchField.allCases {
            let levels = LinkingParameters.levels(field)
            for level in levels {
                parameters.m[field.rawValue][level.rawValue] = level == .exact ? 0.7 : 0.3 / Double(levels.count - 1)
                parameters.u[field.rawValue][level.rawValue] = level == .disagree ? 0.7 : 0.3 / Double(levels.count - 1)
            }
        }
        let address = MatchField.address.rawValue
        // exact, normalised, variant, fuzzy, partial (2 bits), word_only (−1 bit), disagree
        let m = [0.5, 0.1, 0.05, 0.1, 0.08, 0.04, 0.13], u = [0.01, 0.01, 0.01, 0.02, 0.02, 0.08, 0.85]
        for (index, level) in LinkingParameters.levels(.address).enumerated() {
            parameters.m[address][level.rawValue] = m[index]
            parameters.u[address][level.rawValue] = u[index]
        }
        let weights = parameters.weights()
        #expect(weights.givesAddressWordOnly && weights.givesWordOnly)
        #expect(weights.weight(.address, .partial) == 2 && weights.weight(.address, .wordOnly) == -1)
        #expect(weights.weight(.address, .disagree) < -1)
        #expect(weights.json["address"]?["word_only"] == .double(-1))
        #expect(LinkingParameters(json: parameters.json()).weights() == weights)

        var old = parameters
        old.m[address][AgreementLevel.wordOnly.rawValue] = 0
        old.u[address][AgreementLevel.wordOnly.rawValue] = 0
        let oldWeights = old.weights()
        #expect(!oldWeights.givesAddressWordOnly && oldWeights.givesWordOnly)
        #expect(oldWeights.weight(.address, .wordOnly) == oldWeights.weight(.address, .partial))
        #expect(oldWeights.json["address"]?["word_only"] == nil)
        #expect(MatchWeights(json: oldWeights.json) == oldWeights)
    }

    func name(_ a: String, _ b: String) -> AgreementLevel {
        level(.name, ["name": .string(a)], ["name": .string(b)])
    }

    @Test func latinNamesAsPeopleWriteThem() {
        #expect(name("NGUYEN VAN AN", "An Nguyen Van") == .normalised)  // order and case
        #expect(name("NGUYEN VAN AN", "An Nguyen") == .fuzzy)  // middle name dropped
        #expect(name("NGUYEN VAN AN", "An V. Nguyen") == .fuzzy)  // middle name as an initial
        #expect(name("NGUYEN VAN AN", "A. Nguyen") == .fuzzy)  // given name as an initial
        #expect(name("Jean-Pierre Dupont", "Jean Pierre DUPONT") == .normalised)  // hyphen
        #expect(name("Jonathan Smith", "Jonahtan Smith") == .fuzzy)  // close spelling, two edits (Jaro–Winkler)
        #expect(name("NGUYEN VAN AN", "NGUYEN VAN ANH") == .partial)  // one edit, not fuzzy
        #expect(name("NGUYEN VAN AN", "TRAN VAN BINH") != .fuzzy)
        #expect(name("Maria Silva", "Mario Costa") == .disagree)
        #expect(name("NGUYEN", "NGUYEN VAN AN") == .partial)  // one word is not enough for fuzzy: the other name left out
        #expect(name("elton", "Elton Maxon") == .partial)
        #expect(name("eltno", "Elton Maxon") == .partial)  // misspelt too (Jaro–Winkler 0.95)
        #expect(name("Bruce", "Elton Maxon") == .disagree)
        #expect(name("E.", "Elton Maxon") == .disagree)  // an initial alone says nothing
    }

    /// One word of a Latin-script name kept, another replaced (a value swapped on one side): a
    /// level of its own between `partial` and `disagree`, given only where a word is spelt out the
    /// same on both sides.
    @Test func latinNamesSharingOneWordHaveALevelOfTheirOwn() {
        #expect(name("John Smith", "Peter Smith") == .wordOnly)  // the given name replaced
        #expect(name("SMITH John", "smith peter") == .wordOnly)  // in any order and case
        #expect(name("maria garcia lopez", "maria fernandez") == .wordOnly)
        #expect(name("NGUYEN VAN AN", "TRAN VAN BINH") == .wordOnly)  // a middle name is a word too
        #expect(name("Maria Silva", "Mario Costa") == .disagree)  // a close spelling is another name
        #expect(name("A. Nguyen", "A. Tran") == .disagree)  // an initial alone says nothing
        #expect(name("Jonathan Smith", "Jonahtan Smith") == .fuzzy)  // the stronger levels come first
        #expect(name("John Smith", "Smith") == .partial)
        #expect(name("Jon", "John Brown") == .disagree)  // one word on one side: partial or nothing
        // Names in kanji keep their own rule: the surname alone is scored apart, never this level.
        let kanji = MatchComparison(
            MatchProfile(identity: ["name": "佐藤 花子"]), MatchProfile(identity: ["name": "佐藤 一郎"]), weights: .standard, quick: false)
        #expect(kanji.level(.name) == .disagree && kanji.surnameOnly)
    }

    /// The level weighs as estimated, and reads as such; the twins rule still sees the given names differ.
    @Test func theWordOnlyLevelWeighsAndReadsAsItself() {
        let resident = MatchProfile(identity: ["name": "Peter Smith", "birth_date": "1980-02-03", "address": "25 pike place, kingston"])
        let patron = MatchProfile(identity: ["name": "John Smith", "birth_date": "1980-02-03", "address": "25 pike place, kingston"])
        var weights = MatchWeights.standard
        weights.weights[MatchField.name.rawValue][AgreementLevel.wordOnly.rawValue] = 1.5
        let comparison = MatchComparison(patron, resident, weights: weights, quick: false)
        #expect(comparison.level(.name) == .wordOnly && !comparison.surnameOnly)
        let lower = MatchComparison(patron, resident, weights: .standard, quick: false)
        #expect(comparison.total - lower.total == 1.5 - MatchWeights.standard.weight(.name, .wordOnly))
        let reasons = MatchReasons.reasons(comparison, record: patron, candidate: resident)
        #expect(reasons.first == "name: 名前の一語のみ一致 他の語は相違 (one word of the name agrees, another differs)")
    }

    /// Weights written before the level existed (an old `operator.linking_estimated` event: no
    /// `word_only`) do not give it: such pairs are compared as they were then, `disagree` (or
    /// surname only where the first words agree), with the same total.
    @Test func weightsWithoutTheLevelCompareAsBefore() throws {
        var json = MatchWeights.standard.json
        var name = try #require(json["name"]?.objectValue)
        name["word_only"] = nil
        json["name"] = .object(name)
        let old = try #require(MatchWeights(json: json))
        #expect(!old.givesWordOnly && MatchWeights.standard.givesWordOnly)
        #expect(old.json["name"]?["word_only"] == nil)  // written back as read
        #expect(MatchWeights(json: old.json) == old)
        let a = MatchProfile(identity: ["name": "John Smith", "birth_date": "1980-02-03"])
        let b = MatchProfile(identity: ["name": "Peter Smith", "birth_date": "1980-02-03"])
        let comparison = MatchComparison(a, b, weights: old, quick: false)
        #expect(comparison.level(.name) == .disagree && !comparison.surnameOnly)
        #expect(comparison.total == old.prior + old.weight(.name, .disagree) + old.weight(.birthDate, .exact))
        let c = MatchProfile(identity: ["name": "Adams John", "birth_date": "1980-02-03"])
        let d = MatchProfile(identity: ["name": "Adams Peter", "birth_date": "1980-02-03"])
        #expect(MatchComparison(c, d, weights: old, quick: false).surnameOnly)  // first words agree: as before
        #expect(MatchComparison(c, d, weights: .standard, quick: false).level(.name) == .wordOnly)
    }

    /// A name written only in katakana is compared as the reading: against a name in Latin script
    /// it is not evidence either way, and the twins rule still reads the given name in the kana.
    @Test func aNameInKanaOnlyIsComparedAsTheReading() {
        let resident: JSONObject = ["name": "NGUYEN VAN AN", "name_kana": "グエン ヴァン アン", "birth_date": "1990-01-02", "address": "川口市芝園町1-2"]
        let patron: JSONObject = ["name": "グエン ヴァン アン", "birth_date": "1990-01-02", "address": "川口市芝園町1-2"]
        let comparison = MatchComparison(MatchProfile(identity: patron), MatchProfile(identity: resident), weights: .standard, quick: false)
        #expect(comparison.level(.name) == .missing)
        #expect(comparison.level(.nameKana) == .exact)
        #expect(!comparison.givenDiffers)
        let reasons = MatchReasons.reasons(comparison, record: MatchProfile(identity: patron), candidate: MatchProfile(identity: resident))
        #expect(reasons.first == "name: かな表記のみ 読みで比較 (written in kana only: compared as the reading)")
        var twin = resident
        twin["name"] = "NGUYEN VAN BINH"
        twin["name_kana"] = "グエン ヴァン ビン"
        #expect(MatchComparison(MatchProfile(identity: patron), MatchProfile(identity: twin), weights: .standard, quick: false).givenDiffers)
        // Kanji against kanji, and a name with any kanji, are compared as names.
        #expect(level(.name, ["name": "佐藤 花子"], ["name": "さとう はなこ"]) == .missing)
        #expect(level(.name, ["name": "佐藤 はなこ"], ["name": "佐藤 花子"]) == .disagree)
        #expect(level(.name, ["name": "ｻﾄｳ ﾊﾅｺ"], ["name": "サトウ ハナコ"]) == .missing)  // both readings: the kana level compares them
        #expect(level(.nameKana, ["name": "ｻﾄｳ ﾊﾅｺ"], ["name": "サトウ ハナコ"]) == .normalised)
    }

    /// Twins with Latin names still differ in the given name: the fuzzy level never hides that.
    @Test func latinTwinsAreNotFuzzy() {
        let a = MatchProfile(identity: ["name": "NGUYEN VAN AN", "birth_date": "2015-03-03", "address": "足立区千住1-1-1"])
        let b = MatchProfile(identity: ["name": "NGUYEN VAN BINH", "birth_date": "2015-03-03", "address": "足立区千住1-1-1"])
        #expect(MatchComparison(a, b, weights: .standard, quick: false).level(.name) != .fuzzy)
    }

    @Test func jaroWinklerReferenceValues() {
        func jw(_ a: String, _ b: String) -> Double {
            MatchText.jaroWinklerForTests(a, b)
        }
        #expect(abs(jw("martha", "marhta") - 0.9611) < 0.0005)
        #expect(abs(jw("dwayne", "duane") - 0.84) < 0.0005)
        #expect(abs(jw("dixon", "dicksonx") - 0.8133) < 0.0005)
        #expect(jw("abc", "xyz") == 0)
        #expect(jw("alexandrovich", "al") > 0 && jw("al", "alexandrovich") > 0)  // very different lengths
    }
}
