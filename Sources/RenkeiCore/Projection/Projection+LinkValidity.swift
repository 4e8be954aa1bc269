// MARK: - Link validity: a (source, subject) link that has ended (issue 16)

extension Projection {
    /// The sources whose subjects may be reissued after a withdrawal, with the event type that ends
    /// a link and the one that starts a new holder of the same subject: a library card withdrawn
    /// (`library.patron_withdrawn`) and its 利用者番号 later given to someone else
    /// (`library.patron_registered`).
    ///
    /// Other sources keep their subjects for life: a 宛名番号 is never reissued, a 児童番号 that
    /// applies again after `childcare.withdrawn` is the same child (転園・再申請).
    static let reissuableSubjects: [String: (ends: String, starts: String)] = [
        "library": (ends: "library.patron_withdrawn", starts: "library.patron_registered")
    ]

    /// Ends the link of (`source`, `subject`) when `type` registers that subject afresh after its
    /// withdrawal, so the registration is matched like a new record instead of being attached to
    /// the old holder.
    ///
    /// The old record stays on its person, as history (its view still shows the withdrawn card),
    /// marked with the lsn at which it ended (``SourceRecord/linkEndedLSN``); it no longer owns the
    /// subject: the link index, the store's (source, subject) rows and operator decisions about the
    /// old holder (pins and refusals) forget it. Everything here follows the log alone, so a rebuild
    /// ends the same links at the same events.
    mutating func endLinkIfReissued(source: String, subject: String, type: String, _ change: inout Change) {
        guard let rule = Self.reissuableSubjects[source], type == rule.starts else { return }
        let key = LinkKey(source: source, subject: subject)
        guard let owner = linkIndex[key], let person = persons[owner],
            let index = person.recordIndex(source: source, subject: subject),
            person.records[index].facts["status"]?.stringValue == "withdrawn"
        else { return }
        let lsn = change.lsn
        update(owner, &change) { person in
            person.records[index].facts[SourceRecord.linkEndedKey] = .integer(lsn)
        }
        linkIndex[key] = nil
        dirtyLinks.insert(owner)
        closeReview(source: source, subject: subject)
        let pins = decisions.pins.count
        decisions.pins.removeAll { $0.source == source && $0.subject == subject }
        let refusals = decisions.refused.filter { $0.source == source && $0.subject == subject }
        decisions.refused.subtract(refusals)
        if pins != decisions.pins.count || !refusals.isEmpty { decisionsDirty = true }
    }
}

extension SourceRecord {
    /// The `facts` member that marks a record whose link has ended (its subject reissued).
    static let linkEndedKey = "link_ended_lsn"

    /// The lsn of the event that ended this record's link (its subject was registered afresh after a
    /// withdrawal), or `nil` while the record still owns its (source, subject).
    public var linkEndedLSN: Int64? { facts[Self.linkEndedKey]?.integerValue }
}
