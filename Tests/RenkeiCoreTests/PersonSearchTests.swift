import RenkeiCore
import Testing

/// Staff search (issue 18): the matcher's folding, dates as staff type them, no address of a protected person.
@Suite struct PersonSearchTests {
    static func view(_ uid: String, _ name: String, _ kana: String?, _ born: String, address: String = "東京都千代田区九段南1丁目2番1号", protected: Bool = false) -> JSONObject {
        var object: JSONObject = [
            "uid": .string(uid), "name": .string(name), "birth_date": .string(born), "address": .string(address),
            "protected": .bool(protected),
        ]
        if let kana { object["name_kana"] = .string(kana) }
        return object
    }

    static let ichiro = view("U0000000001", "髙橋 一郎", "タカハシ イチロウ", "1985-06-12")
    static let hanako = view("U0000000002", "髙橋 花子", "タカハシ ハナコ", "1987-11-03")
    static let sato = view("U0000000003", "佐藤 健", "サトウ ケン", "1979-09-09")

    @Test(arguments: ["S60.6.12", "s60.6.12", "昭和60年6月12日", "昭60年6月12日", "1985-06-12", "1985/6/12", "1985.6.12",
                      "1985年6月12日", "19850612", "１９８５－０６－１２", " S60.06.12 "])
    func birthDatesAreReadAsStaffTypeThem(_ typed: String) {
        #expect(SearchDate.isoDate(typed) == .success("1985-06-12"))
    }

    @Test(arguments: ["S60.2.30", "1985-13-01", "60.6.12", "yesterday", "", "H31.5.1"])
    func impossibleOrUnreadableDatesAreRefused(_ typed: String) {
        guard case .failure(let failure) = SearchDate.isoDate(typed) else {
            Issue.record("\(typed) was accepted")
            return
        }
        #expect(!failure.description.isEmpty)
    }

    @Test(arguments: ["高橋 一郎", "髙橋一郎", "たかはし いちろう", "ﾀｶﾊｼ ｲﾁﾛｳ", "タカハシイチロー", "タカハシ　イチロウ"])
    func theMatchersFoldingFindsTheSamePerson(_ typed: String) throws {
        let search = PersonSearch(text: typed, birthDate: nil)
        let hit = try #require(search.hit(Self.ichiro))
        #expect(hit.score >= 0.95)
        #expect(search.hit(Self.sato) == nil)
    }

    @Test func aSurnameFindsTheFamilyAndTheBirthDateNarrowsIt() {
        let surname = PersonSearch(text: "たかはし", birthDate: nil)
        #expect([Self.ichiro, Self.hanako, Self.sato].compactMap(surname.hit).map(\.uid) == ["U0000000001", "U0000000002"])
        let dated = PersonSearch(text: "たかはし", birthDate: "1985-06-12")
        #expect([Self.ichiro, Self.hanako, Self.sato].compactMap(dated.hit).map(\.uid) == ["U0000000001"])
        let onlyDate = PersonSearch(text: "", birthDate: "1979-09-09")
        #expect([Self.ichiro, Self.hanako, Self.sato].compactMap(onlyDate.hit).map(\.uid) == ["U0000000003"])
    }

    @Test func anAddressFindsAPersonButNeverAProtectedOne() {
        let open = Self.view("U0000000004", "鈴木 一", nil, "1970-01-01", address: "東京都千代田区神田神保町3丁目5番2号")
        let hidden = Self.view("U0000000005", "渡邊 美咲", nil, "1990-03-15", address: "東京都千代田区神田神保町3丁目5番2号", protected: true)
        let search = PersonSearch(text: "神田神保町３丁目", birthDate: nil)
        #expect(search.hit(open) != nil)
        #expect(search.hit(hidden) == nil)
        // Found by name, the hit carries no address at all.
        let byName = PersonSearch(text: "渡辺 美咲", birthDate: nil).hit(hidden)
        let json = byName.map { String(decoding: $0.json.serializedBytes, as: UTF8.self) } ?? ""
        #expect(!json.isEmpty && !json.contains("神保町"))
    }

    @Test func hitsAreRankedBestFirstAndCut() {
        let hits = [
            PersonSearch.Hit(uid: "U2", name: nil, nameKana: nil, birthDate: nil, score: 0.8),
            PersonSearch.Hit(uid: "U1", name: nil, nameKana: nil, birthDate: nil, score: 0.8),
            PersonSearch.Hit(uid: "U3", name: nil, nameKana: nil, birthDate: nil, score: 1),
        ]
        #expect(PersonSearch.ranked(hits, limit: 2).map(\.uid) == ["U3", "U1"])
    }
}
