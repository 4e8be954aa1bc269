import RenkeiCore
import RenkeiStore

/// The last guard before a body leaves: the subscription's policy in force now, and the protection
/// and scope of the person as they are now, applied to a body that may have been planned long ago
/// (``SendTimePolicy`` has the rules; this reads the facts it needs and keeps what the ledger records).
///
/// Every send goes through here: the first try, a retry, a retried dead letter, a resumed
/// subscription, a subscription replay. The delta id stays the same whatever is taken out.
enum DeliveryRedaction {
    /// What leaves for one delta, and what the disclosure ledger records of it once it got a 2xx.
    struct Outgoing: Sendable, Equatable {
        var body: [UInt8]
        /// The field names it discloses (the keys of its `view`), comma-separated.
        var fields: String
        /// For `household.changed`: every person whose uid the sent body lists (`view.members`,
        /// `changes.members` old and new), so `GET /v1/disclosures?uid=` answers it for each of them.
        /// Empty for person deltas, whose ledger row is keyed by their own uid.
        var members: [String] = []
    }

    /// What to do with one delta now.
    enum Prepared: Sendable, Equatable {
        /// Send this.
        case send(Outgoing)
        /// Do not send: the policy in force leaves nothing of it (recorded as `skipped`).
        case skip(reason: String)
    }

    /// Applies `policy` and `facts` to the planned body.
    /// - Parameters:
    ///   - pending: the delta as the outbox holds it.
    ///   - policy: the subscription's policy in force now (after any reload).
    ///   - facts: for a person delta, the live person's protection and scope
    ///     (``Outbox/deltas(seqs:linkedTo:in:)``); for a household delta, its members'
    ///     (``Outbox/householdFacts(members:linkedTo:in:)``).
    static func prepare(
        _ pending: Outbox.Pending, policy: SubscriptionPolicy, facts: SendTimePolicy.Facts
    ) -> Prepared {
        let planned = pending.fields.split(separator: ",").map(String.init)
        switch SendTimePolicy.decide(kind: pending.kind, body: pending.body, plannedFields: planned, policy: policy, facts: facts) {
        case .send(let body, let fields, let members):
            return .send(Outgoing(body: body, fields: fields.joined(separator: ","), members: members))
        case .skip(let reason):
            return .skip(reason: reason)
        }
    }

    /// Reads what ``prepare(_:policy:facts:)`` needs of a delta's people now, then applies it.
    /// - Parameter facts: the person facts read with the row (ignored for households, whose
    ///   members are looked up here).
    static func prepare(
        _ pending: Outbox.Pending, facts: SendTimePolicy.Facts, policy: SubscriptionPolicy, reader: Database
    ) throws -> Prepared {
        guard pending.kind == SendTimePolicy.householdKind else { return prepare(pending, policy: policy, facts: facts) }
        let members = (try? JSONParser.parse(pending.body))?.objectValue.map(SendTimePolicy.namedMembers) ?? []
        let householdFacts = try Outbox.householdFacts(members: members, linkedTo: policy.linkedTo, in: reader)
        return prepare(pending, policy: policy, facts: householdFacts)
    }
}
