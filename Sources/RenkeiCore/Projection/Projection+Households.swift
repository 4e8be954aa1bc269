// MARK: - Households

extension Projection {
    /// The household view, or `nil` for a household never seen.
    /// - Parameters:
    ///   - householdNo: the 世帯番号.
    ///   - revealProtected: list protected members too (`?reveal=protected`, an audited operator
    ///     action). Otherwise they are left out of `members` but still count for
    ///     `all_members_tax_exempt`.
    public func householdView(_ householdNo: String, revealProtected: Bool = false) -> JSONObject? {
        households[householdNo]?.view(revealProtected: revealProtected)
    }

    mutating func addMember(_ uid: String, to householdNo: String) {
        var members = householdMembers[householdNo] ?? []
        let index = members.firstIndex { $0 > uid } ?? members.endIndex
        guard index == members.startIndex || members[index - 1] != uid else { return }
        members.insert(uid, at: index)
        householdMembers[householdNo] = members
    }

    mutating func removeMember(_ uid: String, from householdNo: String) {
        guard var members = householdMembers[householdNo] else { return }
        members.removeAll { $0 == uid }
        householdMembers[householdNo] = members.isEmpty ? nil : members
    }

    /// Recomputes one household from its members; bumps its version when what readers see changed.
    /// - Parameters:
    ///   - householdNo: the 世帯番号.
    ///   - lsn: the event's lsn.
    ///   - rescoped: a member gained or lost a linked source, which changes what a `linked_to`
    ///     subscription sees of the household even when members, protection and exemption stay.
    /// - Returns: the change, or `nil` when nothing a reader sees changed.
    mutating func refreshHousehold(
        _ householdNo: String, lsn: Int64, rescoped: Bool = false
    ) -> ProjectionEffect.HouseholdChange? {
        let members = householdMembers[householdNo] ?? []
        let existing = households[householdNo]
        if existing == nil && members.isEmpty { return nil }
        var record = existing ?? HouseholdRecord(householdNo: householdNo, version: 0, lsn: lsn)
        let previous = record
        record.members = members
        // The members' registry records were accepted under one code (another municipality's
        // numbers are scoped by theirs); a household left empty keeps the one it had.
        for uid in members {
            guard let code = persons[uid]?.resident?.municipality else { continue }
            record.municipality = code
            break
        }
        record.protectedMembers = members.filter { persons[$0]?.isProtected == true }
        // 非課税世帯: no member assessed as taxable, and the tax system has assessed at least one
        // member (a child with no income has no record and counts as exempt; a household the tax
        // system has said nothing about yet is not flagged for a benefit).
        record.allMembersTaxExempt =
            members.allSatisfy { persons[$0]?.isTaxExempt ?? true } && members.contains { persons[$0]?.latestTax != nil }
        guard existing == nil || rescoped || !record.sameState(as: previous) else { return nil }
        record.version += 1
        record.lsn = lsn
        households[householdNo] = record
        dirtyHouseholds.insert(householdNo)
        return .init(householdNo: householdNo, oldVersion: existing?.version, newVersion: record.version)
    }
}
