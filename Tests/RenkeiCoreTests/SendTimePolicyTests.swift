import RenkeiCore
import Testing

/// Issue 13: the policy in force when a body leaves, applied to bodies planned under an older one.
@Suite struct SendTimePolicyTests {
    static let myNumber = "123456789018"
    static let address = "千代田区1-1"

    /// A planned body as the planner writes it (bodies are planned with `DeltaPlanner`, then decided).
    static func planned(
        _ policy: SubscriptionPolicy, view: JSONObject, previous: SentState? = nil
    ) throws -> (body: [UInt8], fields: [String]) {
        let delta = try #require(DeltaPlannerTests.plan(policy, view, previous).delta)
        return (delta.body, delta.disclosedFields)
    }

    static func decide(
        _ planned: (body: [UInt8], fields: [String]), kind: String = "person.created", policy: SubscriptionPolicy,
        facts: SendTimePolicy.Facts = .init()
    ) -> SendTimePolicy.Decision {
        SendTimePolicy.decide(kind: kind, body: planned.body, plannedFields: planned.fields, policy: policy, facts: facts)
    }

    static func sent(_ decision: SendTimePolicy.Decision) throws -> (body: JSONObject, text: String, fields: [String]) {
        guard case .send(let body, let fields, _) = decision else {
            Issue.record("expected a send, got \(decision)")
            throw CancellationError()
        }
        return (try #require(try JSONParser.parse(body).objectValue), String(decoding: body, as: UTF8.self), fields)
    }

    let benefits = SubscriptionPolicy(name: "benefits", fields: ["uid", "status", "my_number"], legalBasis: "番号法 第9条")

    @Test func anUnchangedPolicySendsTheBodyAsPlanned() throws {
        let planned = try Self.planned(benefits, view: DeltaPlannerTests.view(version: 1))
        guard case .send(let body, let fields, _) = Self.decide(planned, policy: benefits) else {
            Issue.record("not sent")
            return
        }
        #expect(body == planned.body)
        #expect(fields == planned.fields)
    }

    /// Repro 1 of issue 13, at the unit: the legal basis ended while the delta waited.
    @Test func aFieldRemovedFromThePolicyDoesNotLeave() throws {
        let planned = try Self.planned(benefits, view: DeltaPlannerTests.view(version: 1))
        #expect(String(decoding: planned.body, as: UTF8.self).contains(Self.myNumber))
        let narrowed = SubscriptionPolicy(name: "benefits", fields: ["uid", "status"])
        let sent = try Self.sent(Self.decide(planned, policy: narrowed))
        #expect(!sent.text.contains(Self.myNumber) && !sent.text.contains("my_number"), "\(sent.text)")
        #expect(sent.fields == ["uid", "status"])
    }

    @Test func aRestrictedFieldNeedsALegalBasisInForce() throws {
        let planned = try Self.planned(benefits, view: DeltaPlannerTests.view(version: 1))
        // A policy object that lists my_number without a basis (start-up refuses it; this guard holds anyway).
        let noBasis = SubscriptionPolicy(name: "benefits", fields: ["uid", "status", "my_number"], legalBasis: "  ")
        let sent = try Self.sent(Self.decide(planned, policy: noBasis))
        #expect(!sent.text.contains(Self.myNumber))
        #expect(SendTimePolicy.allowedFields(noBasis) == ["uid", "status"])
    }

    @Test func aChangeOnlyToFieldsNoLongerAllowedIsSkipped() throws {
        let before = DeltaPlannerTests.view(version: 1)
        let first = try #require(DeltaPlannerTests.plan(benefits, before, nil).newState)
        let planned = try Self.planned(benefits, view: DeltaPlannerTests.view(version: 2, myNumber: "234567890123"), previous: first)
        let narrowed = SubscriptionPolicy(name: "benefits", fields: ["uid", "status"])
        guard case .skip(let reason) = Self.decide(planned, kind: "person.changed", policy: narrowed) else {
            Issue.record("a my_number-only change went out without my_number")
            return
        }
        #expect(reason.contains("subscriptions.benefits.fields"))
        #expect(!reason.contains("234567890123"))
    }

    @Test func aKindNoLongerReceivedIsSkipped() throws {
        let planned = try Self.planned(benefits, view: DeltaPlannerTests.view(version: 1))
        var narrowed = benefits
        narrowed.kinds = ["person.changed"]
        guard case .skip(let reason) = Self.decide(planned, policy: narrowed) else {
            Issue.record("a person.created went to a subscription that no longer receives it")
            return
        }
        #expect(reason == "subscriptions.benefits.kinds no longer lists person.created")
    }

    @Test func outOfLinkedToScopeNowIsSkippedButEndsOfRelationsGo() throws {
        let library = SubscriptionPolicy(name: "library-sync", fields: ["uid", "name", "address"], linkedTo: "library")
        let planned = try Self.planned(library, view: DeltaPlannerTests.view(version: 1))
        guard case .skip(let reason) = Self.decide(planned, policy: library, facts: .init(inScope: false)) else {
            Issue.record("sent to a subscription whose scope the person left")
            return
        }
        #expect(reason.contains("no longer linked to library"))
        let merged = DeltaPlanner.planMerged(
            policy: library, retired: "U0000000002", kept: "U0000000001", version: 3,
            keptView: DeltaPlannerTests.view(version: 1), previous: nil, cause: DeltaPlannerTests.cause, lsn: 9)
        let mergedDelta = try #require(merged.delta)
        let decision = SendTimePolicy.decide(
            kind: "person.merged", body: mergedDelta.body, plannedFields: mergedDelta.disclosedFields, policy: library,
            facts: .init(inScope: false))
        let sent = try Self.sent(decision)
        #expect(sent.body["view"] == ["uid": "U0000000002", "merged_into": "U0000000001"])

        // An unlink that took the person out of scope says so, with uids only: none of the person's fields.
        let held = try #require(DeltaPlannerTests.plan(library, DeltaPlannerTests.view(version: 1), nil).newState)
        let unlinked = DeltaPlanner.planUnlinked(
            policy: library, uid: "U0000000001", newUID: "U0000000003",
            view: DeltaPlannerTests.view(version: 2, address: "港区9-9", library: false), previous: held,
            cause: DeltaPlannerTests.cause, lsn: 11)
        let unlinkedDelta = try #require(unlinked.delta)
        #expect(String(decoding: unlinkedDelta.body, as: UTF8.self).contains("港区9-9"))
        let reduced = try Self.sent(SendTimePolicy.decide(
            kind: "person.unlinked", body: unlinkedDelta.body, plannedFields: unlinkedDelta.disclosedFields,
            policy: library, facts: .init(inScope: false)))
        #expect(!reduced.text.contains("港区9-9") && !reduced.text.contains("山田"), "\(reduced.text)")
        #expect(reduced.body["view"] == ["uid": "U0000000001"])
        #expect(reduced.body["changes"]?["split_into"]?["new"] == "U0000000003")
    }

    /// Protected now: address fields withheld, and no cause or lsn (they would say what happened and when).
    @Test func protectedNowWithholdsAndConceals() throws {
        let mirror = SubscriptionPolicy(name: "mirror", fields: ["uid", "name", "address", "postal_code", "household_no"])
        let planned = try Self.planned(mirror, view: DeltaPlannerTests.view(version: 1))
        #expect(String(decoding: planned.body, as: UTF8.self).contains("\"cause\""))
        let sent = try Self.sent(Self.decide(planned, policy: mirror, facts: .init(isProtected: true)))
        #expect(!sent.text.contains(Self.address) && !sent.text.contains("100-0001") && !sent.text.contains("\"H1\""), "\(sent.text)")
        #expect(sent.body["withheld"] == ["address", "postal_code", "household_no"])
        #expect(sent.body["cause"] == nil && sent.body["lsn"] == nil, "\(sent.text)")
        #expect(sent.fields == ["uid", "name"])
    }

    @Test func aMoveThatBecameWithheldStillTellsTheReceiver() throws {
        let mirror = SubscriptionPolicy(name: "mirror", fields: ["uid", "address"])
        let first = try #require(DeltaPlannerTests.plan(mirror, DeltaPlannerTests.view(version: 1), nil).newState)
        let planned = try Self.planned(mirror, view: DeltaPlannerTests.view(version: 2, address: "港区9-9"), previous: first)
        let sent = try Self.sent(Self.decide(planned, kind: "person.changed", policy: mirror, facts: .init(isProtected: true)))
        #expect(sent.body["changes"] == .object([:]))
        #expect(sent.body["withheld"] == ["address"])
        #expect(!sent.text.contains("港区9-9"))
    }

    @Test func protectedPersonsDeltasArePlannedWithoutCauseOrLSN() throws {
        let mirror = SubscriptionPolicy(name: "mirror", fields: ["uid", "name", "address"])
        let body = try DeltaPlannerTests.body(DeltaPlannerTests.plan(mirror, DeltaPlannerTests.view(version: 1, protected: true), nil).delta)
        #expect(body["cause"] == nil && body["lsn"] == nil)
        #expect(body["withheld"] == ["address"])
        let open = try DeltaPlannerTests.body(DeltaPlannerTests.plan(mirror, DeltaPlannerTests.view(version: 1), nil).delta)
        #expect(open["cause"] != nil && open["lsn"] == 10)
    }

    // MARK: - household.changed

    static func householdBody(old: JSONValue, new: JSONValue, exempt: Bool? = nil) -> [UInt8] {
        var view: JSONObject = ["household_no": "H9", "members": new]
        var changes: JSONObject = ["members": ["old": old, "new": new]]
        if let exempt {
            view["all_members_tax_exempt"] = .bool(exempt)
            changes["all_members_tax_exempt"] = ["old": .bool(!exempt), "new": .bool(exempt)]
        }
        let body: JSONObject = [
            "delta_id": "mirror:H9:3", "subscription": "mirror", "kind": "household.changed", "household_no": "H9",
            "version": 3, "lsn": 7, "changes": .object(changes), "view": .object(view),
            "cause": ["source": "tax", "event_id": "T-1", "type": "tax.assessed"],
        ]
        return JSONValue.object(body).serializedBytes
    }

    let households = SubscriptionPolicy(name: "mirror", fields: ["uid", "household_no", "tax"], legalBasis: "条例")

    @Test func aHouseholdChangeNamingAProtectedMemberConcealsItsCause() throws {
        let body = Self.householdBody(old: ["U1", "U3"], new: ["U1", "U2"])
        let sent = try Self.sent(SendTimePolicy.decide(
            kind: "household.changed", body: body, plannedFields: ["household_no", "members"], policy: households,
            facts: .init(protectedMembers: ["U2"])))
        #expect(!sent.text.contains("U2"))
        #expect(sent.body["cause"] == nil && sent.body["lsn"] == nil)
    }

    @Test func aHouseholdChangeThatOnlyHiddenMembersMadeIsSkipped() throws {
        let body = Self.householdBody(old: ["U1"], new: ["U1", "U2"])
        for facts in [SendTimePolicy.Facts(protectedMembers: ["U2"]), SendTimePolicy.Facts(outOfScopeMembers: ["U2"])] {
            var noTax = households
            noTax.fields = ["household_no"]
            guard case .skip = SendTimePolicy.decide(
                kind: "household.changed", body: body, plannedFields: ["household_no", "members"], policy: noTax, facts: facts)
            else {
                Issue.record("a household delta that only a hidden member changed was sent (\(facts))")
                continue
            }
        }
        // A first announcement that names no one visible is no announcement.
        let first = Self.householdBody(old: .null, new: ["U2"])
        guard case .skip = SendTimePolicy.decide(
            kind: "household.changed", body: first, plannedFields: ["household_no", "members"], policy: households,
            facts: .init(protectedMembers: ["U2"]))
        else {
            Issue.record("a household was announced with only a protected member")
            return
        }
    }

    @Test func theExemptionFlagNeedsTaxInForce() throws {
        let body = Self.householdBody(old: ["U1"], new: ["U1"], exempt: true)
        let sent = try Self.sent(SendTimePolicy.decide(
            kind: "household.changed", body: body, plannedFields: ["household_no", "members", "all_members_tax_exempt"],
            policy: households, facts: .init()))
        #expect(sent.body["view"]?["all_members_tax_exempt"] == true)
        var noTax = households
        noTax.fields = ["household_no"]
        guard case .skip = SendTimePolicy.decide(
            kind: "household.changed", body: body, plannedFields: ["household_no", "members", "all_members_tax_exempt"],
            policy: noTax, facts: .init())
        else {
            Issue.record("an exemption flip went to a subscription without tax")
            return
        }
    }
}
