import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `POST /v1/mappings/{source}/check`, body a file as the source would drop it: what it would
    /// become (events, refusals with line, column and reason, and for a snapshot source the counts),
    /// without ingesting anything (issue 16, `renkeictl mapping check --source S FILE`).
    func mappings(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        guard request.method == "POST", rest.count == 2, rest[1] == "check" else { return nil }
        switch try await service.spool.checkMapped(request.body, source: rest[0]) {
        case .success(let reply): return .json(200, reply)
        case .failure(let error): return .error(error.status, error.message)
        }
    }

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
