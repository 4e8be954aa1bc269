import RenkeiCore
import Testing

/// `DeltaPlanner.leavesUnchanged` lets the daemon skip a subscription without parsing its stored
/// state: whenever it says so, `plan` must indeed plan nothing and keep the state.
@Suite struct DeltaPlannerFastPathTests {
    static let policies = [
        SubscriptionPolicy(name: "sync", fields: ["uid", "name", "address", "household_no", "status"]),
        SubscriptionPolicy(name: "library", kinds: ["person.changed"], fields: ["uid", "name", "address"], linkedTo: "library"),
        SubscriptionPolicy(name: "benefits", fields: ["uid", "my_number", "tax", "version"], legalBasis: "番号法"),
    ]

    static var views: [JSONObject] {
        var views: [JSONObject] = []
        for version: Int64 in [1, 2] {
            for address in ["千代田区1-1", "千代田区2-2"] {
                for name in ["山田 太郎", "山田 太\u{FA11}"] {
                    for protected in [false, true] {
                        for library in [false, true] {
                            views.append(DeltaPlannerTests.view(
                                version: version, address: address, name: name, protected: protected, library: library))
                        }
                    }
                }
            }
        }
        return views
    }

    @Test func encodingIsTheStoredFormat() throws {
        let state = SentState(
            sentVersion: 3, version: 4, visible: ["uid": "U1", "name": "﨑"], withheld: ["address"],
            withheldValues: ["address": "千代田区"])
        let literal = JSONValue.object([
            "sent_version": 3, "version": 4, "visible": ["uid": "U1", "name": "﨑"], "withheld": ["address"],
            "withheld_values": ["address": "千代田区"],
        ]).serializedBytes
        #expect(state.encoded == literal)
        #expect(try SentState(decoding: state.encoded) == state)
        let baseline = SentState(sentVersion: nil, version: 1, visible: [:])
        #expect(try SentState(decoding: baseline.encoded) == baseline)
    }

    @Test func leavesUnchangedOnlyWhenPlanWouldDoNothing() {
        var skipped = 0
        for policy in Self.policies {
            for before in Self.views {
                // What the receiver holds after a delta for `before`.
                let previous = DeltaPlanner.plan(
                    policy: policy, uid: "U0000000001", view: before, previous: nil, cause: DeltaPlannerTests.cause, lsn: 1
                ).newState
                for after in Self.views {
                    let plan = DeltaPlanner.plan(
                        policy: policy, uid: "U0000000001", view: after, previous: previous, cause: DeltaPlannerTests.cause, lsn: 2)
                    guard DeltaPlanner.leavesUnchanged(policy: policy, view: after, stored: previous?.encoded) else { continue }
                    skipped += 1
                    #expect(plan.delta == nil && plan.newState == previous, "\(policy.name): \(before) → \(after)")
                }
            }
        }
        // The shortcut does fire: same views, and changes the policy does not see.
        #expect(skipped > 100)
    }

    @Test func outOfScopeNeedsNoStoredState() {
        let library = Self.policies[1]
        let view = DeltaPlannerTests.view(version: 1, library: false)
        #expect(!DeltaPlanner.inScope(policy: library, view: view))
        #expect(DeltaPlanner.leavesUnchanged(policy: library, view: view, stored: nil))
        #expect(!DeltaPlanner.leavesUnchanged(policy: Self.policies[0], view: view, stored: nil))
    }
}
