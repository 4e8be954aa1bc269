// MARK: - Operator decisions (contract §2 operator, §3 step 3, §6 reviews and links)

extension Projection {
    /// Applies `operator.linked`, `operator.unlinked` and `operator.review_rejected`.
    ///
    /// - linked {uid, source, subject}: the record goes to `uid` (method `operator`); when it was
    ///   alone on its uid the two uids merge (the lower is kept); a record not seen yet is pinned
    ///   and goes there when it arrives. Its open review closes.
    /// - unlinked: the record splits off into a new uid and is never linked back automatically.
    /// - review_rejected {review_id}: the item closes; its candidates are never linked to the
    ///   record automatically. An item about a link already made (``linkNotRemadeNote``) names
    ///   the record's own person: rejecting it splits the record off, as `unlinked` does.
    mutating func applyOperator(_ event: Event, _ change: inout Change) {
        let data = event.data
        switch event.type {
        case "operator.linked":
            guard let target = data["uid"]?.stringValue.map(resolve), persons[target] != nil,
                let source = data["source"]?.stringValue, let subject = data["subject"]?.stringValue
            else { return }
            let key = LinkKey(source: source, subject: subject)
            removeRefusals(source: source, subject: subject, uid: target)
            closeReview(source: source, subject: subject)
            guard let current = linkIndex[key] else {
                decisions.pins.removeAll { $0.source == source && $0.subject == subject }
                decisions.pins.append(.init(source: source, subject: subject, uid: target))
                decisionsDirty = true
                return
            }
            var owner = current
            if current != target {
                if let person = persons[current], person.records.count > 1 {
                    _ = unlink(current, source: source, subject: subject, &change)
                    change.unlinks.removeAll { $0.uid == current }
                    owner = merge(linkIndex[key] ?? current, target, &change)
                } else {
                    owner = merge(current, target, &change)
                }
            }
            update(owner, &change) { person in
                guard let index = person.recordIndex(source: source, subject: subject) else { return }
                if source != "resident" || person.records[index].link.method != "key" {
                    person.records[index].link.method = "operator"
                    person.records[index].link.score = nil
                    person.records[index].link.reasons = []
                }
            }
            change.decided.insert(owner)
        case "operator.linking_estimated":
            applyLinkingEstimated(event, &change)
        case "operator.unlinked":
            guard let uid = data["uid"]?.stringValue, let source = data["source"]?.stringValue,
                let subject = data["subject"]?.stringValue
            else { return }
            let owner = resolve(uid)
            let pins = decisions.pins.filter { !($0.source == source && $0.subject == subject && resolve($0.uid) == owner) }
            decisions.pins = pins
            decisions.refused.insert(.init(source: source, subject: subject, uid: owner))
            decisionsDirty = true
            closeReview(source: source, subject: subject)
            unlink(owner, source: source, subject: subject, &change)
        case "operator.review_rejected":
            guard let id = data["review_id"]?.stringValue, let item = reviews[id] else { return }
            for candidate in item.candidates {
                decisions.refused.insert(.init(source: item.source, subject: item.subject, uid: resolve(candidate.uid)))
            }
            decisionsDirty = true
            closeReview(source: item.source, subject: item.subject)
            // Rejecting an item about a link already made (estimate: link not remade) unlinks it.
            if Self.asksAboutLink(item), let owner = linkIndex[LinkKey(source: item.source, subject: item.subject)] {
                unlink(owner, source: item.source, subject: item.subject, &change)
            }
            if let uid = linkIndex[LinkKey(source: item.source, subject: item.subject)] { change.decided.insert(uid) }
        default:
            return
        }
    }

    private mutating func removeRefusals(source: String, subject: String, uid: String) {
        let pair = LinkDecisions.Pair(source: source, subject: subject, uid: uid)
        if decisions.refused.remove(pair) != nil { decisionsDirty = true }
    }
}
