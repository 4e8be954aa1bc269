// MARK: - Restoring from stored records

extension Projection {
    /// Rebuilds a projection from its stored records, without replaying the log.
    ///
    /// The link index, 宛名番号 reservations and household membership are derived from the person
    /// records; household versions come from `households` (a household missing there starts again
    /// at version 1 with its current state). Nothing is dirty afterwards.
    /// - Parameters:
    ///   - persons: every stored person record.
    ///   - households: every stored household record.
    ///   - meta: the stored counters.
    ///   - reviews: every stored open review item.
    ///   - decisions: the stored operator decisions.
    ///   - findings: the stored open and explained reconciliation findings.
    ///   - thresholds: `linking` from the configuration.
    ///   - weights: match weights.
    public init(
        restoring persons: [PersonRecord], households: [HouseholdRecord], meta: ProjectionMeta,
        reviews: [ReviewItem] = [], decisions: LinkDecisions = LinkDecisions(),
        findings: [ReconciliationFinding] = [],
        thresholds: LinkingThresholds = LinkingThresholds(), weights: MatchWeights = .standard
    ) {
        self.init(thresholds: thresholds, weights: weights)
        self.meta = meta
        self.decisions = decisions
        reconciliation = ReconciliationLedger(restoring: findings)
        if let weights = decisions.estimatedWeights { linker.use(estimate: weights) }
        for item in reviews {
            self.reviews[item.id] = item
            reviewByRecord[LinkKey(source: item.source, subject: item.subject)] = item.id
            indexCandidates(of: item)
        }
        for person in persons.sorted(by: { $0.uid < $1.uid }) {
            self.persons[person.uid] = person
            matchIndex.set(Self.uidNumber(person.uid), Self.profile(of: person))
            for child in person.guardianOf { guardiansOfChild[child, default: []].append(person.uid) }
            for atenaNo in person.atenaNumbers { atenaIndex[atenaNo] = person.uid }
            for record in person.records where record.linkEndedLSN == nil {
                linkIndex[LinkKey(source: record.link.source, subject: record.link.subject)] = person.uid
                if record.link.source == "resident" { registryRecords += 1 }
            }
            if let householdNo = person.memberOf {
                householdMembers[householdNo, default: []].append(person.uid)
            }
        }
        for key in householdMembers.keys { householdMembers[key]?.sort() }
        for household in households { self.households[household.householdNo] = household }
        for householdNo in householdMembers.keys where self.households[householdNo] == nil {
            _ = refreshHousehold(householdNo, lsn: meta.lsn)
        }
        clearDirty()
    }
}
