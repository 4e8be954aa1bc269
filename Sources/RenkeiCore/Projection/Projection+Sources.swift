// MARK: - Per-source event handling (contract §2)

extension Projection {
    /// The `resident.registered` fields the registry is authoritative for.
    static let residentFields = [
        "name", "name_kana", "birth_date", "sex", "address", "postal_code", "household_no", "relationship", "my_number",
        "name_alias", "name_alias_kana", "former_surname", "former_surname_kana",
    ]
    static let taxIdentityFields = ["name", "name_kana", "birth_date", "address"]
    static let taxFacts = ["fiscal_year", "taxable", "income_levy", "per_capita_levy"]
    static let childIdentityFields = ["name", "name_kana", "birth_date"]
    static let libraryFields = ["name", "name_kana", "birth_date", "address", "postal_code"]

    /// The members of `object` named in `keys`, in `keys` order.
    static func pick(_ object: JSONObject, _ keys: [String]) -> JSONObject {
        var picked = JSONObject()
        for key in keys {
            if let value = object[key] { picked[key] = value }
        }
        return picked
    }

    /// Mutates the source record (`source`, `subject`) of `uid`.
    mutating func updateRecord(
        _ uid: String, source: String, subject: String, _ change: inout Change, _ body: (inout SourceRecord) -> Void
    ) {
        update(uid, &change) { person in
            guard let index = person.recordIndex(source: source, subject: subject) else { return }
            body(&person.records[index])
        }
    }

    // MARK: resident — subject is the 宛名番号

    mutating func applyResident(_ event: Event, _ change: inout Change) {
        let known = [
            "registered", "moved", "moved_out", "died", "name_changed", "household_changed", "corrected",
            "protection_changed",
        ]
        let verb = String(event.verb)
        guard known.contains(verb) else { return }
        let data = event.data
        let uid = linkedUID(
            source: "resident", subject: event.subject, atenaNo: event.subject,
            identity: Self.pick(data, Self.residentFields), &change)
        updateRecord(uid, source: "resident", subject: event.subject, &change) { record in
            if record.facts["status"] == nil {
                record.facts["status"] = "active"
                record.facts["protected"] = false
            }
            switch verb {
            case "registered":
                record.identity = Self.pick(data, Self.residentFields)
                record.facts["status"] = "active"
            case "moved":
                record.identity["address"] = data["address"]
                record.identity["postal_code"] = data["postal_code"]
                if let household = data["household_no"] { record.identity["household_no"] = household }
                if let relationship = data["relationship"] { record.identity["relationship"] = relationship }
            case "moved_out": record.facts["status"] = "moved_out"
            case "died": record.facts["status"] = "deceased"
            case "name_changed":
                record.identity["name"] = data["name"]
                record.identity["name_kana"] = data["name_kana"]
                // 通称 and 旧氏 change only when the event gives them (`null` removes one).
                for key in MatchProfile.alternativeNameFields {
                    if let value = data[key] { record.identity[key] = value.isNull ? nil : value }
                }
            case "household_changed":
                record.identity["household_no"] = data["household_no"]
                record.identity["relationship"] = data["relationship"]
            case "corrected":
                for member in Self.pick(data, Self.residentFields) { record.identity[member.key] = member.value }
            case "protection_changed":
                if let protected = data["protected"]?.boolValue { record.facts["protected"] = .bool(protected) }
            default: break
            }
        }
        if verb == "registered" || verb == "corrected" || verb == "name_changed" {
            change.registered.append((uid, verb == "registered" ? data["reason"]?.stringValue ?? "" : verb))
        }
    }

    // MARK: tax — subject is the 納税義務者番号

    mutating func applyTax(_ event: Event, _ change: inout Change) {
        guard event.type == "tax.assessed" || event.type == "tax.corrected" else { return }
        let data = event.data
        let identity = Self.pick(data, Self.taxIdentityFields)
        let uid = linkedUID(
            source: "tax", subject: event.subject, atenaNo: data["atena_no"]?.stringValue, identity: identity,
            &change)
        guard let year = data["fiscal_year"]?.integerValue else { return }
        updateRecord(uid, source: "tax", subject: event.subject, &change) { record in
            // The latest fiscal year is what the view shows; a correction for that year replaces it,
            // an assessment for an older year arriving late does not.
            if let current = record.facts["fiscal_year"]?.integerValue, year < current { return }
            record.facts = Self.pick(data, Self.taxFacts)
            if !identity.isEmpty { record.identity = identity }
        }
    }

    // MARK: childcare — subject is the 児童番号

    mutating func applyChildcare(_ event: Event, _ change: inout Change) {
        let data = event.data
        let subject = event.subject
        switch event.type {
        case "childcare.applied":
            let child = data["child"]?.objectValue ?? JSONObject()
            let identity = Self.pick(child, Self.childIdentityFields)
            let uid = linkedUID(
                source: "childcare", subject: subject, atenaNo: child["atena_no"]?.stringValue, identity: identity,
                &change)
            updateRecord(uid, source: "childcare", subject: subject, &change) { record in
                record.identity = identity
                // A new application does not undo an enrolment (a transfer application, 転園申請).
                let status = record.facts["status"]?.stringValue
                if status == nil || status == "withdrawn" { record.facts["status"] = "applied" }
            }
            for guardian in data["guardians"]?.arrayValue ?? [] {
                let guardianUID: String
                if let atenaNo = guardian["atena_no"]?.stringValue {
                    guardianUID = atenaUID(atenaNo, &change)
                } else if let matched = guardianByMatch(guardian.objectValue ?? JSONObject(), childUID: uid) {
                    guardianUID = matched
                } else {
                    continue
                }
                guard guardianUID != uid else { continue }
                relateGuardian(guardianUID, child: uid, &change)
            }
        case "childcare.enrolled", "childcare.fee_decided", "childcare.withdrawn":
            let uid = linkedUID(source: "childcare", subject: subject, atenaNo: nil, identity: JSONObject(), &change)
            updateRecord(uid, source: "childcare", subject: subject, &change) { record in
                switch event.type {
                case "childcare.enrolled":
                    record.facts["status"] = "enrolled"
                    record.facts["facility_code"] = data["facility_code"]
                    record.facts["certification"] = data["certification"]
                case "childcare.fee_decided":
                    record.facts["monthly_fee"] = data["monthly_fee"]
                default:
                    record.facts["status"] = "withdrawn"
                }
            }
        default: return
        }
    }

    /// Lists `child` under the guardian's `guardian_of`.
    mutating func relateGuardian(_ guardianUID: String, child: String, _ change: inout Change) {
        update(guardianUID, &change) { person in
            if !person.guardianOf.contains(child) { person.guardianOf.append(child) }
        }
        if !(guardiansOfChild[child]?.contains(guardianUID) ?? false) { guardiansOfChild[child, default: []].append(guardianUID) }
    }

    /// A guardian without 宛名番号, matched (auto-link level only) among persons, with the child's
    /// household as extra evidence: guardians often give no birth date.
    func guardianByMatch(_ guardian: JSONObject, childUID: String) -> String? {
        let profile = MatchProfile(identity: Self.pick(guardian, ["name", "name_kana", "birth_date"]))
        let household = persons[childUID]?.resident?.identity["household_no"]?.stringValue
        let decision = matchIndex.decide(
            profile, weights: linker.weights, thresholds: linker.thresholds, household: household
        ) { number, standing in
            standing != .unregistered && Self.formatUID(Int64(number)) != childUID
        }
        guard case .link(let candidate) = decision else { return nil }
        return Self.formatUID(Int64(candidate.number))
    }

    // MARK: library — subject is the 利用者番号; no 宛名番号, ever

    mutating func applyLibrary(_ event: Event, _ change: inout Change) {
        let known = ["library.patron_registered", "library.patron_updated", "library.patron_withdrawn"]
        guard known.contains(event.type) else { return }
        let identity = Self.pick(event.data, Self.libraryFields)
        endLinkIfReissued(source: "library", subject: event.subject, type: event.type, &change)
        let uid = linkedUID(source: "library", subject: event.subject, atenaNo: nil, identity: identity, &change)
        updateRecord(uid, source: "library", subject: event.subject, &change) { record in
            switch event.type {
            case "library.patron_registered":
                record.identity = identity
                record.facts["status"] = "active"
            case "library.patron_updated":
                for member in identity { record.identity[member.key] = member.value }
                if record.facts["status"] == nil { record.facts["status"] = "active" }
            default:
                record.facts["status"] = "withdrawn"
            }
        }
    }
}
