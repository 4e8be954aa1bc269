/// The match keys of one person or source record, computed once (contract §3 step 2).
///
/// Built from identity fields as given; holds folded keys and 64-bit hashes of them, so scoring a
/// candidate is mostly integer comparisons. Raw name and kana stay for reasons only.
public struct MatchProfile: Sendable, Hashable {
    /// Where the person stands in the registry, for the rules that depend on it.
    public enum Standing: UInt8, Sendable, Hashable {
        /// No resident record: a candidate for linking by merge when the registry's event arrives.
        case unregistered
        /// Registered and living here.
        case active
        /// 転出.
        case movedOut
        /// 死亡.
        case deceased
    }

    /// The name as given (reasons only).
    public var name: String = ""
    /// The kana as given (reasons only).
    public var kana: String = ""
    /// Byte-exact hash of the name without spaces (0: no name).
    var nameExact: UInt64 = 0
    /// Width/case/order-folded name without spaces.
    var nameWidth: UInt64 = 0
    /// Variant-folded name without spaces, as scalars and hash.
    var nameFolded: [Unicode.Scalar] = []
    var nameFoldedHash: UInt64 = 0
    /// Variant-folded surname and given name (0 when the name has one word).
    var surname: UInt64 = 0
    var given: [Unicode.Scalar] = []
    /// Byte-exact kana hash without spaces, strong key (scalars, hash), weak key hash.
    var kanaExact: UInt64 = 0
    var kanaStrong: [Unicode.Scalar] = []
    var kanaStrongHash: UInt64 = 0
    var kanaWeak: UInt64 = 0
    /// Weak kana of the surname and of the given name (0 when the kana has one word).
    var kanaSurname: UInt64 = 0
    var kanaGiven: UInt64 = 0
    /// `YYYY-MM-DD` as eight digit bytes, empty when missing.
    var birthDate: [UInt8] = []
    /// 1 male, 2 female, 0 unknown or missing.
    var sex: UInt8 = 0
    /// Byte-exact address hash, folded key (scalars, hash), folded area hash.
    var addressExact: UInt64 = 0
    var address: [Unicode.Scalar] = []
    var addressHash: UInt64 = 0
    var area: UInt64 = 0
    /// The registry household, if any.
    public var household: String?
    /// The person's standing.
    public var standing: Standing = .unregistered
    /// Whether the person is protected (支援措置): address reasons are withheld.
    public var isProtected = false

    /// An empty profile.
    public init() {}

    /// The profile of identity fields (`name`, `name_kana`, `birth_date`, `sex`, `address`).
    public init(identity: JSONObject, standing: Standing = .unregistered, household: String? = nil, isProtected: Bool = false) {
        self.standing = standing
        self.household = household
        self.isProtected = isProtected
        if let name = identity["name"]?.stringValue { setName(name) }
        if let kana = identity["name_kana"]?.stringValue { setKana(kana) }
        if let date = identity["birth_date"]?.stringValue {
            let digits = date.utf8.filter { (0x30...0x39).contains($0) }
            if digits.count == 8 { birthDate = Array(digits) }
        }
        switch identity["sex"]?.stringValue {
        case "male"?: sex = 1
        case "female"?: sex = 2
        default: sex = 0
        }
        if let address = identity["address"]?.stringValue { setAddress(address) }
    }

    mutating func setName(_ text: String) {
        name = text
        nameExact = Self.hashSkippingSpaces(text)
        guard nameExact != 0 else { return }
        let width = MatchText.nameKey(text, variants: false)
        nameWidth = Self.hash(MatchText.joined(width))
        let folded = width.map(KanjiVariants.fold)
        nameFolded = MatchText.joined(folded)
        nameFoldedHash = Self.hash(nameFolded)
        let words = MatchText.words(folded)
        if words.count >= 2 {
            surname = Self.hash(words[0])
            given = Array(words[1...].joined())
        }
    }

    mutating func setKana(_ text: String) {
        kana = text
        kanaExact = Self.hashSkippingSpaces(text)
        guard kanaExact != 0 else { return }
        let strong = MatchText.kanaStrong(text)
        kanaStrong = MatchText.joined(strong)
        kanaStrongHash = Self.hash(kanaStrong)
        kanaWeak = Self.hash(MatchText.kanaWeak(strong))
        let words = MatchText.words(strong)
        if words.count >= 2 {
            kanaSurname = Self.hash(MatchText.kanaWeak(Array(words[0])))
            kanaGiven = Self.hash(MatchText.kanaWeak(Array(words[1...].joined())))
        }
    }

    mutating func setAddress(_ text: String) {
        addressExact = Self.hashSkippingSpaces(text)
        guard addressExact != 0 else { return }
        address = AddressKey.key(text)
        addressHash = Self.hash(address)
        area = Self.hash(AddressKey.area(address))
    }

    /// Whether the profile has anything to match on.
    public var isEmpty: Bool { nameExact == 0 && kanaExact == 0 }

    /// The blocking keys: birth date, weak kana, folded name (each a 64-bit hash; 0 is skipped).
    public var blockingKeys: [UInt64] {
        var keys: [UInt64] = []
        if !birthDate.isEmpty { keys.append(Self.hash(birthDate, seed: 0x64)) }
        if kanaWeak != 0 { keys.append(kanaWeak ^ 0x6B00_0000_0000_006B) }
        if nameFoldedHash != 0 { keys.append(nameFoldedHash ^ 0x6E00_0000_0000_006E) }
        return keys
    }

    // MARK: - Hashing (FNV-1a 64, stable across runs and machines)

    static func hash(_ scalars: some Sequence<Unicode.Scalar>) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for scalar in scalars {
            var bits = scalar.value
            for _ in 0..<3 {
                value = (value ^ UInt64(bits & 0xFF)) &* 0x100_0000_01b3
                bits >>= 8
            }
        }
        return value == 0 ? 1 : value
    }

    /// The hash of a text's scalars without spaces (U+0020, U+3000); 0 when nothing is left.
    static func hashSkippingSpaces(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        var any = false
        for scalar in text.unicodeScalars where scalar != " " && scalar != "\u{3000}" {
            any = true
            var bits = scalar.value
            for _ in 0..<3 {
                value = (value ^ UInt64(bits & 0xFF)) &* 0x100_0000_01b3
                bits >>= 8
            }
        }
        guard any else { return 0 }
        return value == 0 ? 1 : value
    }

    static func hash(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return value == 0 ? 1 : value
    }
}
