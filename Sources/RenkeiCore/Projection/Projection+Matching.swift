// MARK: - Match keys of persons, and scoring again when a person appears or changes (contract §3)

extension Projection {
    /// The number of a uid (`U0000000042` → 42).
    static func uidNumber(_ uid: String) -> Int {
        var value = 0
        for byte in uid.utf8.dropFirst() where (0x30...0x39).contains(byte) { value = value * 10 + Int(byte - 0x30) }
        return value
    }

    /// A person's match profile: the identity the view shows, with standing, household and
    /// protection; `nil` for a retired uid or one with no name.
    /// - Parameter parts: what the person's view is made of, when the caller has just read it.
    static func profile(of person: PersonRecord, parts knownParts: PersonViewParts? = nil) -> MatchProfile? {
        guard person.mergedInto == nil else { return nil }
        let parts = knownParts ?? PersonViewParts(person)
        var members: [JSONObject.Member] = []
        members.reserveCapacity(5)
        for (field, value) in [
            ("name", parts.name), ("name_kana", parts.nameKana), ("birth_date", parts.birthDate), ("sex", parts.sex),
            ("address", parts.address),
        ] where !value.isNull {
            members.append(.init(key: field, value: value))
        }
        // The registry's 通称 and 旧氏, compared as alternatives to the name.
        for (field, value) in zip(MatchProfile.alternativeNameFields, parts.alternativeNames) where !value.isNull {
            members.append(.init(key: field, value: value))
        }
        let identity = JSONObject(uniqueMembers: members)
        let standing: MatchProfile.Standing
        switch parts.status.stringValue {
        case "active"?: standing = .active
        case "moved_out"?: standing = .movedOut
        case "deceased"?: standing = .deceased
        default: standing = .unregistered
        }
        let profile = MatchProfile(
            identity: identity, standing: standing, household: parts.householdNo.stringValue, isProtected: parts.isProtected)
        return profile.isEmpty ? nil : profile
    }

    /// Brings the blocking index up to date for one uid.
    /// - Parameter parts: what its current view is made of, when the caller has it.
    mutating func reindex(_ uid: String, parts: PersonViewParts? = nil) {
        matchIndex.set(Self.uidNumber(uid), persons[uid].flatMap { Self.profile(of: $0, parts: parts) })
    }

    /// Whether an operator refused linking any record of `person` to `uid`.
    func refused(_ person: PersonRecord, _ uid: String) -> Bool {
        guard !decisions.refused.isEmpty else { return false }
        return person.records.contains {
            decisions.refused.contains(.init(source: $0.link.source, subject: $0.link.subject, uid: uid))
        }
    }

    /// After an event: residents it registered are scored against unregistered persons (records
    /// that arrived first are linked by merge), 再転入 raises a review, and unregistered persons
    /// whose identity changed are scored again.
    mutating func rescoreChanged(_ change: inout Change) {
        for (uid, reason) in change.registered {
            guard let person = persons[uid], person.mergedInto == nil, let profile = Self.profile(of: person) else {
                continue
            }
            if reason == "move_in" { checkReturn(uid, profile, &change) }
            let decision = matchIndex.decide(profile, weights: linker.weights, thresholds: linker.thresholds) {
                number, standing in
                guard standing == .unregistered, let other = persons[Self.formatUID(Int64(number))],
                    other.uid != uid, other.atenaNo == nil
                else { return false }
                return !refused(other, uid)
            }
            joinOrReview(decision, subjectUID: uid, reviewAbout: nil, &change)
        }
        for uid in change.order where !change.decided.contains(uid) {
            guard let person = persons[uid], person.mergedInto == nil, person.resident == nil, person.atenaNo == nil,
                let first = person.records.first,
                !person.records.contains(where: { reviewByRecord[LinkKey(source: $0.link.source, subject: $0.link.subject)] != nil }),
                let profile = Self.profile(of: person)
            else { continue }
            let decision = matchIndex.decide(profile, weights: linker.weights, thresholds: linker.thresholds) {
                number, _ in
                let other = Self.formatUID(Int64(number))
                return other != uid && persons[other]?.mergedInto == nil && !refused(person, other)
            }
            joinOrReview(decision, subjectUID: uid, reviewAbout: first.link, &change)
        }
    }

    /// Links by merge, or opens a review about the unregistered side's first record.
    private mutating func joinOrReview(
        _ decision: MatchIndex.Decision, subjectUID: String, reviewAbout: PersonLink?, _ change: inout Change
    ) {
        switch decision {
        case .none: return
        case .link(let candidate):
            let other = Self.formatUID(Int64(candidate.number))
            // The unregistered side's records become `match` links with the reasons.
            let unregistered = reviewAbout == nil ? other : subjectUID
            update(unregistered, &change) { $0.markMatched(by: candidate) }
            change.decided.insert(merge(subjectUID, other, &change))
        case .review(let candidates):
            if let link = reviewAbout {
                openReview(source: link.source, subject: link.subject, candidates: candidates, lsn: change.lsn)
            } else {
                // A new resident close to unregistered records: review each such record against it.
                let number = Self.uidNumber(subjectUID)
                for candidate in candidates {
                    guard let other = persons[Self.formatUID(Int64(candidate.number))], let first = other.records.first
                    else { continue }
                    let item = MatchIndex.Candidate(number: number, comparison: candidate.comparison, reasons: candidate.reasons)
                    openReview(source: first.link.source, subject: first.link.subject, candidates: [item], lsn: change.lsn)
                }
            }
        }
    }

    /// 再転入: a `move_in` that matches a moved-out or deceased resident on name, sex and birth
    /// date raises a review, never a merge.
    private mutating func checkReturn(_ uid: String, _ profile: MatchProfile, _ change: inout Change) {
        var found: [MatchIndex.Candidate] = []
        for number in matchIndex.candidates(profile) {
            guard let candidate = matchIndex.profile(number), candidate.standing == .movedOut || candidate.standing == .deceased,
                Self.formatUID(Int64(number)) != uid
            else { continue }
            let comparison = MatchComparison(profile, candidate, weights: linker.weights)
            let nameAgrees = [.exact, .normalised, .variant].contains(comparison.level(.name))
                || [.exact, .normalised].contains(comparison.level(.nameKana))
            guard nameAgrees, comparison.level(.sex) == .exact, comparison.level(.birthDate) == .exact else { continue }
            let reasons = MatchReasons.reasons(comparison, record: profile, candidate: candidate, notes: [MatchReasons.returnNote])
            found.append(MatchIndex.Candidate(number: number, comparison: comparison, reasons: reasons))
        }
        guard let person = persons[uid], let resident = person.resident else { return }
        openReview(source: "resident", subject: resident.link.subject, candidates: Array(found.prefix(5)), lsn: change.lsn)
        change.decided.insert(uid)
    }
}

extension PersonRecord {
    /// Turns the records this person was keyed by alone (an unregistered founder's own record) into
    /// `match` links carrying the score and reasons of the match that joined them to another person.
    mutating func markMatched(by candidate: MatchIndex.Candidate) {
        for index in records.indices where records[index].link.method == "key" {
            records[index].link.method = "match"
            records[index].link.score = candidate.comparison.score
            records[index].link.reasons = candidate.reasons
        }
    }
}
