import RenkeiCore
import RenkeiCrypto

/// Where `my_number` (個人番号) is turned into its at-rest token and back.
///
/// - ``sealed(_:)-(Event)``: at ingest, after validation (the schemas check 12 digits and the check
///   digit) and before the event's canonical bytes are built: the log, and so the hash chain, the
///   views, sent states, outbox and backups, hold only the token.
/// - ``sealed(_:)-(LoggedEvent)``: when the projection applies an event from a log written before
///   this existed (a plain number in an old event); the log itself is never rewritten.
/// - ``revealedForSend(_:policy:)``: the only place a token is opened, for a body leaving toward a
///   subscription whose current policy lists `my_number` and has a `legal_basis`.
struct MyNumberVault: Sendable {
    /// The field held encrypted.
    static let field = "my_number"

    let cipher: AtRestCipher

    /// `event` with `data.my_number` replaced by its token (unchanged when it has none).
    func sealed(_ event: Event) -> Event {
        guard let value = event.data[Self.field]?.stringValue, !AtRestCipher.isToken(value) else { return event }
        var copy = event
        copy.data[Self.field] = .string(cipher.seal(value, field: Self.field))
        copy.envelope["data"] = .object(copy.data)
        return copy
    }

    /// A logged event as the projection should see it: a plain number of an old event sealed.
    func sealed(_ logged: LoggedEvent) -> LoggedEvent {
        guard let value = logged.event.data[Self.field]?.stringValue, !AtRestCipher.isToken(value) else { return logged }
        var copy = logged
        copy.event = sealed(logged.event)
        return copy
    }

    /// The bytes to send for `body`: for an entitled subscription (its `fields` list `my_number` and it
    /// has a `legal_basis`), every `my_number` token in `view` and in `changes` (old and new) opened;
    /// for any other, `body` as it is (a token, never a number).
    /// - Throws: ``AtRestKeyError`` when a token does not open under this database's data key.
    func revealedForSend(_ body: [UInt8], policy: SubscriptionPolicy) throws(AtRestKeyError) -> [UInt8] {
        guard policy.fields.contains(Self.field), policy.legalBasis != nil, Self.mayHoldToken(body),
            let parsed = try? JSONParser.parse(body), var object = parsed.objectValue
        else { return body }
        var changed = false
        func open(_ value: JSONValue?) throws(AtRestKeyError) -> JSONValue? {
            guard let text = value?.stringValue, AtRestCipher.isToken(text) else { return value }
            changed = true
            return .string(try cipher.open(text, field: Self.field))
        }
        if var view = object["view"]?.objectValue, view[Self.field] != nil {
            view[Self.field] = try open(view[Self.field])
            object["view"] = .object(view)
        }
        if var changes = object["changes"]?.objectValue, var change = changes[Self.field]?.objectValue {
            for side in ["old", "new"] where change[side] != nil { change[side] = try open(change[side]) }
            changes[Self.field] = .object(change)
            object["changes"] = .object(changes)
        }
        return changed ? JSONValue.object(object).serializedBytes : body
    }

    /// Whether `body` contains the token prefix at all (most bodies do not: no parse for them).
    static func mayHoldToken(_ body: [UInt8]) -> Bool {
        let prefix = Array(AtRestCipher.tokenPrefix.utf8)
        guard body.count >= prefix.count else { return false }
        var index = 0
        while index + prefix.count <= body.count {
            if body[index] == prefix[0], body[index..<(index + prefix.count)].elementsEqual(prefix) { return true }
            index += 1
        }
        return false
    }
}
