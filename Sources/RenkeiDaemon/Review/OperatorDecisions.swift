import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

/// Writes operator decisions as `operator.*` events (contract §2, §6): validated with
/// `allowOperator`, source `operator`, a fresh `event_id`, appended through the log writer like
/// any event, so replay and rebuild reproduce every decision.
struct OperatorDecisions: Sendable {
    let validator: EventValidator
    let writer: LogWriter
    /// The deciding operator's uid on the status socket (`SO_PEERCRED`), for the events' provenance.
    var operatorUID: UInt32? = nil
    /// The console's staff account that decided (issue 18), for the events' provenance.
    var staff: String? = nil
    /// Where the events' `occurred_at` comes from.
    var wallClock: WallClock = .system

    /// Appends one operator event and returns its lsn.
    /// - Parameters:
    ///   - type: `operator.linked`, `operator.unlinked` or `operator.review_rejected`.
    ///   - subject: the envelope subject (the record's subject, or the review id).
    ///   - data: the event data.
    ///   - eventID: the event id; a fresh `OP-<uuid>` when `nil` (the daemon's own events name
    ///     what they are, so the log refuses a second one).
    /// - Throws: ``RenkeiError`` with code `invalidEvent` when the event is not valid (the message
    ///   names the field), `internalError` when the log did not take it as new, or a store error.
    func append(type: String, subject: String, data: JSONObject, eventID: String? = nil) async throws -> Int64 {
        let envelope: JSONObject = [
            "source": .string(EventValidatorOperator.source),
            "event_id": .string(eventID ?? "OP-" + UUID().uuidString.lowercased()),
            "type": .string(type), "occurred_at": .string(Timestamp.rfc3339(wallClock.now())), "subject": .string(subject),
            "data": .object(data),
        ]
        let event: Event
        switch validator.validate(value: .object(envelope), expectedSource: EventValidatorOperator.source, allowOperator: true) {
        case .success(let valid): event = valid
        case .failure(let rejection): throw RenkeiError(.invalidEvent, "operator decision rejected: \(rejection.description)")
        }
        let provenance = Provenance(via: .operator, uid: operatorUID.map { Int64($0) }, staff: staff)
        let outcomes = try await writer.append([event], provenance: provenance)
        guard case .appended(let lsn)? = outcomes.first else {
            throw RenkeiError(
                .internalError, "operator decision was not appended as a new event: \(String(describing: outcomes.first))")
        }
        return lsn
    }
}

/// The operator source name.
enum EventValidatorOperator {
    static let source = "operator"
}
