/// The match keys of one person or source record, computed once (contract §3 step 2).
///
/// Built from identity fields as given; holds 64-bit hashes of the folded keys, so scoring a
/// candidate is mostly integer comparisons. The few scalar keys that scoring reads (for one-edit
/// agreement and address suffixes) and the raw name and kana (for reasons) share one buffer, so a
/// profile costs one heap allocation: a million of them fit the linker's memory budget.
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

    /// The fixed-size part scoring reads for every candidate (no references: copying it is cheap).
    var signature = MatchSignature()
    /// The registry household, if any.
    public var household: String?
    /// Scalar keys and raw text, read only for near misses and reasons.
    var keys = MatchKeys()
    /// The person's other names (通称, the name with the 旧氏), each compared as an alternative to
    /// the name (``MatchIndex`` takes the best of them); empty for most people.
    public var alternatives: [AlternativeName] = []

    /// Another name a person is known by, and the profile that compares it: the person's identity
    /// with this name (and its reading, when given) in place of the name and reading.
    public struct AlternativeName: Sendable, Hashable {
        /// Which name it is.
        public enum Form: UInt8, Sendable, Hashable {
            /// 通称 (`name_alias`): a name registered for daily use, as foreign residents may.
            case alias
            /// The name with the 旧氏 (`former_surname`) in place of the surname.
            case formerSurname

            /// The reason's wording: which name matched.
            public var reason: String {
                switch self {
                case .alias: "通称で比較 (compared with the registered alias, 通称)"
                case .formerSurname: "旧氏で比較 (compared with the former surname, 旧氏)"
                }
            }
        }

        /// Which name it is.
        public var form: Form
        /// The identity with this name in place of the name.
        public var profile: MatchProfile
    }

    /// The identity fields that name a person's alternatives: `name_alias` (通称) with
    /// `name_alias_kana`, and `former_surname` (旧氏) with `former_surname_kana`.
    public static let alternativeNameFields = ["name_alias", "name_alias_kana", "former_surname", "former_surname_kana"]

    /// The person's standing.
    public var standing: Standing {
        get { signature.standing }
        set { signature.standing = newValue }
    }

    /// Whether the person is protected (支援措置): address reasons are withheld.
    public var isProtected: Bool {
        get { signature.isProtected }
        set { signature.isProtected = newValue }
    }

    /// An empty profile.
    public init() {}

    /// The profile of identity fields (`name`, `name_kana`, `birth_date`, `sex`, `address`).
    public init(identity: JSONObject, standing: Standing = .unregistered, household: String? = nil, isProtected: Bool = false) {
        self.standing = standing
        self.household = household
        self.isProtected = isProtected
        var builder = MatchKeys.Builder()
        let kana = identity["name_kana"]?.stringValue
        if let name = identity["name"]?.stringValue {
            if MatchText.isKanaOnly(name) {
                // A name written only in kana (a foreign resident's katakana, a child's hiragana)
                // is a reading: compared with a name in kanji or Latin script it would disagree
                // although it says nothing against it. It is compared as the reading instead (when
                // no reading is given), and the name counts as missing; kept for the reasons.
                builder.set(.name, name.unicodeScalars)
                if kana == nil { setKana(name, &builder) }
            } else {
                setName(name, &builder)
            }
        }
        if let kana { setKana(kana, &builder) }
        if let date = identity["birth_date"]?.stringValue { signature.birthDate = Self.packedDate(date) }
        switch identity["sex"]?.stringValue {
        case "male"?: signature.sex = 1
        case "female"?: signature.sex = 2
        default: signature.sex = 0
        }
        if let address = identity["address"]?.stringValue { setAddress(address, &builder) }
        keys = builder.keys
        if identity["name_alias"] != nil || identity["former_surname"] != nil {
            alternatives = Self.alternatives(identity, standing: standing, household: household, isProtected: isProtected)
        }
    }

    /// The profiles of the 通称 and of the name with the 旧氏 (the given name kept: the words of the
    /// name after the first, and of the reading when both readings are given); the other fields
    /// as in `identity`. A reading that is not given is left out (missing), never borrowed from
    /// the other name.
    static func alternatives(_ identity: JSONObject, standing: Standing, household: String?, isProtected: Bool) -> [AlternativeName] {
        var base = identity
        for key in alternativeNameFields { base[key] = nil }
        func given(_ text: String) -> Substring? {
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\u{3000}" })
            guard words.count >= 2, let first = words.first else { return nil }
            return text[first.endIndex...].drop { $0 == " " || $0 == "\u{3000}" }
        }
        var found: [AlternativeName] = []
        if let alias = identity["name_alias"]?.stringValue, !alias.isEmpty {
            var other = base
            other["name"] = .string(alias)
            other["name_kana"] = identity["name_alias_kana"]
            found.append(.init(form: .alias, profile: MatchProfile(identity: other, standing: standing, household: household, isProtected: isProtected)))
        }
        if let former = identity["former_surname"]?.stringValue, !former.isEmpty, let name = identity["name"]?.stringValue,
            let givenName = given(name)
        {
            var other = base
            other["name"] = .string(former + " " + givenName)
            other["name_kana"] = nil
            if let formerKana = identity["former_surname_kana"]?.stringValue, !formerKana.isEmpty,
                let kana = identity["name_kana"]?.stringValue, let givenKana = given(kana)
            {
                other["name_kana"] = .string(formerKana + " " + givenKana)
            }
            found.append(.init(form: .formerSurname, profile: MatchProfile(identity: other, standing: standing, household: household, isProtected: isProtected)))
        }
        return found.filter { !$0.profile.isEmpty }
    }

    /// The name as given (reasons only).
    public var name: String { keys.string(.name) }
    /// The kana as given (reasons only).
    public var kana: String { keys.string(.kana) }

    private mutating func setName(_ text: String, _ builder: inout MatchKeys.Builder) {
        signature.nameExact = Self.hashSkippingSpaces(text)
        guard signature.nameExact != 0 else { return }
        signature.nameGaiji = text.unicodeScalars.contains { GaijiTable.isPrivateUse($0.value) }
        builder.set(.name, text.unicodeScalars)
        let width = MatchText.nameKey(text, variants: false)
        signature.nameWidth = Self.hash(width, skippingSpaces: true)
        let folded = width.map(KanjiVariants.fold)
        signature.nameFoldedHash = Self.hash(folded, skippingSpaces: true)
        let joined = folded.filter { $0 != " " }
        signature.nameFolded = MatchSignature.Sketch(joined)
        builder.set(.nameFolded, joined)
        if folded.allSatisfy({ $0.value < 0x80 }) {
            signature.nameLatin = true
            builder.set(.latinWords, folded)
            // The two longest words spelt out (not initials) block on their own, whatever their
            // order: a typo in one word and a wrong birth date still leave the record a candidate.
            let spelt = folded.split(separator: " ").filter { $0.count >= 2 && $0.allSatisfy { ("a"..."z").contains($0) } }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
            if let first = spelt.first {
                func key(_ word: ArraySlice<Unicode.Scalar>) -> UInt64 { Swift.max(1, Self.hash(word) >> 32) }
                signature.latinWordKeys = key(first) << 32 | key(spelt.count > 1 ? spelt[1] : first)
            }
        }
        if let space = folded.firstIndex(of: " "), space > 0 {
            signature.surname = Self.hash(folded[..<space], skippingSpaces: true)
            let given = folded[(space + 1)...].filter { $0 != " " }
            signature.given = MatchSignature.Sketch(given)
            builder.set(.given, given)
        }
    }

    private mutating func setKana(_ text: String, _ builder: inout MatchKeys.Builder) {
        signature.kanaExact = Self.hashSkippingSpaces(text)
        guard signature.kanaExact != 0 else { return }
        builder.set(.kana, text.unicodeScalars)
        let strong = MatchText.kanaStrong(text)
        signature.kanaStrongHash = Self.hash(strong, skippingSpaces: true)
        let joined = strong.filter { $0 != " " }
        signature.kanaStrong = MatchSignature.Sketch(joined)
        builder.set(.kanaStrong, joined)
        signature.kanaWeak = Self.hash(MatchText.kanaWeak(strong))
        if let space = strong.firstIndex(of: " "), space > 0 {
            signature.kanaSurname = Self.hash(MatchText.kanaWeak(Array(strong[..<space])))
            // The given name is the last word (a middle name, as foreign residents have, is not
            // what twins differ in), without geminate ッ: リッカ and リカ transcribe one name.
            let last = strong.lastIndex(of: " ").map { strong.index(after: $0) } ?? strong.startIndex
            signature.kanaGiven = Self.hash(MatchText.kanaWeak(strong[last...].filter { $0 != "ッ" && $0 != "っ" }))
        }
    }

    private mutating func setAddress(_ text: String, _ builder: inout MatchKeys.Builder) {
        signature.addressExact = Self.hashSkippingSpaces(text)
        guard signature.addressExact != 0 else { return }
        signature.addressGaiji = text.unicodeScalars.contains { GaijiTable.isPrivateUse($0.value) }
        let address = AddressKey.key(text)
        builder.set(.address, address)
        signature.addressHash = Self.hash(address)
        signature.area = Self.hash(AddressKey.area(address))
        signature.addressNamed = address.first.map { !("0"..."9").contains($0) } ?? false
        signature.addressCount = UInt16(clamping: address.count)
        signature.addressTail = Self.hash(address.suffix(MatchSignature.tailLength))
        let numbers = address.filter { ("0"..."9").contains($0) || $0 == "-" }
        signature.addressNumbers = numbers.contains(where: { $0 != "-" }) ? Self.hash(numbers) : 0
        let words = AddressKey.latinWords(text)
        if !words.isEmpty {
            signature.addressLatin = true
            builder.set(.addressWords, words)
        }
    }

    /// Whether the profile has anything to match on.
    public var isEmpty: Bool { signature.nameExact == 0 && signature.kanaExact == 0 }

    /// The blocking keys: birth date, weak kana, folded name, a Latin-script address's numbers, a
    /// Latin-script name's two longest words (each a 64-bit hash; 0 is skipped).
    public var blockingKeys: [UInt64] {
        var keys: [UInt64] = []
        keys.reserveCapacity(3)
        forEachBlockingKey { keys.append($0) }
        return keys
    }

    /// Calls `body` with each blocking key, without building an array.
    @inline(__always)
    func forEachBlockingKey(_ body: (UInt64) -> Void) { signature.forEachBlockingKey(body) }

    /// `YYYY-MM-DD` (any separators) as eight digit bytes in a UInt64; 0 unless exactly 8 digits.
    static func packedDate(_ text: String) -> UInt64 {
        var value: UInt64 = 0
        var digits = 0
        for byte in text.utf8 where (0x30...0x39).contains(byte) {
            digits += 1
            guard digits <= 8 else { return 0 }
            value = value << 8 | UInt64(byte)
        }
        return digits == 8 ? value : 0
    }

    // MARK: - Hashing (FNV-1a 64, stable across runs and machines)

    static func hash(_ scalars: some Sequence<Unicode.Scalar>, skippingSpaces: Bool = false) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for scalar in scalars where !skippingSpaces || scalar != " " {
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

    /// A 64-bit finaliser (splitmix64), for keys that are not hashes already.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        let value = z ^ (z >> 31)
        return value == 0 ? 1 : value
    }
}

/// The fixed-size part of a profile: hashes of every folded key, the packed birth date, and small
/// sketches of the keys that one-edit agreement needs, so most candidates are settled without
/// reading their scalar keys.
struct MatchSignature: Sendable, Hashable {
    /// A key's length and a 64-bit set of its scalars: two keys one edit apart differ by at most one
    /// in length and in at most two bits, so most strangers are told apart without the scalars.
    struct Sketch: Sendable, Hashable {
        var count: UInt16 = 0
        var bits: UInt64 = 0

        init() {}

        init(_ scalars: [Unicode.Scalar]) {
            count = UInt16(clamping: scalars.count)
            for scalar in scalars { bits |= 1 << (MatchProfile.mix(UInt64(scalar.value)) & 63) }
        }

        /// Whether the keys could be one edit apart (never false when they are).
        @inline(__always)
        func mayBeOneEditFrom(_ other: Sketch) -> Bool {
            count != 0 && other.count != 0 && (count > other.count ? count - other.count : other.count - count) <= 1
                && (bits ^ other.bits).nonzeroBitCount <= 2
        }
    }

    /// How many trailing scalars of the address key ``addressTail`` hashes.
    static let tailLength = 4

    /// The eight digits of `YYYY-MM-DD` as bytes, the first in the top byte; 0 when missing.
    var birthDate: UInt64 = 0
    /// Byte-exact hash of the name without spaces (0: no name).
    var nameExact: UInt64 = 0
    /// Width/case/order-folded name without spaces.
    var nameWidth: UInt64 = 0
    /// Variant-folded name without spaces.
    var nameFoldedHash: UInt64 = 0
    /// Byte-exact kana hash without spaces, strong key hash, weak key hash.
    var kanaExact: UInt64 = 0
    var kanaStrongHash: UInt64 = 0
    var kanaWeak: UInt64 = 0
    /// Byte-exact address hash, folded key hash, folded area hash.
    var addressExact: UInt64 = 0
    var addressHash: UInt64 = 0
    var area: UInt64 = 0
    /// Hash of the address key's last ``tailLength`` scalars, and the key's length.
    var addressTail: UInt64 = 0
    /// Hash of the address key's digits and dashes (番地, house and room numbers); 0 without digits.
    var addressNumbers: UInt64 = 0
    var addressCount: UInt16 = 0
    /// 1 male, 2 female, 0 unknown or missing.
    var sex: UInt8 = 0
    /// The name is in Latin script (its words are kept for the order/initials/middle-name level).
    var nameLatin = false
    /// Blocking keys of a Latin-script name's two longest spelt-out words (32 bits each; 0
    /// without such a name).
    var latinWordKeys: UInt64 = 0
    /// The folded address starts with a place name (not a number), so "same area" means something.
    var addressNamed = false
    /// The address is in Latin script: its words are kept (``MatchKeys/Part/addressWords``) for
    /// the token levels (``MatchText/addressWordAgreement(_:_:)``).
    var addressLatin = false
    /// The name holds a Private Use character (an unmapped 外字, issue 16): it never agrees better
    /// than ``AgreementLevel/partial``, whatever the other side holds (the same code point means
    /// different characters at two vendors).
    var nameGaiji = false
    /// The address holds a Private Use character: it agrees at most at the ``AgreementLevel/fuzzy``
    /// level (the rest agrees; that character is not compared).
    var addressGaiji = false
    /// The person's standing.
    var standing: MatchProfile.Standing = .unregistered
    /// Whether the person is protected (支援措置).
    var isProtected = false
    /// Variant-folded surname (0 when the name has one word).
    var surname: UInt64 = 0
    /// Weak kana of the surname (first word) and of the given name (last word, geminate ッ left
    /// out), 0 when the kana has one word.
    var kanaSurname: UInt64 = 0
    var kanaGiven: UInt64 = 0
    /// Sketches of the folded name, folded given name and strong kana (all without spaces).
    var nameFolded = Sketch()
    var given = Sketch()
    var kanaStrong = Sketch()

    /// The birth date's blocking key.
    var dateBlockingKey: UInt64 { MatchProfile.mix(birthDate ^ 0x6400_0000_0000_0064) }

    /// Calls `body` with each blocking key: birth date, weak kana, folded name, a Latin-script
    /// address's numbers (house number and postcode: in Latin script each house has its own, so
    /// the block is a household), and a Latin-script name's two longest words (0 is skipped).
    @inline(__always)
    func forEachBlockingKey(_ body: (UInt64) -> Void) {
        if birthDate != 0 { body(dateBlockingKey) }
        if kanaWeak != 0 { body(kanaWeak ^ 0x6B00_0000_0000_006B) }
        if nameFoldedHash != 0 { body(nameFoldedHash ^ 0x6E00_0000_0000_006E) }
        if addressLatin && addressNumbers != 0 { body(addressNumbers ^ 0x6100_0000_0000_0061) }
        if latinWordKeys != 0 {
            let first = latinWordKeys >> 32, last = latinWordKeys & 0xFFFF_FFFF
            body(MatchProfile.mix(first ^ 0x7700_0000_0000_0077))
            if last != first { body(MatchProfile.mix(last ^ 0x7700_0000_0000_0077)) }
        }
    }
}

/// The scalar keys of a profile in one buffer: eight parts (raw name, raw kana, folded name without
/// spaces, folded given name, strong kana without spaces, address key, a Latin-script name's
/// folded words with spaces, and a Latin-script address's words with spaces), each a run of scalar
/// values. The first eight elements are the parts' end offsets; an empty profile allocates nothing.
struct MatchKeys: Sendable, Hashable {
    /// The parts, in buffer order.
    enum Part: Int, CaseIterable {
        case name, kana, nameFolded, given, kanaStrong, address, latinWords, addressWords
    }

    private static let header = Part.allCases.count
    private var storage: [UInt32] = []

    /// The scalar values of one part.
    @inline(__always)
    func part(_ part: Part) -> ArraySlice<UInt32> {
        guard !storage.isEmpty else { return [] }
        let start = part.rawValue == 0 ? Self.header : Int(storage[part.rawValue - 1])
        return storage[start..<Int(storage[part.rawValue])]
    }

    /// The number of scalars in one part.
    @inline(__always)
    func count(_ part: Part) -> Int {
        guard !storage.isEmpty else { return 0 }
        let start = part.rawValue == 0 ? Self.header : Int(storage[part.rawValue - 1])
        return Int(storage[part.rawValue]) - start
    }

    /// One part as text.
    func string(_ part: Part) -> String {
        var view = String.UnicodeScalarView()
        for value in self.part(part) { view.append(Unicode.Scalar(value)!) }
        return String(view)
    }

    /// Collects the parts (in any order) and packs them.
    struct Builder {
        private var parts: [[UInt32]] = Array(repeating: [], count: MatchKeys.header)

        mutating func set(_ part: Part, _ scalars: some Sequence<Unicode.Scalar>) {
            parts[part.rawValue] = scalars.map(\.value)
        }

        var keys: MatchKeys {
            var keys = MatchKeys()
            let total = parts.reduce(0) { $0 + $1.count }
            guard total > 0 else { return keys }
            keys.storage.reserveCapacity(MatchKeys.header + total)
            var end = MatchKeys.header
            for part in parts {
                end += part.count
                keys.storage.append(UInt32(end))
            }
            for part in parts { keys.storage.append(contentsOf: part) }
            return keys
        }
    }
}
