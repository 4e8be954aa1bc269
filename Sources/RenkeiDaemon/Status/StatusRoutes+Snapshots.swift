import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `GET /v1/snapshots` → {`snapshots`: [runs, newest first]} (issue 16);
    /// `POST /v1/snapshots/{id}/accept` applies a held run; `/discard` drops it (admin group).
    func snapshots(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        if request.method == "GET", rest.isEmpty {
            let runs = try await service.store.read { db in try Snapshots.runs(limit: 1000, in: db) }
            return .json(200, ["snapshots": .array(runs.map(\.json))])
        }
        guard request.method == "POST", rest.count == 2, ["accept", "discard"].contains(rest[1]) else { return nil }
        guard let id = Int64(rest[0]), id > 0 else {
            return .error(404, "no snapshot run \(rest[0]): ids are whole numbers (see GET /v1/snapshots)")
        }
        switch try await service.spool.decideHeld(id, accept: rest[1] == "accept") {
        case .success(let run): return .json(200, run.json)
        case .failure(let error): return .error(error.status, error.message)
        }
    }
}
