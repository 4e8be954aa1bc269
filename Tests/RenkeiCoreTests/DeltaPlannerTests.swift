import RenkeiCore
import Testing

/// Contract §4: which view changes become deltas, and what they say.
@Suite struct DeltaPlannerTests {
    static let cause = DeltaCause(source: "resident", eventID: "R-1", type: "resident.moved")

    /// A person view with the given overrides (the full shape, as the projection makes it).
    static func view(
        version: Int64, lsn: Int64 = 10, address: String = "千代田区1-1", name: String = "山田 太郎",
        protected: Bool = false, library: Bool = true, myNumber: JSONValue = "123456789018"
    ) -> JSONObject {
        var links: [JSONValue] = [["source": "resident", "subject": "000000001", "method": "key"]]
        if library { links.append(["source": "library", "subject": "LIB-1", "method": "key"]) }
        return [
            "uid": "U0000000001", "status": "active", "protected": .bool(protected), "name": .string(name),
            "name_kana": nil, "birth_date": "1990-01-01", "sex": "male", "address": .string(address),
            "postal_code": "100-0001", "household_no": "H1", "relationship": "世帯主", "my_number": myNumber,
            "links": .array(links), "tax": nil, "childcare": nil,
            "library": library ? ["patron_no": "LIB-1", "status": "active"] : nil, "guardian_of": [],
            "version": .integer(version), "lsn": .integer(lsn),
        ]
    }

    static func plan(
        _ policy: SubscriptionPolicy, _ view: JSONObject, _ previous: SentState?
    ) -> (delta: PlannedDelta?, newState: SentState?) {
        DeltaPlanner.plan(
            policy: policy, uid: "U0000000001", view: view, previous: previous, cause: cause,
            lsn: view["lsn"]?.integerValue ?? 0)
    }

    static func body(_ delta: PlannedDelta?) throws -> JSONObject {
        let delta = try #require(delta)
        return try #require(try JSONParser.parse(delta.body).objectValue)
    }

    let basic = SubscriptionPolicy(name: "sync", fields: ["uid", "name", "address", "household_no", "status"])

    // MARK: - created / changed / nothing

    @Test func firstStateIsCreatedWithEveryField() throws {
        let (delta, state) = Self.plan(basic, Self.view(version: 1), nil)
        let planned = try #require(delta)
        #expect(planned.kind == "person.created")
        #expect(planned.deltaID == "sync:U0000000001:1")
        #expect(planned.prevVersion == nil)
        #expect(planned.disclosedFields == ["uid", "status", "name", "address", "household_no"])
        #expect(
            String(decoding: planned.body, as: UTF8.self)
                == #"{"delta_id":"sync:U0000000001:1","subscription":"sync","kind":"person.created","uid":"U0000000001","#
                + #""version":1,"lsn":10,"changes":{"uid":{"old":null,"new":"U0000000001"},"status":{"old":null,"new":"active"},"#
                + #""name":{"old":null,"new":"山田 太郎"},"address":{"old":null,"new":"千代田区1-1"},"#
                + #""household_no":{"old":null,"new":"H1"}},"view":{"uid":"U0000000001","status":"active","name":"山田 太郎","#
                + #""address":"千代田区1-1","household_no":"H1"},"cause":{"source":"resident","event_id":"R-1","type":"resident.moved"}}"#)
        #expect(state == planned.newState)
        #expect(state?.sentVersion == 1)
    }

    @Test func createdOmitsNullFields() throws {
        let policy = SubscriptionPolicy(name: "kana", fields: ["uid", "name_kana", "tax"], legalBasis: "条例")
        let body = try Self.body(Self.plan(policy, Self.view(version: 1), nil).delta)
        #expect(body.text("changes") == #"{"uid":{"old":null,"new":"U0000000001"}}"#)
        #expect(body.text("view") == #"{"uid":"U0000000001","name_kana":null,"tax":null}"#)
    }

    @Test func changeSendsOnlyChangedFieldsWithPrevVersion() throws {
        let first = Self.plan(basic, Self.view(version: 1), nil)
        let second = Self.plan(basic, Self.view(version: 3, lsn: 12, address: "港区2-2"), first.newState)
        let body = try Self.body(second.delta)
        #expect(second.delta?.kind == "person.changed")
        #expect(body.keys == ["delta_id", "subscription", "kind", "uid", "version", "prev_version", "lsn", "changes", "view", "cause"])
        #expect(body["prev_version"] == 1)
        #expect(body["lsn"] == 12)
        #expect(body.text("changes") == #"{"address":{"old":"千代田区1-1","new":"港区2-2"}}"#)
        // Version 4 follows, with version 3 as its predecessor.
        let third = Self.plan(basic, Self.view(version: 4, address: "港区3-3"), second.newState)
        #expect(third.delta?.prevVersion == 3)
        #expect(third.delta?.deltaID == "sync:U0000000001:4")
    }

    @Test func unchangedFieldsSendNothing() throws {
        let first = Self.plan(basic, Self.view(version: 1), nil)
        // Same view again: nothing, state kept.
        let same = Self.plan(basic, Self.view(version: 1), first.newState)
        #expect(same.delta == nil)
        #expect(same.newState == first.newState)
        // A new version whose change is outside the subscription's fields (my_number): nothing.
        let outside = Self.plan(basic, Self.view(version: 2, lsn: 11, myNumber: nil), first.newState)
        #expect(outside.delta == nil)
        #expect(outside.newState == first.newState)
        // Listing version and lsn does not make them count as a change.
        let bookkeeping = SubscriptionPolicy(name: "v", fields: ["uid", "name", "version", "lsn"])
        let base = Self.plan(bookkeeping, Self.view(version: 1), nil)
        #expect(try Self.body(base.delta).text("changes") == #"{"uid":{"old":null,"new":"U0000000001"},"name":{"old":null,"new":"山田 太郎"}}"#)
        #expect(Self.plan(bookkeeping, Self.view(version: 2, lsn: 11), base.newState).delta == nil)
    }

    // MARK: - kinds and scope

    @Test func kindsWithoutCreatedRecordsABaseline() throws {
        let policy = SubscriptionPolicy(
            name: "library-sync", kinds: ["person.changed", "person.merged"], fields: ["uid", "name", "address"])
        let first = Self.plan(policy, Self.view(version: 1), nil)
        #expect(first.delta == nil)
        let baseline = try #require(first.newState)
        #expect(baseline.sentVersion == nil)
        #expect(baseline.version == 1)

        let second = Self.plan(policy, Self.view(version: 2, address: "港区2-2"), baseline)
        let body = try Self.body(second.delta)
        #expect(body["kind"] == "person.changed")
        #expect(body["prev_version"] == nil)
        #expect(body.text("changes") == #"{"address":{"old":"千代田区1-1","new":"港区2-2"}}"#)
        #expect(Self.plan(policy, Self.view(version: 3, address: "港区3-3"), second.newState).delta?.prevVersion == 2)
    }

    @Test func kindsWithoutChangedStillMoveTheState() throws {
        let policy = SubscriptionPolicy(name: "created-only", kinds: ["person.created"], fields: ["uid", "address"])
        let first = Self.plan(policy, Self.view(version: 1), nil)
        #expect(first.delta?.kind == "person.created")
        let second = Self.plan(policy, Self.view(version: 2, address: "港区2-2"), first.newState)
        #expect(second.delta == nil)
        #expect(second.newState?.visible.text("address") == #""港区2-2""#)
        #expect(second.newState?.sentVersion == 1)
    }

    @Test func linkedToLimitsScope() throws {
        let policy = SubscriptionPolicy(name: "library-sync", fields: ["uid", "library"], linkedTo: "library")
        let outside = Self.plan(policy, Self.view(version: 1, library: false), nil)
        #expect(outside.delta == nil && outside.newState == nil)
        let inside = Self.plan(policy, Self.view(version: 2), nil)
        #expect(try Self.body(inside.delta).text("view") == #"{"uid":"U0000000001","library":{"patron_no":"LIB-1","status":"active"}}"#)
    }

    // MARK: - protection

    @Test func protectionWithholdsAndLiftingSendsCurrentValues() throws {
        let first = Self.plan(basic, Self.view(version: 1), nil)

        let protected = Self.plan(basic, Self.view(version: 2, protected: true), first.newState)
        let body = try Self.body(protected.delta)
        #expect(body.text("changes") == "{}")
        #expect(body.text("view") == #"{"uid":"U0000000001","status":"active","name":"山田 太郎"}"#)
        #expect(body.text("withheld") == #"["address","household_no"]"#)
        #expect(!String(decoding: protected.delta!.body, as: UTF8.self).contains("千代田区"))
        #expect(protected.delta?.disclosedFields == ["uid", "status", "name"])

        // The protected address changes: a delta says so, without the address.
        let moved = Self.plan(basic, Self.view(version: 3, address: "秘匿区9-9", protected: true), protected.newState)
        let movedBody = try Self.body(moved.delta)
        #expect(movedBody.text("changes") == "{}")
        #expect(movedBody.text("withheld") == #"["address","household_no"]"#)
        #expect(!String(decoding: moved.delta!.body, as: UTF8.self).contains("秘匿区"))
        // A name change while protected flows, the address still does not.
        let renamed = Self.plan(basic, Self.view(version: 4, address: "秘匿区9-9", name: "山田 次郎", protected: true), moved.newState)
        #expect(try Self.body(renamed.delta).text("changes") == #"{"name":{"old":"山田 太郎","new":"山田 次郎"}}"#)

        // Lifted: the current values flow as new, though household_no never changed.
        let lifted = Self.plan(basic, Self.view(version: 5, address: "秘匿区9-9", name: "山田 次郎"), renamed.newState)
        let liftedBody = try Self.body(lifted.delta)
        #expect(liftedBody["withheld"] == nil)
        #expect(
            liftedBody.text("changes")
                == #"{"address":{"old":null,"new":"秘匿区9-9"},"household_no":{"old":null,"new":"H1"}}"#)
    }

    @Test func protectionOutsideTheFieldsSendsNothing() throws {
        let policy = SubscriptionPolicy(name: "names", fields: ["uid", "name"])
        let first = Self.plan(policy, Self.view(version: 1), nil)
        #expect(Self.plan(policy, Self.view(version: 2, protected: true), first.newState).delta == nil)
    }

    @Test func protectedFromTheFirstDelta() throws {
        let body = try Self.body(Self.plan(basic, Self.view(version: 1, protected: true), nil).delta)
        #expect(body["kind"] == "person.created")
        #expect(body.text("withheld") == #"["address","household_no"]"#)
        #expect(body["changes"]?["address"] == nil)
    }

    // MARK: - my_number and policy validation

    @Test func myNumberOnlyWhenListed() throws {
        let plain = Self.plan(basic, Self.view(version: 1), nil)
        #expect(!String(decoding: plain.delta!.body, as: UTF8.self).contains("123456789018"))
        let stored = try #require(plain.newState).encoded
        #expect(!String(decoding: stored, as: UTF8.self).contains("123456789018"))
        let benefits = SubscriptionPolicy(name: "benefits", fields: ["uid", "my_number", "tax"], legalBasis: "番号法 別表")
        let listed = Self.plan(benefits, Self.view(version: 1), nil)
        #expect(try Self.body(listed.delta).text("view") == #"{"uid":"U0000000001","my_number":"123456789018","tax":null}"#)
    }

    @Test func validateRequiresLegalBasisNamingTheSubscription() throws {
        for fields in [["uid", "my_number"], ["tax"]] {
            for basis in [nil, "", "  "] as [String?] {
                let policy = SubscriptionPolicy(name: "benefits", fields: fields, legalBasis: basis)
                #expect {
                    try policy.validate()
                } throws: { error in
                    guard let error = error as? RenkeiError else { return false }
                    return error.code == .invalidConfiguration && error.message.contains("\"benefits\"")
                        && error.message.contains("legal_basis")
                }
            }
        }
        try SubscriptionPolicy(name: "benefits", fields: ["uid", "my_number"], legalBasis: "番号法 別表").validate()
        try basic.validate()
        #expect(throws: RenkeiError.self) { try SubscriptionPolicy(name: "x", fields: ["uid", "favourite_book"]).validate() }
        #expect(throws: RenkeiError.self) {
            try SubscriptionPolicy(name: "x", kinds: ["person.loaned"], fields: ["uid"]).validate()
        }
    }

    @Test func sentStateRoundTrips() throws {
        let states = [
            SentState(sentVersion: nil, version: 1, visible: ["uid": "U1", "name": "\u{FA11}"]),
            SentState(
                sentVersion: 4, version: 5, visible: ["uid": "U1"], withheld: ["address"], withheldValues: ["address": "秘匿"]),
        ]
        for state in states {
            let decoded = try SentState(decoding: state.encoded)
            #expect(decoded.encoded == state.encoded)
        }
        #expect(throws: RenkeiError.self) { try SentState(decoding: Array("{}".utf8)) }
    }

    // MARK: - end to end with the projection

    @Test func sampleThroughTheProjection() throws {
        let library = SubscriptionPolicy(
            name: "library-sync", kinds: ["person.changed", "person.merged"],
            fields: ["uid", "name", "name_kana", "address", "status", "library"], linkedTo: "library")
        let everyone = SubscriptionPolicy(name: "all", fields: ["uid", "status", "address", "household_no"])
        var projection = Projection()
        var states: [String: SentState] = [:]
        var sent: [PlannedDelta] = []
        for event in try EventLog.sampleLog() {
            let effect = projection.apply(event)
            for change in effect.persons {
                let view = try #require(projection.personView(change.uid))
                for policy in [library, everyone] {
                    let key = "\(policy.name)/\(change.uid)"
                    let result = DeltaPlanner.plan(
                        policy: policy, uid: change.uid, view: view, previous: states[key], cause: effect.cause,
                        lsn: effect.lsn)
                    states[key] = result.newState
                    if let delta = result.delta { sent.append(delta) }
                }
            }
        }
        // The library hears nothing: its patrons were created (not a kind it takes) and never changed.
        #expect(sent.filter { $0.subscription == "library-sync" }.isEmpty)
        // LIB-20001 is matched to U1 (line 5): U1 is in the library's scope, 佐藤 健 is U5.
        #expect(states["library-sync/U0000000001"] != nil)
        #expect(states["library-sync/U0000000005"] != nil)
        #expect(states["library-sync/U0000000002"] == nil)
        // "all": created for 6 uids, then U4's move and U2's move-out (tax and childcare touch none of its fields).
        let all = sent.filter { $0.subscription == "all" }
        #expect(all.filter { $0.kind == "person.created" }.count == 6)
        #expect(all.filter { $0.kind == "person.changed" }.map(\.deltaID) == ["all:U0000000004:3", "all:U0000000002:3"])
        #expect(all.last?.prevVersion == 1)
        #expect(!sent.contains { String(decoding: $0.body, as: UTF8.self).contains("123456789018") })
    }
}

/// person.merged and person.unlinked (contract §4).
@Suite struct DeltaMergeTests {
    @Test func mergedNamesTheKeptUIDAndReachesEitherScope() throws {
        let library = SubscriptionPolicy(name: "lib", fields: ["uid", "name"], linkedTo: "library")
        let cause = DeltaCause(source: "operator", eventID: "O1", type: "operator.linked")
        let kept: JSONObject = ["uid": "U0000000001", "links": [["source": "library", "subject": "L1", "method": "operator"]]]
        let plan = DeltaPlanner.planMerged(
            policy: library, retired: "U0000000007", kept: "U0000000001", version: 3, keptView: kept, previous: nil,
            cause: cause, lsn: 40)
        let delta = try #require(plan.delta)
        #expect(delta.kind == "person.merged")
        #expect(delta.deltaID == "lib:U0000000007:3")
        let body = String(decoding: delta.body, as: UTF8.self)
        #expect(body.contains(#""changes":{"merged_into":{"old":null,"new":"U0000000001"}}"#))
        // Out of scope for both uids: nothing.
        let none = DeltaPlanner.planMerged(
            policy: library, retired: "U0000000007", kept: "U0000000001", version: 3, keptView: ["uid": "U0000000001"],
            previous: nil, cause: cause, lsn: 40)
        #expect(none.delta == nil)
    }

    @Test func unlinkedReachesFormerScope() throws {
        let library = SubscriptionPolicy(name: "lib", fields: ["uid", "name"], linkedTo: "library")
        let previous = SentState(sentVersion: 2, version: 2, visible: ["uid": "U0000000001", "name": "山田 太郎"])
        let view: JSONObject = ["uid": "U0000000001", "name": "山田 太郎", "links": [], "version": 3]
        let plan = DeltaPlanner.planUnlinked(
            policy: library, uid: "U0000000001", newUID: "U0000000009", view: view, previous: previous,
            cause: DeltaCause(source: "operator", eventID: "O2", type: "operator.unlinked"), lsn: 41)
        let delta = try #require(plan.delta)
        #expect(delta.kind == "person.unlinked")
        #expect(delta.prevVersion == 2)
        #expect(String(decoding: delta.body, as: UTF8.self).contains(#""split_into":{"old":null,"new":"U0000000009"}"#))
    }
}
