/// What the projection holds about one registry household (世帯): the unit the daemon stores.
///
/// Membership is derived from the person records (a person is a member while `active` with this
/// `household_no`); the record keeps it materialised, with the household's own version.
public struct HouseholdRecord: Sendable, Hashable {
    /// The 世帯番号.
    public var householdNo: String
    /// Member uids, ascending.
    public var members: [String]
    /// The members who are protected (支援措置), ascending: left out of household replies.
    public var protectedMembers: [String]
    /// Whether every member's latest assessment is 非課税 (members without one count as exempt).
    public var allMembersTaxExempt: Bool
    /// The per-household version, from 1; up by one whenever members, protection or exemption change,
    /// or a member gains or loses a linked source (which changes a `linked_to` subscriber's view).
    public var version: Int64
    /// The lsn of the event that produced ``version``.
    public var lsn: Int64
    /// The 全国地方公共団体コード of the household's members' registry records (issue 16); `nil` when
    /// none is known. A household of another municipality also has its number scoped by the code.
    public var municipality: String?

    /// Creates a record.
    public init(
        householdNo: String, members: [String] = [], protectedMembers: [String] = [],
        allMembersTaxExempt: Bool = true, version: Int64 = 1, lsn: Int64, municipality: String? = nil
    ) {
        self.municipality = municipality
        self.householdNo = householdNo
        self.members = members
        self.protectedMembers = protectedMembers
        self.allMembersTaxExempt = allMembersTaxExempt
        self.version = version
        self.lsn = lsn
    }

    /// The household view: `household_no`, `municipality`, `members`, `all_members_tax_exempt`,
    /// `version`, `lsn`.
    /// - Parameter revealProtected: whether protected members are listed (an operator action).
    public func view(revealProtected: Bool) -> JSONObject {
        let protected = Set(protectedMembers)
        let listed = revealProtected ? members : members.filter { !protected.contains($0) }
        return [
            "household_no": .string(householdNo), "municipality": municipality.map { .string($0) } ?? .null,
            "members": .array(listed.map { .string($0) }),
            "all_members_tax_exempt": .bool(allMembersTaxExempt), "version": .integer(version), "lsn": .integer(lsn),
        ]
    }

    /// Whether the parts a reader can see differ (version and lsn aside).
    func sameState(as other: HouseholdRecord) -> Bool {
        members == other.members && protectedMembers == other.protectedMembers
            && allMembersTaxExempt == other.allMembersTaxExempt && municipality == other.municipality
    }
}
