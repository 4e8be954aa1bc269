/// How a source record finds its person (contract §3 "Linking, in order").
///
/// 1. Key: a record carrying a 宛名番号 belongs to that resident's uid (reserved if the resident
///    event has not arrived yet).
/// 2. Match: a record without one is scored against the blocking index; ≥ `auto_link` links it
///    (method `match`), `review` ≤ score < `auto_link` raises a review item and gives it its own
///    `unregistered` uid, below that it gets its own uid.
/// 3. Operator decisions (`operator.*` events) override both (``Projection/applyOperator(_:_:)``).
struct Linker: Sendable {
    /// The field weights in force: the last estimate (`operator.linking_estimated`) with the values
    /// `linking.weights` configures written over it (``WeightsOverride``), else the configured
    /// weights over the defaults.
    private(set) var weights: MatchWeights = .standard
    /// `linking.weights` (the defaults when not configured).
    private(set) var configured: MatchWeights = .standard
    /// What `linking.weights` configures, value by value.
    private(set) var override = WeightsOverride(configured: .standard)
    /// The weights of the last `operator.linking_estimated` event applied.
    private(set) var estimated: MatchWeights?
    /// `auto_link`, `review`, margin.
    var thresholds = LinkingThresholds()

    init(weights: MatchWeights = .standard, thresholds: LinkingThresholds = LinkingThresholds()) {
        configured = weights
        override = WeightsOverride(configured: weights)
        self.weights = weights
        self.thresholds = thresholds
    }

    /// Whether `linking.weights` configures any value (configured weights other than the defaults).
    var isOverridden: Bool { !override.isEmpty }

    /// Takes an estimate; it decides from now on, under the values `linking.weights` configures.
    mutating func use(estimate: MatchWeights?) {
        estimated = estimate
        weights = WeightsOverride.inForce(configured: configured, estimated: estimate).weights
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
        let key = LinkKey(source: source, subject: subject)
        if let uid = linkIndex[key] {
            // A key that arrives after the record was linked without one joins the two uids.
            if let atenaNo, source != "resident" {
                if let owner = atenaIndex[atenaNo], owner != uid {
                    return merge(uid, owner, &change)
                } else if atenaIndex[atenaNo] == nil {
                    update(uid, &change) { person in
                        if person.atenaNo == nil { person.atenaNo = atenaNo } else { person.otherAtenaNos.append(atenaNo) }
                    }
                    atenaIndex[atenaNo] = uid
                }
            }
            return uid
        }
        if let pin = decisions.pins.first(where: { $0.source == source && $0.subject == subject }) {
            let uid = resolve(pin.uid)
            if persons[uid] != nil {
                addLink(PersonLink(source: source, subject: subject, method: "operator"), to: uid, &change)
                change.decided.insert(uid)
                return uid
            }
        }
        if let atenaNo {
            let uid = atenaUID(atenaNo, &change)
            addLink(PersonLink(source: source, subject: subject), to: uid, &change)
            return uid
        }
        let profile = MatchProfile(identity: identity)
        let decision = matchIndex.decide(profile, weights: linker.weights, thresholds: linker.thresholds) { number, _ in
            !decisions.refused.contains(.init(source: source, subject: subject, uid: Self.formatUID(Int64(number))))
        }
        switch decision {
        case .link(let candidate):
            let uid = Self.formatUID(Int64(candidate.number))
            let link = PersonLink(
                source: source, subject: subject, method: "match", score: candidate.comparison.score,
                reasons: candidate.reasons)
            addLink(link, to: uid, &change)
            return uid
        case .review(let candidates):
            let uid = allocate(&change)
            addLink(PersonLink(source: source, subject: subject), to: uid, &change)
            change.decided.insert(uid)
            openReview(source: source, subject: subject, candidates: candidates, lsn: change.lsn)
            return uid
        case .none:
            let uid = allocate(&change)
            addLink(PersonLink(source: source, subject: subject), to: uid, &change)
            change.decided.insert(uid)
            return uid
        }
    }

    /// The uid that owns or reserved a 宛名番号, allocating and reserving one if none does.
    mutating func atenaUID(_ atenaNo: String, _ change: inout Change) -> String {
        if let uid = atenaIndex[atenaNo] { return uid }
        return allocate(&change, atenaNo: atenaNo)
    }
}
