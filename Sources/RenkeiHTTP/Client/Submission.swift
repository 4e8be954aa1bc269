import Synchronization

/// A request handed from `send` to the loop thread, with the continuation that answers it.
///
/// Exactly one party resumes `continuation`: the loop thread, or `Engine.submit` when the client has
/// already stopped.
struct Submission: Sendable {
    let request: OutboundRequest
    let ticket: Ticket
    let continuation: CheckedContinuation<Result<OutboundResponse, TransportFailure>, Never>

    func answer(_ result: Result<OutboundResponse, TransportFailure>) {
        continuation.resume(returning: result)
    }
}

/// Marks one request cancelled; the loop reads the mark when it starts the request and, after a
/// wake-up, for requests already running.
final class Ticket: Sendable {
    private let cancelled = Atomic<Bool>(false)

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func cancel() { cancelled.store(true, ordering: .releasing) }
}
