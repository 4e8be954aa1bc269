import RenkeiCore
import RenkeiSystem

extension StatusRoutes {
    /// `POST /v1/subscriptions/{name}/export` (admin group; issue 17, `renkeictl export NAME`): writes
    /// a full export (全件) of a file subscription's views into its folder and answers
    /// {`subscription`, `file`, `rows`, `skipped`} once the file is in place.
    func export(_ subscription: String) async -> Answer {
        do {
            let result = try await service.delivery.export(subscription: subscription)
            return .json(200, [
                "subscription": .string(subscription), "file": .string(result.name), "rows": .integer(Int64(result.rows)),
                "skipped": .integer(Int64(result.skipped)),
            ])
        } catch {
            return .error(error.status, error.description)
        }
    }
}
