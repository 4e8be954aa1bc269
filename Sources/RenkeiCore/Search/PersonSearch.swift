/// Person search for staff (contract §7 "Search", issue 18): a typed name, kana or address scored
/// against a person's view with the matcher's folding (``MatchText``: width, ｶﾅ/カナ, ひらがな→カタカナ,
/// 濁点 and long-vowel marks, 旧字体/異体字 such as 髙/高), optionally restricted to one birth date.
///
/// Pure: the caller feeds it views (the status route reads them from the store). A protected
/// person (支援措置) is never found by their address, and nothing it answers carries an address.
public struct PersonSearch: Sendable {
    /// One hit: what the contract's reply lists.
    public struct Hit: Sendable, Hashable {
        /// The person's uid.
        public var uid: String
        /// The stored name, kana and birth date, exactly as in the view.
        public var name: String?
        /// See ``name``.
        public var nameKana: String?
        /// See ``name``.
        public var birthDate: String?
        /// How well the person fits, 0…1 (1: exact after folding, or found by uid, 宛名番号 or subject).
        public var score: Double

        /// Creates a hit.
        public init(uid: String, name: String?, nameKana: String?, birthDate: String?, score: Double) {
            self.uid = uid
            self.name = name
            self.nameKana = nameKana
            self.birthDate = birthDate
            self.score = score
        }

        /// `{uid, name, name_kana, birth_date, score}` (score rounded to three places).
        public var json: JSONValue {
            .object([
                "uid": .string(uid), "name": name.map { .string($0) } ?? .null,
                "name_kana": nameKana.map { .string($0) } ?? .null, "birth_date": birthDate.map { .string($0) } ?? .null,
                "score": .double((score * 1000).rounded() / 1000),
            ])
        }
    }

    /// Below this score a person is not listed.
    public static let minimumScore = 0.7

    /// The folded query: name key without spaces, weak kana key, address key.
    let nameKey: [UInt32]
    let kanaKey: [UInt32]
    let addressKey: [UInt32]
    /// The birth date every hit must have (`YYYY-MM-DD`), if given.
    public let birthDate: String?

    /// Prepares a search.
    /// - Parameters:
    ///   - text: the name, kana or address typed (may be empty when `birthDate` is given).
    ///   - birthDate: an ISO date (``SearchDate/isoDate(_:)`` converts what staff type).
    public init(text: String, birthDate: String?) {
        nameKey = MatchText.nameKey(text, variants: true).filter { $0 != " " }.map(\.value)
        kanaKey = MatchText.kanaWeak(MatchText.kanaStrong(text)).map(\.value)
        addressKey = Self.addressFold(text)
        self.birthDate = birthDate
    }

    /// Whether there is anything to search for.
    public var isEmpty: Bool { nameKey.isEmpty && birthDate == nil }

    /// Whether an address is compared at all (at least three scalars typed).
    public var comparesAddress: Bool { addressKey.count >= 3 }

    /// The hit for `view`, or `nil` when it does not fit.
    public func hit(_ view: JSONObject) -> Hit? {
        guard view["merged_into"] == nil || view["merged_into"]?.isNull == true, let uid = view["uid"]?.stringValue else {
            return nil
        }
        return hit(
            uid: uid, name: view["name"]?.stringValue, kana: view["name_kana"]?.stringValue,
            birthDate: view["birth_date"]?.stringValue, isProtected: view["protected"]?.boolValue == true,
            address: view["address"]?.stringValue)
    }

    /// The hit for one person's fields (a live uid: not merged into another), or `nil` when it does not fit.
    public func hit(
        uid: String, name: String?, kana: String?, birthDate born: String?, isProtected: Bool, address: String?
    ) -> Hit? {
        if let birthDate, born != birthDate { return nil }
        var score = 0.0
        if nameKey.isEmpty {
            score = 1
        } else {
            if let name {
                score = max(score, Self.similarity(nameKey, MatchText.nameKey(name, variants: true).filter { $0 != " " }.map(\.value)))
                // A kana query against a name written in kana (foreign residents' names, 住登外).
                if score < 1 {
                    score = max(score, Self.similarity(kanaKey, MatchText.kanaWeak(MatchText.kanaStrong(name)).map(\.value)))
                }
            }
            if let kana, score < 1 {
                score = max(score, Self.similarity(kanaKey, MatchText.kanaWeak(MatchText.kanaStrong(kana)).map(\.value)))
            }
            // Never by a protected person's address: that a search by address finds them would say where they live.
            if score < Self.minimumScore, !isProtected, comparesAddress, let address,
                Self.addressFold(address).containsRun(addressKey)
            {
                score = max(score, 0.75)
            }
        }
        guard score >= Self.minimumScore else { return nil }
        return Hit(uid: uid, name: name, nameKana: kana, birthDate: born, score: score)
    }

    /// Orders hits best first (then by uid) and keeps `limit`.
    public static func ranked(_ hits: [Hit], limit: Int) -> [Hit] {
        Array(hits.sorted { ($0.score, $1.uid) > ($1.score, $0.uid) }.prefix(limit))
    }

    // MARK: - Scoring

    /// 1 for equal keys; a query that is the start of the key (a surname alone) 0.85–0.95 by how
    /// much of the key it covers; inside it 0.75–0.9; otherwise Jaro–Winkler when at least 0.88, scaled.
    static func similarity(_ query: [UInt32], _ key: [UInt32]) -> Double {
        guard !query.isEmpty, !key.isEmpty else { return 0 }
        if query == key { return 1 }
        let cover = Double(query.count) / Double(key.count)
        if query.count < key.count {
            if key.starts(with: query) { return 0.85 + 0.1 * cover }
            if query.count >= 2, key.containsRun(query) { return 0.75 + 0.15 * cover }
        }
        let jw = MatchText.jaroWinkler(query[...], key[...])
        return jw >= 0.88 ? jw * 0.95 : 0
    }

    /// Address folding for a substring test: width, 異体字, ヶ/ケ/が, no spaces or dashes.
    static func addressFold(_ text: String) -> [UInt32] {
        MatchText.widthFolded(text).compactMap { scalar -> UInt32? in
            if scalar == " " || MatchText.isDash(scalar.value) { return nil }
            let folded = KanjiVariants.fold(MatchText.lower(scalar)).value
            return folded == 0x30F6 || folded == 0x304C || folded == 0x30F5 ? 0x30B1 : folded
        }
    }
}

extension Array where Element == UInt32 {
    /// Whether `other` occurs in this array as a contiguous run.
    func containsRun(_ other: [Element]) -> Bool {
        guard !other.isEmpty, other.count <= count else { return other.isEmpty }
        for start in 0...(count - other.count) where self[start] == other[0] {
            if self[start..<(start + other.count)].elementsEqual(other) { return true }
        }
        return false
    }
}
