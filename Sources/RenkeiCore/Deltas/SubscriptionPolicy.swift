/// What one subscription may see and hear (contract §4, §5): the part of its configuration
/// delta planning needs.
public struct SubscriptionPolicy: Sendable, Hashable {
    /// Every delta kind of contract §4.
    public static let knownKinds: Set<String> = [
        "person.created", "person.changed", "person.merged", "person.unlinked", "household.changed",
    ]
    /// Fields that leave the daemon only toward a subscription that declares a `legal_basis`.
    public static let restrictedFields: Set<String> = ["my_number", "tax"]

    /// The subscription's name (the key under `subscriptions`).
    public var name: String
    /// The delta kinds it receives; `nil` receives every kind.
    public var kinds: Set<String>?
    /// The person-view fields it may see.
    public var fields: [String]
    /// A source name: only persons linked to that source are in scope; `nil` covers every person.
    public var linkedTo: String?
    /// The declared legal basis for restricted fields (`my_number`, `tax`).
    public var legalBasis: String?

    /// Creates a policy.
    public init(
        name: String, kinds: Set<String>? = nil, fields: [String], linkedTo: String? = nil, legalBasis: String? = nil
    ) {
        self.name = name
        self.kinds = kinds
        self.fields = fields
        self.linkedTo = linkedTo
        self.legalBasis = legalBasis
    }

    /// Whether the subscription receives deltas of `kind`.
    public func receives(_ kind: String) -> Bool { kinds?.contains(kind) ?? true }

    /// Checks the policy as start-up does: known fields and kinds, and a `legal_basis` for
    /// `my_number` and `tax`.
    /// - Throws: ``RenkeiError`` with code `invalidConfiguration`, naming the subscription.
    public func validate() throws(RenkeiError) {
        let path = "subscriptions.\(name)"
        let known = Set(PersonRecord.viewFields)
        if let unknown = fields.first(where: { !known.contains($0) }) {
            throw RenkeiError(
                .invalidConfiguration,
                "\(path).fields: \"\(unknown)\" is not a person view field; use some of "
                    + PersonRecord.viewFields.joined(separator: ", "))
        }
        if let kinds, let unknown = kinds.sorted().first(where: { !Self.knownKinds.contains($0) }) {
            throw RenkeiError(
                .invalidConfiguration,
                "\(path).kinds: \"\(unknown)\" is not a delta kind; use some of "
                    + Self.knownKinds.sorted().joined(separator: ", "))
        }
        let restricted = fields.filter { Self.restrictedFields.contains($0) }
        let basis = legalBasis?.trimmingSpaces ?? ""
        if !restricted.isEmpty && basis.isEmpty {
            throw RenkeiError(
                .invalidConfiguration,
                "subscription \"\(name)\" lists \(restricted.joined(separator: " and ")) without legal_basis: "
                    + "add \"legal_basis\" (e.g. the 番号法 provision) to \(path) or remove the field")
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
