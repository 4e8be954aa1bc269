// MARK: - Links new parameters would not make again (issue 14): listed for review, never undone

extension Projection {
    /// The `decision:` note of a review item that asks about a link already made: its only
    /// candidate is the person the record is linked to now. Linking it (`POST /v1/reviews/{id}/link`)
    /// keeps the link (method `operator`); rejecting it splits the record off.
    public static let linkNotRemadeNote =
        "decision: 新しい重みでは自動連携されない 連携を維持するか確認 (estimate: link_not_remade; link keeps it, reject unlinks it)"

    /// Whether `item` asks about a link already made (see ``linkNotRemadeNote``) rather than
    /// about a record waiting for its person.
    public static func asksAboutLink(_ item: ReviewItem) -> Bool {
        item.candidates.contains { $0.reasons.contains(linkNotRemadeNote) }
    }

    /// After an estimate: every record linked by matching (method `match`) that the weights in
    /// force would no longer link to its person gets a review item, in uid then link order.
    ///
    /// A record is decided again as it would be on arrival: compared with the rest of its person
    /// (the person without it), it must score at least `auto_link`, its given names must not
    /// differ while someone born that day shares its surname or address (twins), and no other
    /// person it was not refused for may come within the ambiguity margin. Key links, operator links and registry records are never asked about; a record with
    /// an open item already keeps that item. The link itself stays until an official decides: the
    /// item's one candidate is the person it is linked to, with the score and reasons under the
    /// new weights and ``linkNotRemadeNote``.
    mutating func listLinksNotRemade(_ change: inout Change) {
        var owners: [String] = []
        for (uid, person) in persons where person.mergedInto == nil && person.records.contains(where: Self.isMatchLink) {
            owners.append(uid)
        }
        for uid in owners.sorted() {
            guard let person = persons[uid] else { continue }
            for (index, record) in person.records.enumerated() where Self.isMatchLink(record) {
                let key = LinkKey(source: record.link.source, subject: record.link.subject)
                guard reviewByRecord[key] == nil, let candidate = linkNotRemade(person, record: index) else { continue }
                openReview(source: key.source, subject: key.subject, candidates: [candidate], lsn: change.lsn)
            }
        }
    }

    /// Whether a record was linked by matching (not by key, not by an operator, not a registry record).
    private static func isMatchLink(_ record: SourceRecord) -> Bool {
        record.link.method == "match" && record.link.source != "resident" && record.linkEndedLSN == nil
    }

    /// The candidate of the review item for `person`'s record at `index` when the weights in force
    /// would not link it there; `nil` when they would (or when either side gives nothing to compare).
    private func linkNotRemade(_ person: PersonRecord, record index: Int) -> MatchIndex.Candidate? {
        let record = person.records[index]
        var rest = person
        rest.records.remove(at: index)
        let alone = PersonRecord(uid: person.uid, lsn: person.lsn, records: [record])
        guard let profile = Self.profile(of: alone), let restProfile = Self.profile(of: rest) else { return nil }
        let weights = linker.weights, thresholds = linker.thresholds
        let comparison = MatchComparison(profile, restProfile, weights: weights)
        // The best other person this record could go to, as the arrival decision would see them.
        let own = Self.uidNumber(person.uid)
        var runnerUp = -Double.infinity
        for number in matchIndex.candidates(profile, weights: weights, thresholds: thresholds) where number != own {
            let other = Self.formatUID(Int64(number))
            guard let candidate = matchIndex.profile(number), persons[other]?.mergedInto == nil,
                !decisions.refused.contains(.init(source: record.link.source, subject: record.link.subject, uid: other))
            else { continue }
            runnerUp = Swift.max(runnerUp, MatchComparison(profile, candidate, weights: weights).total)
        }
        let ambiguous = comparison.total - runnerUp < thresholds.margin
        // The twins rule as the arrival decision applies it: only while a sibling is indexed.
        let twinsRule = comparison.givenDiffers && matchIndex.hasSibling(own)
        guard comparison.score < thresholds.autoLink || twinsRule || ambiguous else { return nil }
        var notes = [Self.linkNotRemadeNote]
        if twinsRule { notes.append(MatchReasons.twinsNote) }
        if ambiguous { notes.append(MatchReasons.ambiguousNote) }
        let reasons = MatchReasons.reasons(comparison, record: profile, candidate: restProfile, notes: notes)
        return MatchIndex.Candidate(number: own, comparison: comparison, reasons: reasons)
    }
}
