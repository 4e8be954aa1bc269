/// Why one event line was refused: the field at fault and what is expected.
///
/// The reason never contains a `my_number` value (contract §2) and quotes no other value except
/// short enum-like ones (an event type, a schema version), so rejections can be written to
/// `rejected/*.errors.jsonl`, HTTP replies and logs as they are.
public struct EventRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the field at fault (`data.birth_date`, `data.guardians[0].name`, `event_id`);
    /// nil when the line as a whole is wrong (not JSON, not an object).
    public var field: String?
    /// Human text that says what is expected.
    public var reason: String

    /// Creates a rejection.
    /// - Parameters:
    ///   - field: the dotted path of the field at fault, or nil for the whole line.
    ///   - reason: what is expected, without quoting a restricted value.
    public init(field: String?, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// `"data.birth_date: must be a date YYYY-MM-DD that exists"`, or just the reason.
    public var description: String {
        guard let field else { return reason }
        return "\(field): \(reason)"
    }
}
