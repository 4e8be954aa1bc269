/// One open review item (contract §3 step 2, §6 `GET /v1/reviews`): a record whose best match
/// scored between `review` and `auto_link`, or that a rule kept from linking automatically
/// (twins, a close second, 再転入). Candidates carry uid, score and reasons only: never an
/// address, a birth date or a 個人番号.
public struct ReviewItem: Sendable, Hashable {
    /// One candidate person.
    public struct Candidate: Sendable, Hashable {
        /// The candidate's uid.
        public var uid: String
        /// The score, 0…1.
        public var score: Double
        /// Per-field reasons.
        public var reasons: [String]

        /// Creates a candidate.
        public init(uid: String, score: Double, reasons: [String]) {
            self.uid = uid
            self.score = score
            self.reasons = reasons
        }
    }

    /// `RV` + 10 digits, allocated in log order.
    public var id: String
    /// The record's source.
    public var source: String
    /// The record's subject.
    public var subject: String
    /// Candidates, best first.
    public var candidates: [Candidate]
    /// The lsn of the event that raised it.
    public var lsn: Int64

    /// Creates an item.
    public init(id: String, source: String, subject: String, candidates: [Candidate], lsn: Int64) {
        self.id = id
        self.source = source
        self.subject = subject
        self.candidates = candidates
        self.lsn = lsn
    }

    /// Formats a review number: `RV` + 10 digits.
    public static func formatID(_ number: Int64) -> String {
        let digits = String(number)
        return "RV" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// `{"id", "source", "subject", "candidates": [{"uid", "score", "reasons"}]}`: the reply form.
    public var jsonValue: JSONValue {
        let candidates: [JSONValue] = candidates.map {
            .object([
                "uid": .string($0.uid), "score": .double($0.score), "reasons": .array($0.reasons.map { .string($0) }),
            ])
        }
        return .object([
            "id": .string(id), "source": .string(source), "subject": .string(subject), "candidates": .array(candidates),
        ])
    }

    /// The stored form: the reply form plus `lsn`.
    public var encoded: [UInt8] {
        guard case .object(var object) = jsonValue else { return [] }
        object["lsn"] = .integer(lsn)
        return JSONValue.object(object).serializedBytes
    }

    /// Reads an item back from ``encoded`` bytes.
    /// - Throws: ``RenkeiError`` with code `database` when the bytes are not a stored review item.
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "review item")
        var candidates: [Candidate] = []
        for element in try stored.array("candidates") {
            guard let object = element.objectValue else { throw stored.damaged("candidates") }
            let part = StoredJSON(object: object, what: "review candidate")
            let score: Double
            switch object["score"] {
            case .double(let value)?: score = value
            case .integer(let value)?: score = Double(value)
            default: throw part.damaged("score")
            }
            candidates.append(Candidate(uid: try part.string("uid"), score: score, reasons: try part.strings("reasons")))
        }
        self.init(
            id: try stored.string("id"), source: try stored.string("source"), subject: try stored.string("subject"),
            candidates: candidates, lsn: try stored.integer("lsn"))
    }
}

/// Operator decisions the matcher must respect on later events (contract §3 step 3): pairs an
/// operator rejected or unlinked are never linked automatically again, and records an operator
/// linked before they arrived go straight to their uid.
public struct LinkDecisions: Sendable, Hashable {
    /// `source`, `subject` and the uid it must not be linked to automatically.
    public struct Pair: Sendable, Hashable {
        /// The source.
        public var source: String
        /// The subject.
        public var subject: String
        /// The uid.
        public var uid: String

        /// Creates a pair.
        public init(source: String, subject: String, uid: String) {
            self.source = source
            self.subject = subject
            self.uid = uid
        }
    }

    /// Pairs rejected in review or unlinked by an operator.
    public var refused: Set<Pair> = []
    /// (source, subject) → uid, for operator links of records not seen yet.
    public var pins: [Pair] = []
    /// The data of the last `operator.linking_estimated` event (weights, m, u, counts), and its lsn.
    public var estimate: (data: JSONObject, lsn: Int64)? {
        get { estimateData.map { ($0, estimateLSN) } }
        set {
            estimateData = newValue?.data
            estimateLSN = newValue?.lsn ?? 0
        }
    }
    private var estimateData: JSONObject?
    private var estimateLSN: Int64 = 0
    /// The largest `linking.estimate_at_records` size at which the daemon has estimated on its own
    /// (an `operator.linking_estimated` event whose `trigger` names it), 0 before any: sizes up to
    /// it are never estimated at again, across restarts and rebuilds.
    public var estimatedAtRecords = 0

    /// The weights of the last estimate, if any.
    public var estimatedWeights: MatchWeights? {
        estimateData?["weights"]?.objectValue.flatMap { MatchWeights(json: $0) }
    }

    /// No decisions.
    public init() {}

    /// Whether nothing was decided.
    public var isEmpty: Bool { refused.isEmpty && pins.isEmpty && estimateData == nil && estimatedAtRecords == 0 }

    /// Compact JSON bytes: `{"refused": [[source, subject, uid]], "pins": [[source, subject, uid]],
    /// "estimate"?: {data, lsn}, "estimated_at_records"?: n}`, sorted, for storage.
    public var encoded: [UInt8] {
        func rows(_ pairs: [Pair]) -> JSONValue {
            .array(pairs.map { .array([.string($0.source), .string($0.subject), .string($0.uid)]) })
        }
        let refused = refused.sorted { ($0.source, $0.subject, $0.uid) < ($1.source, $1.subject, $1.uid) }
        var object: JSONObject = ["refused": rows(refused), "pins": rows(pins)]
        if let estimateData {
            object["estimate"] = .object(["data": .object(estimateData), "lsn": .integer(estimateLSN)])
        }
        if estimatedAtRecords > 0 { object["estimated_at_records"] = .integer(Int64(estimatedAtRecords)) }
        return JSONValue.object(object).serializedBytes
    }

    /// Reads decisions back from ``encoded`` bytes.
    /// - Throws: ``RenkeiError`` with code `database` when the bytes are not stored decisions.
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "link decisions")
        func rows(_ key: String) throws(RenkeiError) -> [Pair] {
            var pairs: [Pair] = []
            for row in try stored.array(key) {
                guard let parts = row.arrayValue?.compactMap(\.stringValue), parts.count == 3 else {
                    throw stored.damaged(key)
                }
                pairs.append(Pair(source: parts[0], subject: parts[1], uid: parts[2]))
            }
            return pairs
        }
        refused = Set(try rows("refused"))
        pins = try rows("pins")
        if let estimate = stored.object["estimate"] {
            guard let data = estimate["data"]?.objectValue, let lsn = estimate["lsn"]?.integerValue,
                data["weights"]?.objectValue.flatMap({ MatchWeights(json: $0) }) != nil
            else { throw stored.damaged("estimate") }
            self.estimate = (data, lsn)
        }
        if let size = stored.object["estimated_at_records"] {
            guard let value = size.integerValue, value >= 0 else { throw stored.damaged("estimated_at_records") }
            estimatedAtRecords = Int(value)
        }
    }
}
