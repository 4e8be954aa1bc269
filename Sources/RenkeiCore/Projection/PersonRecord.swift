/// How a source record came to belong to a person (contract §3 `links[].method`).
public struct PersonLink: Sendable, Hashable {
    /// The source system (`resident`, `tax`, `childcare`, `library`, …).
    public var source: String
    /// The source's own record id.
    public var subject: String
    /// `key`, `match` or `operator`.
    public var method: String
    /// The match score (0…1), for `match` links only.
    public var score: Double?
    /// Per-field reasons of a `match` link, worded for an official (never an address or 個人番号).
    public var reasons: [String]

    /// Creates a link.
    public init(source: String, subject: String, method: String = "key", score: Double? = nil, reasons: [String] = []) {
        self.source = source
        self.subject = subject
        self.method = method
        self.score = score
        self.reasons = reasons
    }

    /// The link as it appears in a person view: `source`, `subject`, `method`, `score` and
    /// `reasons` when present.
    public var viewValue: JSONValue { viewValue(protected: false) }

    /// The view form; while the person is protected, address reasons are withheld.
    func viewValue(protected: Bool) -> JSONValue {
        var members: [JSONObject.Member] = [
            .init(key: "source", value: .string(source)), .init(key: "subject", value: .string(subject)),
            .init(key: "method", value: .string(method)),
        ]
        if let score { members.append(.init(key: "score", value: .double(score))) }
        if !reasons.isEmpty {
            let shown = reasons.map { reason -> JSONValue in
                guard protected, reason.hasPrefix("address: ") else { return .string(reason) }
                return .string("address: 支援措置のため非表示 (withheld: protected person)")
            }
            members.append(.init(key: "reasons", value: .array(shown)))
        }
        return .object(JSONObject(uniqueMembers: members))
    }
}

/// One source record linked to a person, with the data that source holds about them.
///
/// Keeping each source's own data lets the view be recomputed from its parts: a correction in
/// one source never overwrites what another said.
public struct SourceRecord: Sendable, Hashable {
    /// The link that ties this record to its person.
    public var link: PersonLink
    /// Identity fields this record gives, as given (`name`, `name_kana`, `birth_date`, `sex`,
    /// `address`, `postal_code`; resident records also `household_no`, `relationship`, `my_number`).
    public var identity: JSONObject
    /// Source-specific state: resident `status`/`protected`; tax `fiscal_year`, `taxable`,
    /// `income_levy`, `per_capita_levy`; childcare `status`, `facility_code`, `certification`,
    /// `monthly_fee`; library `status`.
    public var facts: JSONObject
    /// The 全国地方公共団体コード the record was accepted under (issue 16): the code of the event that
    /// created it, or the daemon's `municipality` for an event logged without one; `nil` when
    /// neither is known (a projection without a configured municipality).
    public var municipality: String?

    /// Creates a source record.
    public init(
        link: PersonLink, identity: JSONObject = JSONObject(), facts: JSONObject = JSONObject(), municipality: String? = nil
    ) {
        self.link = link
        self.identity = identity
        self.facts = facts
        self.municipality = municipality
    }
}

/// Everything the projection holds about one unified person (統合宛名): the unit the daemon stores.
///
/// The person view is computed from this record alone, so a restored record gives the same bytes.
public struct PersonRecord: Sendable, Hashable {
    /// The unified ID, `U` + 10 digits.
    public var uid: String
    /// The per-uid view version, from 1.
    public var version: Int64
    /// The lsn of the event that produced ``version``.
    public var lsn: Int64
    /// The 宛名番号 that belongs to this uid: its resident record's subject, or one reserved by a
    /// tax or childcare record (or a guardian reference) that arrived before the resident event.
    public var atenaNo: String?
    /// The linked source records, in link order.
    public var records: [SourceRecord]
    /// The uids of the children this person is a guardian of, in order of first relation.
    public var guardianOf: [String]
    /// For a retired uid: the uid it was merged into (the record then holds nothing else).
    public var mergedInto: String?
    /// 宛名番号 beyond ``atenaNo`` that belong here after merges (a 再転入 linked by an operator).
    public var otherAtenaNos: [String] = []

    /// Creates a record.
    public init(
        uid: String, version: Int64 = 1, lsn: Int64, atenaNo: String? = nil, records: [SourceRecord] = [],
        guardianOf: [String] = []
    ) {
        self.uid = uid
        self.version = version
        self.lsn = lsn
        self.atenaNo = atenaNo
        self.records = records
        self.guardianOf = guardianOf
    }

    /// The first record from `source`, if any.
    public func record(from source: String) -> SourceRecord? {
        records.first { $0.link.source == source }
    }

    /// The index of the record for (`source`, `subject`), if linked (a record whose link has ended,
    /// its subject reissued, no longer answers for that subject).
    func recordIndex(source: String, subject: String) -> Int? {
        records.firstIndex {
            $0.link.source == source && JSONObject.sameKey($0.link.subject, subject) && $0.linkEndedLSN == nil
        }
    }

    /// The resident record, if the registry knows this person: the last active one, else the last
    /// one (a person with two after an operator linked a 再転入).
    var resident: SourceRecord? {
        var last: SourceRecord?
        var active: SourceRecord?
        for record in records where record.link.source == "resident" {
            last = record
            if record.facts["status"]?.stringValue == "active" { active = record }
        }
        return active ?? last
    }

    /// Every 宛名番号 that belongs to this uid.
    var atenaNumbers: [String] { (atenaNo.map { [$0] } ?? []) + otherAtenaNos }

    /// Whether the registry marks this person as protected (支援措置).
    public var isProtected: Bool { resident?.facts["protected"]?.boolValue ?? false }

    /// The household this person is counted in: their registry household while `active`.
    public var memberOf: String? {
        guard let resident, resident.facts["status"]?.stringValue == "active" else { return nil }
        return resident.identity["household_no"]?.stringValue
    }

    /// The sources this person has records from, sorted, each once: what decides whether a
    /// `linked_to` subscription sees the person as a household member.
    var linkedSources: [String] {
        var sources: [String] = []
        for record in records where !sources.contains(record.link.source) { sources.append(record.link.source) }
        return sources.sorted()
    }

    /// Whether the person's latest assessment says 非課税 (no assessment counts as exempt).
    var isTaxExempt: Bool {
        guard let tax = latestTax else { return true }
        return tax["taxable"]?.boolValue == false
    }

    /// The facts of the tax record with the latest fiscal year (the later link on a tie).
    var latestTax: JSONObject? {
        var best: JSONObject?
        var bestYear = Int64.min
        for record in records where record.link.source == "tax" {
            guard let year = record.facts["fiscal_year"]?.integerValue else { continue }
            if year >= bestYear {
                best = record.facts
                bestYear = year
            }
        }
        return best
    }
}
