import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

// MARK: - Pages

extension ConsoleServer {
    func route(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = request.path
        let segments = path.split(separator: "/").map(String.init)
        switch (request.method, segments.first ?? "") {
        case ("GET", "assets"), ("HEAD", "assets"):
            return ConsoleAssets.response(for: path)
        case ("GET", "favicon.ico"):
            return HTTPResponse(status: 404, headers: ["Content-Type": "text/plain; charset=utf-8"])
        case ("GET", "login"):
            return loginPage(request)
        case ("POST", "login"):
            return try await login(request)
        case ("POST", "logout"):
            return try await logout(request)
        default:
            break
        }
        guard ["GET", "POST"].contains(request.method) else {
            var response = ConsolePages.plain(405, "この操作はできません (method not allowed)。")
            response.headers["Allow"] = "GET, POST"
            return response
        }
        let staff: Staff
        switch try await signedIn(request) {
        case .answer(let answer): return answer
        case .staff(let found): staff = found
        }
        if request.method == "POST" {
            // Every form carries the session's token; a POST without it changes nothing.
            guard Self.csrfOK(request, Self.form(request), staff.session) else {
                try? await record(request, staff: staff.name, status: 403, note: "CSRF token missing or wrong")
                return csrfRefused()
            }
        }
        if let notYet = try await service.waitForCurrentViews(), segments.first != "password" {
            return ConsolePages.plain(notYet.status, "起動直後のため、表示の準備中です。しばらくしてから開き直してください (views loading)。")
        }
        switch (request.method, segments.count, segments.first ?? "") {
        case ("GET", 0, _):
            return ConsolePages.redirect("/reviews")
        case (_, 1, "password"):
            return try await password(request, staff)
        case ("GET", 1, "reviews"):
            return try await reviewQueue(request, staff)
        case ("GET", 2, "reviews"):
            return try await reviewPage(request, staff, id: segments[1], message: nil)
        case ("POST", 3, "reviews") where segments[2] == "decide":
            return try await decide(request, staff, id: segments[1])
        case ("GET", 1, "search"):
            return try await searchPage(request, staff)
        case ("GET", 2, "persons"):
            return try await personPage(request, staff, uid: segments[1], reveal: nil)
        case ("POST", 3, "persons") where segments[2] == "reveal":
            return try await reveal(request, staff, uid: segments[1])
        case ("GET", 1, "status"):
            return try await statusPage(request, staff)
        case ("POST", 3, "subscriptions") where ["pause", "resume"].contains(segments[2]),
            ("POST", 3, "dead-letters") where ["retry", "skip"].contains(segments[2]):
            return try await operate(request, staff, area: segments[0], id: segments[1], action: segments[2])
        case ("GET", 1, "access-log"):
            return try await accessLogPage(request, staff)
        default:
            return ConsolePages.page(staff: staff, title: "見つかりません", status: 404) {
                "<p>このページはありません。<a href=\"/reviews\">確認待ち一覧</a>へ戻ってください。</p>"
            }
        }
    }

    // MARK: - Review queue

    func reviewQueue(_ request: HTTPRequest, _ staff: Staff) async throws -> HTTPResponse {
        let source = request.query["source"].flatMap { $0.isEmpty ? nil : $0 }
        let (items, deferrals) = try await service.store.read { db in
            let items = try ProjectionStore.reviews(in: db)
            var deferrals: [String: AccessLogEntry] = [:]
            for item in items {
                if let last = try ConsoleAccounts.decisions(onReview: item.id, in: db).first(where: { $0.action == "defer" }) {
                    deferrals[item.id] = last
                }
            }
            return (items, deferrals)
        }
        try await record(request, staff: staff.name, status: 200)
        let sources = Array(Set(items.map(\.source))).sorted()
        let shown = items.filter { source == nil || $0.source == source }.sorted { $0.lsn < $1.lsn }
        let done = request.query["done"].flatMap { id -> String? in
            guard id.hasPrefix("RV"), id.count == 12 else { return nil }
            switch request.query["result"] {
            case "linked": return "\(id) を連携しました。"
            case "rejected": return "\(id) を「別人」として処理しました。"
            case "deferred": return "\(id) を保留にしました。"
            default: return nil
            }
        }
        return ConsolePages.reviewQueue(
            staff: staff, items: shown, sources: sources, source: source, deferrals: deferrals, message: done)
    }

    func reviewPage(_ request: HTTPRequest, _ staff: Staff, id: String, message: String?, status: Int = 200) async throws
        -> HTTPResponse
    {
        let found = try await service.store.read { db -> (ReviewItem, JSONObject?, [JSONObject?], [AccessLogEntry])? in
            guard let item = try ProjectionStore.review(id, in: db) else { return nil }
            let recordUID = try ProjectionStore.uid(source: item.source, subject: item.subject, in: db)
            let record = try recordUID.flatMap { try ProjectionStore.view(uid: $0, in: db) }
            let candidates = try item.candidates.map { try ProjectionStore.view(uid: $0.uid, in: db) }
            return (item, record, candidates, try ConsoleAccounts.decisions(onReview: id, in: db))
        }
        guard let (item, recordView, candidates, history) = found else {
            // Decided already (by someone else, or a second click): say so, apply nothing.
            let decided = try await service.store.read { db in try ConsoleAccounts.decisions(onReview: id, in: db) }
                .first { $0.action != "defer" }
            try await record(request, staff: staff.name, status: 404)
            return ConsolePages.reviewGone(staff: staff, id: id, decided: decided)
        }
        try await record(request, staff: staff.name, status: status, uid: item.candidates.first?.uid)
        var response = ConsolePages.review(
            staff: staff, item: item, record: recordView, candidates: candidates, history: history, message: message)
        response.status = status
        return response
    }

    /// link / reject through the socket's own decision code; defer is a note on the access log.
    func decide(_ request: HTTPRequest, _ staff: Staff, id: String) async throws -> HTTPResponse {
        let form = Self.form(request)
        let action = form["action"] ?? ""
        let note = (form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard staff.role.mayDecide else {
            try await record(request, staff: staff.name, status: 403, target: "/reviews/\(id)/\(action)")
            return try await reviewPage(
                request, staff, id: id, message: "閲覧の役割では判定できません (the viewer role cannot decide)。", status: 403)
        }
        guard note.count <= 1000 else {
            return try await reviewPage(request, staff, id: id, message: "メモは1000文字以内にしてください。", status: 400)
        }
        switch action {
        case "link", "reject":
            let uid = form["uid"] ?? ""
            if action == "link" && uid.isEmpty {
                return try await reviewPage(request, staff, id: id, message: "連携する候補を選んでください。", status: 400)
            }
            let routes = StatusRoutes(service: service)
            let name = staff.name
            let response = try await decisions.run {
                try await ConsoleCaller.$staff.withValue(name) {
                    let body: [UInt8] = action == "link" ? JSONValue.object(["uid": .string(uid)]).serializedBytes : []
                    let socketRequest = HTTPRequest(method: "POST", target: "/v1/reviews/\(id)/\(action)", body: body)
                    return try await routes.reviews(socketRequest, "reviews", [id, action])
                        ?? .error(404, "no such review")
                }
            }
            try await record(
                request, staff: staff.name, status: response.status == 200 ? 200 : response.status,
                target: "/reviews/\(id)/\(action)", action: response.status == 200 ? "change" : nil,
                uid: action == "link" ? uid : nil, note: note.isEmpty ? nil : note)
            if response.status == 200 {
                return ConsolePages.redirect("/reviews?done=\(id)&result=\(action == "link" ? "linked" : "rejected")")
            }
            if response.status == 404 {
                return try await reviewPage(request, staff, id: id, message: nil)  // shows who decided it
            }
            let message = (try? JSONParser.parse(response.body))?.objectValue?["error"]?.stringValue ?? "判定できませんでした。"
            return try await reviewPage(request, staff, id: id, message: "判定できませんでした: \(message)", status: response.status)
        case "defer":
            guard !note.isEmpty else {
                return try await reviewPage(request, staff, id: id, message: "保留には理由のメモが必要です。", status: 400)
            }
            let open = try await service.store.read { db in try ProjectionStore.review(id, in: db) != nil }
            guard open else { return try await reviewPage(request, staff, id: id, message: nil) }
            try await record(request, staff: staff.name, status: 200, target: "/reviews/\(id)/defer", action: "defer", note: note)
            return ConsolePages.redirect("/reviews?done=\(id)&result=deferred")
        default:
            return try await reviewPage(request, staff, id: id, message: "操作を選んでください。", status: 400)
        }
    }

    // MARK: - Search and person

    func searchPage(_ request: HTTPRequest, _ staff: Staff) async throws -> HTTPResponse {
        let q = request.query["q"] ?? ""
        let birth = request.query["birth_date"] ?? ""
        if q.trimmingCharacters(in: .whitespaces).isEmpty && birth.trimmingCharacters(in: .whitespaces).isEmpty {
            return ConsolePages.search(staff: staff, q: q, birthDate: birth, hits: nil, error: nil)
        }
        switch PersonSearchRequest.parse(query: ["q": q, "birth_date": birth]) {
        case .failure(let problem):
            let text = problem.message.hasPrefix("birth_date")
                ? "生年月日が読み取れません。1985-06-12、S60.6.12、昭和60年6月12日 のように入力してください。"
                : "検索する語を入力してください。"
            var response = ConsolePages.search(staff: staff, q: q, birthDate: birth, hits: nil, error: text)
            response.status = 400
            return response
        case .success(let asked):
            let sources = Array(service.configuration.sources.keys)
            let hits = try await service.store.read { db in try StatusRoutes.search(asked, sources: sources, in: db) }
            try await record(request, staff: staff.name, status: 200)
            return ConsolePages.search(staff: staff, q: q, birthDate: birth, hits: (hits, asked.birthDate), error: nil)
        }
    }

    func personPage(_ request: HTTPRequest, _ staff: Staff, uid: String, reveal: String?) async throws -> HTTPResponse {
        let found = try await service.store.read { db -> (JSONObject, [JSONValue], [JSONValue])? in
            guard let view = try ProjectionStore.view(uid: uid, in: db) else { return nil }
            let history = try PersonHistory.events(of: uid, in: db)?.events ?? []
            return (view, history, try Outbox.disclosures(uid: uid, in: db))
        }
        guard let (view, history, disclosures) = found else {
            try await record(request, staff: staff.name, status: 404, uid: uid)
            return ConsolePages.page(staff: staff, title: "見つかりません", status: 404) {
                "<p>\(HTML.escape(uid)) という人はいません。<a href=\"/search\">住民検索</a>へ戻ってください。</p>"
            }
        }
        try await record(
            request, staff: staff.name, status: 200, target: reveal == nil ? nil : "/persons/\(uid)?reveal=protected",
            action: reveal == nil ? nil : "reveal_protected", uid: uid, note: reveal)
        let reply = Projection.reply(fromView: view, revealProtected: reveal != nil)
        return ConsolePages.person(
            staff: staff, reply: reply, revealed: reveal != nil, history: history, disclosures: disclosures)
    }

    /// Shows a protected person's address: admin only, with a reason, logged with it.
    func reveal(_ request: HTTPRequest, _ staff: Staff, uid: String) async throws -> HTTPResponse {
        let reason = (Self.form(request)["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard staff.role.mayReveal else {
            try await record(
                request, staff: staff.name, status: 403, target: "/persons/\(uid)?reveal=protected", uid: uid,
                note: reason.isEmpty ? nil : reason)
            return ConsolePages.page(staff: staff, title: "表示できません", status: 403) {
                "<p role=\"alert\">支援措置の対象者の住所を表示できるのは管理の役割だけです。必要な場合は管理者に依頼してください。</p>"
                    + "<p><a href=\"/persons/\(HTML.escape(uid))\">戻る</a></p>"
            }
        }
        guard reason.count >= 4, reason.count <= 500 else {
            return ConsolePages.page(staff: staff, title: "理由が必要です", status: 400) {
                "<p role=\"alert\">住所を表示する理由を4文字以上で入力してください。理由はアクセス記録に残ります。</p>"
                    + "<p><a href=\"/persons/\(HTML.escape(uid))\">戻る</a></p>"
            }
        }
        service.logger.notice("console: \(staff.name) revealed the protected fields of \(uid)")
        return try await personPage(request, staff, uid: uid, reveal: reason)
    }
}
