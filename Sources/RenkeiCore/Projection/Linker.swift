/// How a source record finds its person (contract §3 "Linking, in order").
///
/// Step 1, keys, is all it does today: a record carrying a 宛名番号 belongs to that resident's uid
/// (reserved if the resident event has not arrived yet). A record without one is `unmatched`
/// and gets its own `unregistered` uid.
///
/// Step 2, matching, slots in at ``resolve(atenaNo:identity:source:)``: score `identity` against
/// the projection and answer `.matched` (auto-link, method `match`) or a review item. The
/// projection then only has to handle the new cases.
struct Linker: Sendable {
    /// Where a new source record goes.
    enum Resolution: Equatable {
        /// The uid that owns or reserved the 宛名番号.
        case key(uid: String)
        /// A 宛名番号 nobody holds yet: allocate a uid and reserve it.
        case reserve(atenaNo: String)
        /// No key and no match: a new `unregistered` uid.
        case unmatched
    }

    /// Resolves a record that is not linked yet.
    /// - Parameters:
    ///   - atenaNo: the record's 宛名番号, if it carries one.
    ///   - identity: the identity fields it gives (for matching, later).
    ///   - source: its source.
    ///   - atenaIndex: who owns or reserved each 宛名番号.
    func resolve(atenaNo: String?, identity: JSONObject, source: String, atenaIndex: [String: String]) -> Resolution {
        guard let atenaNo else { return .unmatched }
        if let uid = atenaIndex[atenaNo] { return .key(uid: uid) }
        return .reserve(atenaNo: atenaNo)
    }
}

extension Projection {
    /// The uid of (`source`, `subject`), linking it first if it is new.
    /// - Parameters:
    ///   - atenaNo: the 宛名番号 the record carries, if any.
    ///   - identity: the identity fields it gives.
    mutating func linkedUID(
        source: String, subject: String, atenaNo: String?, identity: JSONObject, _ change: inout Change
    ) -> String {
        if let uid = linkIndex[LinkKey(source: source, subject: subject)] { return uid }
        let uid: String
        switch linker.resolve(atenaNo: atenaNo, identity: identity, source: source, atenaIndex: atenaIndex) {
        case .key(let owner): uid = owner
        case .reserve(let atenaNo): uid = allocate(&change, atenaNo: atenaNo)
        case .unmatched: uid = allocate(&change)
        }
        addLink(PersonLink(source: source, subject: subject), to: uid, &change)
        return uid
    }

    /// The uid that owns or reserved a 宛名番号, allocating and reserving one if none does.
    mutating func atenaUID(_ atenaNo: String, _ change: inout Change) -> String {
        if let uid = atenaIndex[atenaNo] { return uid }
        return allocate(&change, atenaNo: atenaNo)
    }
}
