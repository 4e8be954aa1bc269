// MARK: - Reconciliation (突合, issue 17): named checks over the unified views

/// One named reconciliation check (突合): given one person, the findings that person fails it with.
///
/// A check is pure and small: it reads the person's record (and, through `context`, the persons it
/// needs beside it) and returns one ``ReconciliationDraft`` per thing wrong, each with the facts an
/// official needs to act. The projection evaluates every check for the persons an event changed
/// (and their ``dependents(of:in:)``) after each event, so the lists stay current as events arrive
/// and a rebuild from the log reproduces them exactly.
///
/// To add a check, write one type conforming to this protocol and add it to
/// ``ReconciliationChecks/standard`` (README "Reconciliation (突合)" → "Adding a check").
public protocol ReconciliationCheck: Sendable {
    /// The check's name in URLs, JSON and metrics: lowercase words joined by `_`, never renamed
    /// (findings are stored under it).
    var name: String { get }
    /// One line for officials, Japanese then English.
    var title: String { get }
    /// The findings `person` fails this check with; empty when it passes.
    ///
    /// Called only for live persons (never a uid merged away). Facts about the person themself
    /// (name, status, address) are added by the evaluator (``ReconciliationFacts/person(_:)``); put
    /// here only what this check found. Facts about another person go through
    /// ``ReconciliationFacts/residence(of:)`` so a protected person's address never appears.
    /// - Parameters:
    ///   - person: the person's record.
    ///   - context: read access to the other persons.
    func findings(of person: PersonRecord, in context: any ReconciliationContext) -> [ReconciliationDraft]
    /// The other persons whose findings may change when `uid`'s record changes (e.g. the guardians
    /// of a child who moved); most checks depend on the person alone and return nothing.
    func dependents(of uid: String, in context: any ReconciliationContext) -> [String]
}

extension ReconciliationCheck {
    /// No dependents: the check reads the person alone.
    public func dependents(of uid: String, in context: any ReconciliationContext) -> [String] { [] }
}

/// What a check may read besides the person it is given (the projection conforms).
public protocol ReconciliationContext {
    /// The record of `uid` after following merges, `nil` when unknown.
    func liveRecord(_ uid: String) -> PersonRecord?
    /// The uids listing `child` under `guardian_of`.
    func guardians(ofChild child: String) -> [String]
}

/// One finding as a check reports it, before the evaluator gives it an id and a history.
public struct ReconciliationDraft: Sendable, Hashable {
    /// What within the person the finding is about (`childcare:C0001`, `source:library`,
    /// `child:U0000000012`): with the check and uid it makes the finding's id, so the same problem
    /// keeps the same id while it lasts and when it comes back.
    public var subject: String
    /// The facts behind the finding, readable by an official.
    public var facts: JSONObject

    /// Creates a draft.
    public init(subject: String, facts: JSONObject) {
        self.subject = subject
        self.facts = facts
    }
}

/// Building blocks for findings' facts.
public enum ReconciliationFacts {
    /// The person facts every finding starts with: `name`, `name_kana`, `birth_date`, `status`,
    /// `address`, and `protected: true` instead of the address (and postal code, household) while the
    /// person is protected (支援措置).
    public static func person(_ record: PersonRecord) -> JSONObject {
        let view = record.view
        var facts = JSONObject()
        for key in ["name", "name_kana", "birth_date", "status"] { facts[key] = view[key] ?? .null }
        if record.isProtected {
            facts["protected"] = true
        } else {
            facts["address"] = view["address"] ?? .null
        }
        return facts
    }

    /// Where another person lives, for a finding about someone else: `uid`, `name`, `status`,
    /// `household_no`, `relationship`; for a protected person `protected: true` and no household.
    public static func residence(of record: PersonRecord) -> JSONObject {
        let view = record.view
        var facts: JSONObject = ["uid": .string(record.uid)]
        for key in ["name", "status"] { facts[key] = view[key] ?? .null }
        if record.isProtected {
            facts["protected"] = true
        } else {
            facts["household_no"] = view["household_no"] ?? .null
            facts["relationship"] = view["relationship"] ?? .null
        }
        return facts
    }

    /// The registry status of a record: `active`, `moved_out`, `deceased`, or `nil` without a
    /// registry record.
    public static func registryStatus(_ record: PersonRecord) -> String? {
        guard let resident = record.resident else { return nil }
        return resident.facts["status"]?.stringValue ?? "active"
    }

    /// The source records still linked (a record whose subject was reissued elsewhere is not).
    public static func linkedRecords(_ record: PersonRecord, from source: String) -> [SourceRecord] {
        record.records.filter { $0.link.source == source && $0.linkEndedLSN == nil }
    }
}
