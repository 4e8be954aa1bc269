// MARK: - One finding and its record

/// One person failing one check, with the facts behind it and where it stands.
///
/// Its ``id`` is a digest of check, uid and subject, so the same problem keeps the same id while it
/// lasts, across restarts and rebuilds, and when it comes back after being resolved.
public struct ReconciliationFinding: Sendable, Hashable {
    /// Where a finding stands.
    public enum State: String, Sendable, CaseIterable {
        /// The person fails the check and no official has explained it.
        case open
        /// The person still fails the check, and an official recorded why (`operator.finding_explained`).
        case explained
        /// The data changed and the person passes the check now.
        case resolved
    }

    /// An official's explanation.
    public struct Explanation: Sendable, Hashable {
        /// The note, as given.
        public var note: String
        /// The lsn of the `operator.finding_explained` event.
        public var lsn: Int64
        /// When it was logged (`recorded_at`).
        public var at: String
    }

    /// `F` + 16 lowercase hex digits (``makeID(check:uid:subject:)``).
    public var id: String
    /// The check's name.
    public var check: String
    /// The person.
    public var uid: String
    /// What within the person it is about (``ReconciliationDraft/subject``).
    public var subject: String
    /// The facts behind it (never a protected person's address).
    public var facts: JSONObject
    /// Where it stands.
    public var state: State
    /// The lsn of the event after which it (last) opened.
    public var sinceLSN: Int64
    /// When that event was logged (`recorded_at`, RFC 3339 UTC).
    public var since: String
    /// The explanation, while ``state`` is `explained` (kept on a resolved finding that had one).
    public var explanation: Explanation?
    /// The lsn of the event after which it resolved, when ``state`` is `resolved`.
    public var resolvedLSN: Int64?
    /// When that event was logged.
    public var resolvedAt: String?

    /// A stable id for (check, uid, subject): `F` + the 64-bit FNV-1a digest of the three, NUL-separated,
    /// in hex. Not a secret; only stable.
    public static func makeID(check: String, uid: String, subject: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in check.utf8 + [0] + uid.utf8 + [0] + subject.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "F" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The JSON form (stored and answered): `id`, `check`, `uid`, `subject`, `state`, `facts`,
    /// `since`, `since_lsn`, and `explanation` {`note`, `lsn`, `at`}, `resolved_lsn`, `resolved_at`
    /// when present.
    public var json: JSONObject {
        var object: JSONObject = [
            "id": .string(id), "check": .string(check), "uid": .string(uid), "subject": .string(subject),
            "state": .string(state.rawValue), "facts": .object(facts), "since": .string(since),
            "since_lsn": .integer(sinceLSN),
        ]
        if let explanation {
            object["explanation"] = [
                "note": .string(explanation.note), "lsn": .integer(explanation.lsn), "at": .string(explanation.at),
            ]
        }
        if let resolvedLSN { object["resolved_lsn"] = .integer(resolvedLSN) }
        if let resolvedAt { object["resolved_at"] = .string(resolvedAt) }
        return object
    }

    /// Reads the JSON form back.
    /// - Throws: ``RenkeiError`` (`database`) when a member is missing or mistyped (rebuild the projection).
    public init(decoding bytes: [UInt8]) throws(RenkeiError) {
        let stored = try StoredJSON(bytes: bytes, what: "reconciliation finding")
        id = try stored.string("id")
        check = try stored.string("check")
        uid = try stored.string("uid")
        subject = try stored.string("subject")
        guard let state = State(rawValue: try stored.string("state")) else { throw stored.damaged("state") }
        self.state = state
        facts = try stored.objectMember("facts")
        since = try stored.string("since")
        sinceLSN = try stored.integer("since_lsn")
        if let explained = stored.object["explanation"]?.objectValue {
            let inner = StoredJSON(object: explained, what: "reconciliation finding explanation")
            explanation = Explanation(note: try inner.string("note"), lsn: try inner.integer("lsn"), at: try inner.string("at"))
        }
        resolvedLSN = stored.object["resolved_lsn"]?.integerValue
        resolvedAt = stored.object["resolved_at"]?.stringValue
    }

    init(id: String, check: String, uid: String, subject: String, facts: JSONObject, lsn: Int64, at: String) {
        self.id = id
        self.check = check
        self.uid = uid
        self.subject = subject
        self.facts = facts
        self.state = .open
        self.sinceLSN = lsn
        self.since = at
    }

    /// The finding with the address, postal code and household of every person in it who is
    /// protected *now* withheld (`protected: true` instead): a finding recorded before protection
    /// was set must not show the address either.
    /// - Parameter isProtected: whether a uid is protected now.
    public func withholdingProtected(_ isProtected: (String) -> Bool) -> ReconciliationFinding {
        var copy = self
        copy.facts = Self.withhold(facts, uid: uid, isProtected)
        return copy
    }

    private static func withhold(_ object: JSONObject, uid: String?, _ isProtected: (String) -> Bool) -> JSONObject {
        let hidden = uid.map(isProtected) ?? false
        var members: [JSONObject.Member] = []
        for member in object {
            if hidden, PersonRecord.protectedFields.contains(member.key) { continue }
            if case .object(let inner) = member.value {
                members.append(.init(key: member.key, value: .object(withhold(inner, uid: inner["uid"]?.stringValue, isProtected))))
            } else {
                members.append(member)
            }
        }
        var result = JSONObject(uniqueMembers: members)
        if hidden { result["protected"] = true }
        return result
    }
}

/// One line of a finding's record: opened, explained or resolved, at an lsn.
public struct ReconciliationHistoryEntry: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable {
        /// The person started failing the check (again).
        case opened
        /// An official recorded why it stands (`operator.finding_explained`).
        case explained
        /// The person passes the check now.
        case resolved
    }

    /// The finding.
    public var findingID: String
    /// What happened.
    public var kind: Kind
    /// The lsn of the event after which it happened.
    public var lsn: Int64
    /// When that event was logged.
    public var at: String
    /// The official's note, for `explained`.
    public var note: String?

    /// Creates an entry.
    public init(findingID: String, kind: Kind, lsn: Int64, at: String, note: String? = nil) {
        self.findingID = findingID
        self.kind = kind
        self.lsn = lsn
        self.at = at
        self.note = note
    }

    /// `{kind, lsn, at, note?}`.
    public var json: JSONObject {
        var object: JSONObject = ["kind": .string(kind.rawValue), "lsn": .integer(lsn), "at": .string(at)]
        if let note { object["note"] = .string(note) }
        return object
    }
}
