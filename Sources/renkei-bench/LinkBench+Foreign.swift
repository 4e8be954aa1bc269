import RenkeiCore

/// Foreign residents (issue 14): registered as `NGUYEN VAN AN` with a katakana reading; their
/// library records written as people fill in forms — given name first, the middle name dropped
/// or an initial, a hyphen, a typo, the name only in katakana with another transcription
/// (ヴァン/バン), the address in Western order. One resident in seven is a NGUYEN; 3% are twins.
extension LinkPopulation {
    /// (Latin, katakana, alternative katakana).
    typealias Word = (latin: String, kana: String, other: String)

    static let surnames: [(Word, weight: Int)] = [
        (("NGUYEN", "グエン", "グェン"), 30), (("TRAN", "チャン", "トラン"), 12), (("LE", "レ", "レー"), 9),
        (("PHAM", "ファム", "ファン"), 7), (("HOANG", "ホアン", "ホァン"), 5), (("VU", "ヴー", "ブー"), 4),
        (("DANG", "ダン", "ダング"), 3), (("BUI", "ブイ", "ブーイ"), 3), (("DO", "ドー", "ド"), 3),
        (("SANTOS", "サントス", "サントス"), 6), (("REYES", "レイエス", "レジェス"), 5), (("CRUZ", "クルス", "クルーズ"), 4),
        (("GARCIA", "ガルシア", "ガルシーア"), 4), (("SILVA", "シルバ", "シルヴァ"), 6), (("OLIVEIRA", "オリベイラ", "オリヴェイラ"), 4),
        (("GURUNG", "グルン", "グルング"), 4), (("SHRESTHA", "シュレスタ", "シュレスター"), 3), (("WANG", "ワン", "ウォン"), 5),
        (("ZHANG", "チャン", "ジャン"), 3),
    ]
    static let middles: [Word] = [
        ("VAN", "ヴァン", "バン"), ("THI", "ティ", "ティー"), ("DUC", "ドゥック", "ドック"), ("MINH", "ミン", "ミィン"),
        ("NGOC", "ゴック", "ンゴック"), ("THANH", "タイン", "タン"), ("MARIA", "マリア", "マリーア"), ("JOSE", "ホセ", "ジョゼ"),
    ]
    static let givens: [Word] = [
        ("AN", "アン", "アーン"), ("ANH", "アイン", "アン"), ("BINH", "ビン", "ビィン"), ("CHI", "チー", "チ"), ("DUNG", "ズン", "ユン"),
        ("HA", "ハー", "ハ"), ("HAI", "ハイ", "ハーイ"), ("HOA", "ホア", "ホーア"), ("HUNG", "フン", "フーン"), ("HUONG", "フオン", "フォン"),
        ("KHANH", "カイン", "カン"), ("LAN", "ラン", "ラーン"), ("LINH", "リン", "リィン"), ("LONG", "ロン", "ロング"), ("MAI", "マイ", "マーイ"),
        ("NAM", "ナム", "ナーム"), ("PHUONG", "フォン", "フオン"), ("QUANG", "クアン", "クァン"), ("SON", "ソン", "ソーン"), ("TRANG", "チャン", "トラン"),
        ("TUAN", "トゥアン", "トアン"), ("VIET", "ヴィエット", "ビエット"), ("YEN", "イエン", "イェン"), ("MARK", "マーク", "マルク"),
        ("ANA", "アナ", "アンナ"), ("PAULO", "パウロ", "パオロ"), ("LUCAS", "ルーカス", "ルカス"), ("RAM", "ラム", "ラーム"),
        ("SITA", "シータ", "シタ"), ("WEI", "ウェイ", "ウエイ"), ("MING", "ミン", "ミング"), ("JUN", "ジュン", "ジューン"),
        ("GRACE", "グレース", "グレイス"), ("JOHN", "ジョン", "ジョーン"), ("RICA", "リカ", "リッカ"), ("TAM", "タム", "ターム"),
    ]
    static let places: [(prefecture: String, city: String, towns: [String])] = [
        ("愛知県", "長生郡一宮町", ["小入", "東浪見", "新地"]), ("愛知県", "豊田市", ["保見町", "若林東町", "西町"]),
        ("群馬県", "大泉町", ["西小泉", "坂田", "吉田"]), ("埼玉県", "川口市", ["芝園町", "並木", "栄町"]),
        ("東京都", "新宿区", ["大久保", "百人町", "高田馬場"]), ("大阪府", "大阪市生野区", ["桃谷", "鶴橋", "中川"]),
    ]

    static func foreign(residents count: Int, records recordCount: Int, seed: UInt64 = 3) -> LinkPopulation {
        var random = BenchRandom(seed: seed)
        let surnameTotal = surnames.reduce(0) { $0 + $1.weight }
        func surname() -> Word {
            var pick = random.below(surnameTotal)
            for (word, weight) in surnames {
                if pick < weight { return word }
                pick -= weight
            }
            return surnames[0].0
        }
        struct Person { var surname: Word, middle: Word?, given: Word, birth: String, sex: String, place: Int, town: Int, number: String }
        func date() -> String {
            let year = 1950 + random.below(70), month = 1 + random.below(12), day = 1 + random.below(28)
            return "\(year)-" + (month < 10 ? "0" : "") + "\(month)-" + (day < 10 ? "0" : "") + "\(day)"
        }
        var people: [Person] = []
        var residents: [Resident] = []
        func add(_ person: Person, household: String, twin: Int?) {
            let place = places[person.place]
            let parts = [person.surname] + (person.middle.map { [$0] } ?? []) + [person.given]
            residents.append(Resident(
                identity: [
                    "name": .string(parts.map(\.latin).joined(separator: " ")),
                    "name_kana": .string(parts.map(\.kana).joined(separator: " ")),
                    "birth_date": .string(person.birth), "sex": .string(person.sex),
                    "address": .string(place.prefecture + place.city + place.towns[person.town] + person.number),
                ], household: household, twin: twin))
            people.append(person)
        }
        while residents.count < count {
            let vietnamese = random.chance(0.6)
            let sex = random.chance(0.5) ? "male" : "female"
            let person = Person(
                surname: surname(), middle: vietnamese || random.chance(0.3) ? random.pick(middles) : nil, given: random.pick(givens),
                birth: date(), sex: sex, place: random.below(places.count), town: random.below(3),
                number: "\(1 + random.below(40))-\(1 + random.below(40))-\(1 + random.below(20))")
            let household = "FH\(residents.count)"
            if random.chance(0.03), residents.count + 1 < count {
                var twin = person
                while twin.given.latin == person.given.latin { twin.given = random.pick(givens) }
                let first = residents.count
                add(person, household: household, twin: first + 1)
                add(twin, household: household, twin: first)
            } else {
                add(person, household: household, twin: nil)
            }
        }
        var records: [Record] = []
        var used = Set<Int>()
        while records.count < recordCount {
            if random.chance(0.9), used.count < residents.count {
                var index = random.below(residents.count)
                while used.contains(index) { index = random.below(residents.count) }
                used.insert(index)
                records.append(Record(identity: formCopy(people[index], &random), truth: index))
            } else {
                let stranger = Person(
                    surname: surname(), middle: random.chance(0.5) ? random.pick(middles) : nil, given: random.pick(givens), birth: date(),
                    sex: "male", place: random.below(places.count), town: random.below(3), number: "\(1 + random.below(40))-\(1 + random.below(40))")
                records.append(Record(identity: formCopy(stranger, &random), truth: nil))
            }
        }
        return LinkPopulation(name: "foreign residents (generated)", residents: residents, records: records)

        func formCopy(_ person: Person, _ random: inout BenchRandom) -> JSONObject {
            var identity = JSONObject()
            func cased(_ word: String) -> String { word.prefix(1) + word.dropFirst().lowercased() }
            var given = person.given.latin, surname = person.surname.latin
            if random.chance(0.05), surname.count >= 4 { surname = random.typo(surname, lettersOnly: true) }
            var middle = person.middle?.latin
            let form = random.below(10)
            if form < 2 { middle = nil } else if form < 4, let m = middle { middle = m.prefix(1) + "." }
            if random.chance(0.5) {
                if random.chance(0.1), let m = middle { given = given + "-" + m; middle = nil }
                let words = [given, middle, surname].compactMap { $0 }
                identity["name"] = .string(words.map(cased).joined(separator: " "))
            } else {
                identity["name"] = .string(([surname, middle, given].compactMap { $0 }).joined(separator: " "))
            }
            let parts = [person.surname] + (person.middle.map { [$0] } ?? []) + [person.given]
            let kana = parts.map { random.chance(0.25) ? $0.other : $0.kana }.joined(separator: " ")
            if random.chance(0.1) {
                identity["name"] = .string(kana)  // the name only in katakana
                identity["name_kana"] = .string(kana)
            } else if random.chance(0.5) {
                identity["name_kana"] = .string(kana)
            }
            var birth = person.birth
            if random.chance(0.02) {
                let p = birth.split(separator: "-")
                if Int(p[2])! <= 12 { birth = "\(p[0])-\(p[2])-\(p[1])" }
            }
            identity["birth_date"] = .string(birth)
            let place = places[person.place]
            if random.chance(0.1) {
                identity["address"] = .string(place.prefecture + place.city + place.towns[(person.town + 1) % 3] + "1-1")  // moved
            } else if random.chance(0.4) {
                identity["address"] = .string("\(person.number) \(place.towns[person.town]), \(place.city), \(place.prefecture)")
            } else {
                identity["address"] = .string(place.city + place.towns[person.town] + person.number)
            }
            return identity
        }
    }
}
