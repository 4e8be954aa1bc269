import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

// MARK: - Operations: status, dead letters, subscriptions, access log

extension ConsoleServer {
    /// `GET /status`: per-source counts and lag, per-subscription backlog and dead letters (every role).
    func statusPage(_ request: HTTPRequest, _ staff: Staff, message: String? = nil) async throws -> HTTPResponse {
        let service = service
        let (status, letters) = try await service.store.read { db in
            (try service.statusJSON(reader: db), try Outbox.letters(state: .dead, subscription: nil, in: db))
        }
        return ConsolePages.status(staff: staff, status: status, deadLetters: letters, message: message)
    }

    /// `POST /subscriptions/{name}/pause|resume`, `POST /dead-letters/{id}/retry|skip`: admin only,
    /// through the status socket's own code, on the access log under the staff member's name.
    func operate(_ request: HTTPRequest, _ staff: Staff, area: String, id: String, action: String) async throws -> HTTPResponse {
        let target = "/\(area)/\(id)/\(action)"
        guard staff.role == .admin else {
            try await record(request, staff: staff.name, status: 403, target: target)
            return ConsolePages.page(staff: staff, title: "操作できません", status: 403) {
                "<p role=\"alert\">配信の操作（再送・スキップ・一時停止・再開）は管理の役割だけができます。</p><p><a href=\"/status\">戻る</a></p>"
            }
        }
        let socketRequest = HTTPRequest(method: "POST", target: "/v1\(target)")
        let response = try await StatusRoutes(service: service).delivery(socketRequest, area, [id, action])
            ?? .error(404, "no such operation")
        try await record(request, staff: staff.name, status: response.status, target: target, action: "change")
        if response.status == 200 { return ConsolePages.redirect("/status?done=1") }
        let error = (try? JSONParser.parse(response.body))?.objectValue?["error"]?.stringValue ?? "操作できませんでした。"
        var page = try await statusPage(request, staff, message: "操作できませんでした: \(error)")
        page.status = response.status
        return page
    }

    /// `GET /access-log?staff=&uid=`: the newest entries (socket and console), filtered.
    func accessLogPage(_ request: HTTPRequest, _ staff: Staff) async throws -> HTTPResponse {
        let who = request.query["staff"].flatMap { $0.isEmpty ? nil : $0 }
        let uid = request.query["uid"].flatMap { $0.isEmpty ? nil : $0 }
        let records = try await service.store.read { db in try AccessLog.newest(5000, in: db) }
        let shown = records.filter { record in
            (who == nil || record.entry.staff == who) && (uid == nil || record.entry.uid == uid)
        }.prefix(500)
        try await record(request, staff: staff.name, status: 200)
        return ConsolePages.accessLog(staff: staff, records: Array(shown), who: who, uid: uid)
    }
}
