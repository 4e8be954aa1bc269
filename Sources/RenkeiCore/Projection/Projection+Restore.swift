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
    public init(restoring persons: [PersonRecord], households: [HouseholdRecord], meta: ProjectionMeta) {
        self.init()
        self.meta = meta
        for person in persons {
            self.persons[person.uid] = person
            if let atenaNo = person.atenaNo { atenaIndex[atenaNo] = person.uid }
            for record in person.records {
                linkIndex[LinkKey(source: record.link.source, subject: record.link.subject)] = person.uid
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
