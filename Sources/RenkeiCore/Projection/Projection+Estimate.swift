// MARK: - Estimated linking parameters (issue 14, `operator.linking_estimated`)

extension Projection {
    /// The weights deciding records now, and whether they are the configured override
    /// (`configured`), an estimate (`estimated`, with its lsn), an estimate under a partial
    /// override (`estimated+configured`) or the defaults (`default`).
    public var linkingWeights: (weights: MatchWeights, origin: String, estimateLSN: Int64?) {
        let lsn = decisions.estimate?.lsn
        let origin = WeightsOverride.inForce(configured: linker.configured, estimated: linker.estimated).origin
        return (linker.weights, origin, lsn)
    }

    /// What `linking.weights` configures, value by value (the rest comes from the estimate or the defaults).
    public var weightsOverride: WeightsOverride { linker.override }

    /// The number of records from sources other than the registry (every `(source, subject)` seen):
    /// what `linking.estimate_at_records` sizes are compared with. They are the records matching
    /// links to residents, so the population an estimate learns the matches from.
    public var linkedRecordCount: Int { linkIndex.count - registryRecords }

    /// The thresholds in force.
    public var linkingThresholds: LinkingThresholds { linker.thresholds }

    /// The match profile of every live source record, by uid then record order: what
    /// ``MatchEstimation/estimate(_:options:)`` learns from (the records of one person are the
    /// matches it must find, so merged persons are taken apart again).
    public var recordProfiles: [MatchProfile] {
        MatchEstimation.profiles(of: persons.keys.sorted().lazy.compactMap { persons[$0] })
    }

    /// Applies `operator.linking_estimated` {`weights`, `m`, `u`, …}: its `weights` decide records
    /// from this event on (unless `linking.weights` overrides them), and every open review item is
    /// decided again under them, keeping its id: an item whose record now links is settled by the
    /// link (merge, method `match`), the others get their candidates rescored (an item with no
    /// candidate left at `review` stays as it was). Items about a registry record (再転入) and
    /// guardians' items are left alone, and so are items about links already made. Links already
    /// made are not undone: those the new weights would not make are listed for review
    /// (``listLinksNotRemade(_:)``). The weights are read from the event, never computed here, so a
    /// rebuild decides every record and lists every link as before.
    mutating func applyLinkingEstimated(_ event: Event, _ change: inout Change) {
        guard let object = event.data["weights"]?.objectValue, let weights = MatchWeights(json: object) else { return }
        decisions.estimate = (event.data, change.lsn)
        if let size = event.data["trigger"]?["estimate_at_records"]?.integerValue, size > decisions.estimatedAtRecords {
            decisions.estimatedAtRecords = Int(size)
        }
        decisionsDirty = true
        linker.use(estimate: weights)
        for id in reviews.keys.sorted() { rescoreReview(id, &change) }
        listLinksNotRemade(&change)
    }

    /// Decides an open item's record again under the weights in force.
    private mutating func rescoreReview(_ id: String, _ change: inout Change) {
        guard let item = reviews[id] else { return }
        let key = LinkKey(source: item.source, subject: item.subject)
        // Items about a registry record (再転入) and a guardian's items (whose household evidence
        // the item does not keep) stay as they are: neither is ever linked automatically here. An
        // item about a link already made stays too: the question was asked.
        let household = item.candidates.contains { $0.reasons.contains { $0.hasPrefix("household:") } }
        guard item.source != "resident", !household, !Self.asksAboutLink(item), let owner = linkIndex[key], let person = persons[owner],
            person.mergedInto == nil, person.resident == nil, person.atenaNo == nil, let profile = Self.profile(of: person)
        else { return }
        let decision = matchIndex.decide(profile, weights: linker.weights, thresholds: linker.thresholds) { number, _ in
            let other = Self.formatUID(Int64(number))
            return other != owner && persons[other]?.mergedInto == nil && !refused(person, other)
        }
        switch decision {
        case .link(let candidate):
            closeReview(source: item.source, subject: item.subject)
            let other = Self.formatUID(Int64(candidate.number))
            update(owner, &change) { $0.markMatched(by: candidate) }
            change.decided.insert(merge(owner, other, &change))
        case .review(let candidates):
            unindexCandidates(of: item)
            var updated = item
            updated.candidates = candidates.map {
                ReviewItem.Candidate(uid: Self.formatUID(Int64($0.number)), score: $0.comparison.score, reasons: $0.reasons)
            }
            reviews[id] = updated
            indexCandidates(of: updated)
            dirtyReviews.insert(id)
            change.decided.insert(owner)
        case .none:
            // No candidate reaches `review` now: the item stays for the official (new parameters
            // never drop a question already asked).
            return
        }
    }
}
