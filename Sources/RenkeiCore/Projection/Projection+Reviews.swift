// MARK: - The review queue (contract §3 step 2, §6 `GET /v1/reviews`)

extension Projection {
    /// Opens a review item for (`source`, `subject`) unless one is open already.
    mutating func openReview(source: String, subject: String, candidates: [MatchIndex.Candidate], lsn: Int64) {
        let key = LinkKey(source: source, subject: subject)
        guard reviewByRecord[key] == nil, !candidates.isEmpty else { return }
        let id = ReviewItem.formatID(meta.nextReview)
        meta.nextReview += 1
        let items = candidates.map {
            ReviewItem.Candidate(uid: Self.formatUID(Int64($0.number)), score: $0.comparison.score, reasons: $0.reasons)
        }
        let item = ReviewItem(id: id, source: source, subject: subject, candidates: items, lsn: lsn)
        reviews[id] = item
        reviewByRecord[key] = id
        indexCandidates(of: item)
        dirtyReviews.insert(id)
    }

    /// Closes the open review item of (`source`, `subject`), if any.
    mutating func closeReview(source: String, subject: String) {
        let key = LinkKey(source: source, subject: subject)
        guard let id = reviewByRecord.removeValue(forKey: key) else { return }
        if let item = reviews.removeValue(forKey: id) { unindexCandidates(of: item) }
        dirtyReviews.insert(id)
    }

    /// Adds an item to the candidate index (uid → ids of the open items naming it).
    mutating func indexCandidates(of item: ReviewItem) {
        for candidate in item.candidates { reviewsByCandidate[candidate.uid, default: []].insert(item.id) }
    }

    mutating func unindexCandidates(of item: ReviewItem) {
        for candidate in item.candidates {
            reviewsByCandidate[candidate.uid]?.remove(item.id)
            if reviewsByCandidate[candidate.uid]?.isEmpty == true { reviewsByCandidate[candidate.uid] = nil }
        }
    }

    /// Keeps open review items naming live uids after the merges of one event.
    ///
    /// An official deciding an item must see the person as it is now, never a uid that answers
    /// `merged_into`. So a candidate whose uid was retired is rewritten to the surviving uid and
    /// scored again against that person's current identity (its `decision:` notes are kept);
    /// candidates that now name the same uid become one; the list is sorted best first again.
    /// A candidate that is now the record's own person settles the item (it closes, as when the
    /// merge itself joined them); one the operator refused for this record is dropped; an item
    /// left without candidates closes. Rebuilds replay the same merges, so they give the same queue.
    mutating func retargetReviews(after merges: [ProjectionEffect.Merge]) {
        var affected: Set<String> = []
        for merge in merges {
            if let ids = reviewsByCandidate[merge.retired] { affected.formUnion(ids) }
        }
        for id in affected.sorted() { retargetReview(id) }
    }

    private mutating func retargetReview(_ id: String) {
        guard let item = reviews[id] else { return }
        let key = LinkKey(source: item.source, subject: item.subject)
        let owner = linkIndex[key]
        let record = owner.flatMap { persons[$0] }.flatMap { Self.profile(of: $0) }
        // The live uid of each candidate, in the item's order, and whether a retired uid led there.
        var order: [String] = []
        var kept: [String: ReviewItem.Candidate] = [:]
        var notes: [String: [String]] = [:]
        var rescore: Set<String> = []
        // An item about a link already made names the record's own person: a merge of that person
        // only renames it (it is not scored against itself).
        let aboutLink = Self.asksAboutLink(item)
        for candidate in item.candidates {
            let live = resolve(candidate.uid)
            if live == owner && !aboutLink {
                closeReview(source: item.source, subject: item.subject)
                return
            }
            if decisions.refused.contains(.init(source: item.source, subject: item.subject, uid: live)) { continue }
            if live != candidate.uid && !aboutLink { rescore.insert(live) }
            for note in candidate.reasons where note.hasPrefix(Self.decisionNotePrefix) {
                if !(notes[live]?.contains(note) ?? false) { notes[live, default: []].append(note) }
            }
            if kept[live] == nil {
                order.append(live)
                kept[live] = candidate
            } else {
                rescore.insert(live)
            }
        }
        var candidates: [ReviewItem.Candidate] = []
        for uid in order {
            guard var candidate = kept[uid] else { continue }
            candidate.uid = uid
            if rescore.contains(uid) {
                candidate = rescored(uid, record: record, notes: notes[uid] ?? [], fallback: candidate)
            }
            candidates.append(candidate)
        }
        guard !candidates.isEmpty else {
            closeReview(source: item.source, subject: item.subject)
            return
        }
        // Best first; equal scores in uid order, so a rebuild sorts identically.
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.uid < $1.uid }
        unindexCandidates(of: item)
        var updated = item
        updated.candidates = candidates
        reviews[id] = updated
        indexCandidates(of: updated)
        dirtyReviews.insert(id)
    }

    /// A candidate scored again against the live person `uid`, or `fallback` (uid rewritten) when
    /// either side gives nothing to compare.
    private func rescored(
        _ uid: String, record: MatchProfile?, notes: [String], fallback: ReviewItem.Candidate
    ) -> ReviewItem.Candidate {
        guard let record, let person = persons[uid], let profile = Self.profile(of: person) else { return fallback }
        let comparison = MatchComparison(record, profile, weights: linker.weights)
        var decisionNotes = notes
        if comparison.score >= linker.thresholds.autoLink && comparison.givenDiffers
            && matchIndex.hasSibling(Self.uidNumber(uid)) && !decisionNotes.contains(MatchReasons.twinsNote)
        {
            decisionNotes.append(MatchReasons.twinsNote)
        }
        let reasons = MatchReasons.reasons(comparison, record: record, candidate: profile, notes: decisionNotes)
        return ReviewItem.Candidate(uid: uid, score: comparison.score, reasons: reasons)
    }

    /// How decision notes (twins, ambiguity, 再転入) begin, as opposed to per-field reasons.
    static let decisionNotePrefix = "decision: "
}
