// MARK: - The standard checks (issue 17)

/// The checks the daemon runs. A new check is one type appended here (names are never reused).
public enum ReconciliationChecks {
    /// Every check, in the order `/v1/reconciliation` lists them.
    public static let standard: [any ReconciliationCheck] = [
        ChildcareAfterDepartureCheck(), LibraryCardOfDeceasedCheck(), TaxWithoutRegistryCheck(),
        DuplicateRegistrationCheck(), GuardianChildApartCheck(),
    ]

    /// The standard check named `name`, if any.
    public static func named(_ name: String) -> (any ReconciliationCheck)? {
        standard.first { $0.name == name }
    }
}

/// `childcare_after_departure`: a child's childcare record is `applied` or `enrolled` while the
/// registry says the child moved out (転出) or died.
public struct ChildcareAfterDepartureCheck: ReconciliationCheck {
    /// Creates the check.
    public init() {}
    /// The check\'s name (``ReconciliationCheck/name``).
    public var name: String { "childcare_after_departure" }
    /// One line for officials (``ReconciliationCheck/title``).
    public var title: String {
        "保育の申請・在籍中に住民記録で転出・死亡 / childcare applied or enrolled while the registry says moved out or deceased"
    }

    /// The findings `person` fails this check with (``ReconciliationCheck/findings(of:in:)``).
    public func findings(of person: PersonRecord, in context: any ReconciliationContext) -> [ReconciliationDraft] {
        guard let status = ReconciliationFacts.registryStatus(person), status == "moved_out" || status == "deceased"
        else { return [] }
        return ReconciliationFacts.linkedRecords(person, from: "childcare").compactMap { record in
            guard let childcare = record.facts["status"]?.stringValue, childcare == "applied" || childcare == "enrolled"
            else { return nil }
            return ReconciliationDraft(
                subject: "childcare:" + record.link.subject,
                facts: [
                    "registry_status": .string(status), "child_no": .string(record.link.subject),
                    "childcare_status": .string(childcare), "facility_code": record.facts["facility_code"] ?? .null,
                ])
        }
    }
}

/// `library_card_of_deceased`: an active library card (利用者) of a person the registry says died.
public struct LibraryCardOfDeceasedCheck: ReconciliationCheck {
    /// Creates the check.
    public init() {}
    /// The check\'s name (``ReconciliationCheck/name``).
    public var name: String { "library_card_of_deceased" }
    /// One line for officials (``ReconciliationCheck/title``).
    public var title: String { "死亡者の図書館利用カードが有効 / library card active for a deceased person" }

    /// The findings `person` fails this check with (``ReconciliationCheck/findings(of:in:)``).
    public func findings(of person: PersonRecord, in context: any ReconciliationContext) -> [ReconciliationDraft] {
        guard ReconciliationFacts.registryStatus(person) == "deceased" else { return [] }
        return ReconciliationFacts.linkedRecords(person, from: "library").compactMap { record in
            guard record.facts["status"]?.stringValue == "active" else { return nil }
            return ReconciliationDraft(
                subject: "library:" + record.link.subject,
                facts: [
                    "registry_status": "deceased", "patron_no": .string(record.link.subject),
                    "library_status": "active", "link_method": .string(record.link.method),
                ])
        }
    }
}

/// `tax_without_registry`: a tax assessment that names a 宛名番号 (so not a 住登外 taxpayer) that no
/// registry record holds.
public struct TaxWithoutRegistryCheck: ReconciliationCheck {
    /// Creates the check.
    public init() {}
    /// The check\'s name (``ReconciliationCheck/name``).
    public var name: String { "tax_without_registry" }
    /// One line for officials (``ReconciliationCheck/title``).
    public var title: String {
        "宛名番号が住民記録にない課税 (住登外でない) / tax assessed on a 宛名番号 the registry does not hold (not 住登外)"
    }

    /// The findings `person` fails this check with (``ReconciliationCheck/findings(of:in:)``).
    public func findings(of person: PersonRecord, in context: any ReconciliationContext) -> [ReconciliationDraft] {
        // A 住登外 assessment carries no 宛名番号: its person reserves none. A reserved 宛名番号
        // without a registry record is one the registry has never sent.
        guard person.resident == nil, let atenaNo = person.atenaNo else { return [] }
        return ReconciliationFacts.linkedRecords(person, from: "tax").map { record in
            ReconciliationDraft(
                subject: "tax:" + record.link.subject,
                facts: [
                    "taxpayer_no": .string(record.link.subject), "atena_no": .string(atenaNo),
                    "fiscal_year": record.facts["fiscal_year"] ?? .null, "taxable": record.facts["taxable"] ?? .null,
                ])
        }
    }
}

/// `duplicate_registration`: one person holds two or more registrations in force with the same
/// source (two active 利用者番号, two 児童番号 applied or enrolled, two 納税義務者番号, two active
/// 宛名番号): a registration made twice. A withdrawn card, a withdrawn child or a registry record of an
/// earlier stay (moved out, then registered again) is not in force and does not count.
public struct DuplicateRegistrationCheck: ReconciliationCheck {
    /// Creates the check.
    public init() {}
    /// The check\'s name (``ReconciliationCheck/name``).
    public var name: String { "duplicate_registration" }
    /// One line for officials (``ReconciliationCheck/title``).
    public var title: String { "同じ業務に二重登録 / one person holds two registrations in force with the same source" }

    /// Whether a linked record is a registration in force.
    static func inForce(_ record: SourceRecord) -> Bool {
        let status = record.facts["status"]?.stringValue
        switch record.link.source {
        case "resident": return status == nil || status == "active"
        case "library", "childcare": return status != "withdrawn"
        default: return true
        }
    }

    /// The findings `person` fails this check with (``ReconciliationCheck/findings(of:in:)``).
    public func findings(of person: PersonRecord, in context: any ReconciliationContext) -> [ReconciliationDraft] {
        // Most persons hold one record per source: find out without allocating.
        let records = person.records
        var twice = false
        outer: for (index, record) in records.enumerated() where index > 0 {
            for earlier in records[..<index] where earlier.link.source == record.link.source {
                twice = true
                break outer
            }
        }
        guard twice else { return [] }
        var subjects: [String: [String]] = [:]
        var order: [String] = []
        for record in person.records where record.linkEndedLSN == nil && Self.inForce(record) {
            let source = record.link.source
            if subjects[source] == nil { order.append(source) }
            if !(subjects[source]?.contains(record.link.subject) ?? false) {
                subjects[source, default: []].append(record.link.subject)
            }
        }
        return order.compactMap { source in
            guard let held = subjects[source], held.count > 1 else { return nil }
            return ReconciliationDraft(
                subject: "source:" + source,
                facts: ["source": .string(source), "subjects": .array(held.map { .string($0) })])
        }
    }
}

/// `guardian_child_apart`: a guardian (from a childcare application) and their child both live in
/// the municipality, in different households, and the registry records no relationship between
/// them (a 続柄 exists only within one household).
public struct GuardianChildApartCheck: ReconciliationCheck {
    /// Creates the check.
    public init() {}
    /// The check\'s name (``ReconciliationCheck/name``).
    public var name: String { "guardian_child_apart" }
    /// One line for officials (``ReconciliationCheck/title``).
    public var title: String {
        "保護者と児童が別世帯 (続柄の記録なし) / guardian and child live in different households with no recorded relationship"
    }

    /// The findings `person` fails this check with (``ReconciliationCheck/findings(of:in:)``).
    public func findings(of person: PersonRecord, in context: any ReconciliationContext) -> [ReconciliationDraft] {
        guard !person.guardianOf.isEmpty, let own = person.memberOf else { return [] }
        var seen: Set<String> = []
        return person.guardianOf.compactMap { listed in
            guard let child = context.liveRecord(listed), child.uid != person.uid, seen.insert(child.uid).inserted,
                let theirs = child.memberOf, theirs != own
            else { return nil }
            var facts: JSONObject = ["child": .object(ReconciliationFacts.residence(of: child))]
            if !person.isProtected { facts["household_no"] = .string(own) }
            return ReconciliationDraft(subject: "child:" + child.uid, facts: facts)
        }
    }

    /// A child's move changes the findings of their guardians.
    public func dependents(of uid: String, in context: any ReconciliationContext) -> [String] {
        context.guardians(ofChild: uid)
    }
}
