import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem

// MARK: - Sessions, login, CSRF and the access log

extension ConsoleServer {
    /// A signed-in staff member on this request.
    struct Staff: Sendable {
        var session: ConsoleSessions.Session
        var name: String { session.name ?? "" }
        var role: ConsoleRole { session.role }
    }

    /// The session id the request's cookie names.
    static func sessionID(_ request: HTTPRequest) -> String? {
        for header in request.headers.values("Cookie") {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(cookieName + "=") { return String(pair.dropFirst(cookieName.count + 1)) }
            }
        }
        return nil
    }

    /// `Set-Cookie` for `id`: HttpOnly, Secure, SameSite=Strict, whole site; no Max-Age (a browser session).
    static func cookie(_ id: String) -> String {
        "\(cookieName)=\(id); Path=/; HttpOnly; Secure; SameSite=Strict"
    }

    /// Clears the cookie.
    static var clearedCookie: String { "\(cookieName)=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0" }

    /// The form fields of a POST (`application/x-www-form-urlencoded`).
    static func form(_ request: HTTPRequest) -> [String: String] {
        guard let text = String(validating: request.body, as: UTF8.self) else { return [:] }
        return HTTPRequest(method: "POST", target: "/?" + text).query
    }

    /// Whether a POST carries its session's CSRF token (constant-time) and comes from this origin
    /// (`Origin`, when the browser sends one, must be this host).
    static func csrfOK(_ request: HTTPRequest, _ form: [String: String], _ session: ConsoleSessions.Session) -> Bool {
        guard let token = form["csrf"], constantTimeEquals(Array(token.utf8), Array(session.csrf.utf8)) else { return false }
        if let origin = request.headers["Origin"], let host = request.headers["Host"] {
            guard origin == "https://\(host)" || origin == "http://\(host)" else { return false }
        }
        return true
    }

    /// Who a request comes from.
    enum SignedIn: Sendable {
        case staff(Staff)
        /// Not signed in (or no longer): answer this instead (to the login page).
        case answer(HTTPResponse)
    }

    /// The signed-in staff member, or the answer to give instead.
    func signedIn(_ request: HTTPRequest) async throws -> SignedIn {
        let now = service.wallClock.nowMs()
        switch sessions.lookup(Self.sessionID(request), nowMs: now) {
        case .none:
            return .answer(ConsolePages.redirect("/login"))
        case .expired:
            return .answer(ConsolePages.redirect("/login?expired=1", clearCookie: true))
        case .found(let session):
            guard let name = session.name else { return .answer(ConsolePages.redirect("/login")) }
            // The account now: a disabled or reset account's sessions end here.
            guard let account = try await accounts.account(name), !account.disabled, account.generation == session.generation,
                let role = ConsoleRole(rawValue: account.role)
            else {
                sessions.remove(session.id)
                return .answer(ConsolePages.redirect("/login?ended=1", clearCookie: true))
            }
            var current = session
            current.role = role
            if current.mustChange, request.path != "/password", request.path != "/logout" {
                return .answer(ConsolePages.redirect("/password"))
            }
            return .staff(Staff(session: current))
        }
    }

    /// Writes the access-log entry of a console request under the staff member's name.
    /// - Throws: when it could not be written; audited pages then show nothing (fail closed).
    func record(
        _ request: HTTPRequest, staff: String?, status: Int, target: String? = nil, action: String? = nil,
        uid: String? = nil, note: String? = nil
    ) async throws {
        let entry = AccessLogEntry(
            at: Timestamp.rfc3339(service.wallClock.now()), callerUID: nil, callerPID: nil, method: request.method,
            target: target ?? request.target, status: status, action: action, uid: uid, staff: staff, note: note)
        do {
            _ = try await service.writer.perform { db in try AccessLog.append(entry, in: db) }
        } catch {
            service.logger.error("console: access log: could not record \(entry.method) \(entry.target): \(error)")
            throw error
        }
    }

    // MARK: - Login, logout, password

    func loginPage(_ request: HTTPRequest) -> HTTPResponse {
        let now = service.wallClock.nowMs()
        // The browser's anonymous session is kept if it has one (a second tab, or a background request
        // redirected here, must not invalidate the token of a login form already open); anything else
        // gets a new one. A login always issues a new id anyway.
        let session: ConsoleSessions.Session
        if case .found(let existing) = sessions.lookup(Self.sessionID(request), nowMs: now), existing.name == nil {
            session = existing
        } else {
            session = sessions.create(name: nil, role: .viewer, generation: 0, mustChange: false, nowMs: now)
        }
        let notice: String? =
            request.query["expired"] != nil ? "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"
            : request.query["ended"] != nil ? "アカウントの状態が変わったため、ログアウトしました。"
            : request.query["out"] != nil ? "ログアウトしました。" : nil
        var response = ConsolePages.login(csrf: session.csrf, error: nil, notice: notice)
        response.headers.add(name: "Set-Cookie", value: Self.cookie(session.id))
        return response
    }

    func login(_ request: HTTPRequest) async throws -> HTTPResponse {
        let form = Self.form(request)
        let now = service.wallClock.nowMs()
        guard case .found(let anonymous) = sessions.lookup(Self.sessionID(request), nowMs: now), anonymous.name == nil,
            Self.csrfOK(request, form, anonymous)
        else {
            try? await record(request, staff: nil, status: 403, note: "login without a valid form token")
            return ConsolePages.plain(403, "フォームの有効期限が切れたか、不正な送信です。ログイン画面を開き直してください。")
        }
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let password = form["password"] ?? ""
        guard ConsoleAccountBook.isValidName(name), !password.isEmpty else {
            return reshowLogin(anonymous, error: "名前とパスワードを入力してください。", status: 400)
        }
        let outcome = try await accounts.login(
            name, password: password, maxFailures: settings.maxFailedLogins, lockoutSeconds: settings.lockoutSeconds)
        switch outcome {
        case .refused:
            try await record(request, staff: name, status: 401, target: "/login", note: "login failed")
            return reshowLogin(anonymous, error: "名前またはパスワードが違います。", status: 401)
        case .locked(let until):
            try await record(request, staff: name, status: 423, target: "/login", note: "account locked")
            let minutes = max(1, (until - now / 1000 + 59) / 60)
            return reshowLogin(
                anonymous, error: "ログインの失敗が続いたため、このアカウントは約\(minutes)分間ロックされています。管理者に連絡するか、時間をおいてください。",
                status: 423)
        case .success(let role, let generation, let mustChange):
            // No fixation: the anonymous session (and whatever id the browser brought) ends; a new id is issued.
            sessions.remove(anonymous.id)
            let session = sessions.create(name: name, role: role, generation: generation, mustChange: mustChange, nowMs: now)
            try await record(request, staff: name, status: 303, target: "/login", note: "login")
            var response = ConsolePages.redirect(mustChange ? "/password" : "/reviews")
            response.headers.add(name: "Set-Cookie", value: Self.cookie(session.id))
            return response
        }
    }

    private func reshowLogin(_ anonymous: ConsoleSessions.Session, error: String, status: Int) -> HTTPResponse {
        var response = ConsolePages.login(csrf: anonymous.csrf, error: error, notice: nil)
        response.status = status
        return response
    }

    func logout(_ request: HTTPRequest) async throws -> HTTPResponse {
        let form = Self.form(request)
        if case .found(let session) = sessions.lookup(Self.sessionID(request), nowMs: service.wallClock.nowMs()) {
            guard Self.csrfOK(request, form, session) else { return ConsolePages.plain(403, "不正な送信です (CSRF token missing)。") }
            sessions.remove(session.id)
            try? await record(request, staff: session.name, status: 303, note: "logout")
        }
        return ConsolePages.redirect("/login?out=1", clearCookie: true)
    }

    func password(_ request: HTTPRequest, _ staff: Staff) async throws -> HTTPResponse {
        guard request.method == "POST" else {
            return ConsolePages.password(staff: staff, error: nil)
        }
        let form = Self.form(request)
        guard Self.csrfOK(request, form, staff.session) else { return csrfRefused() }
        let new = form["new_password"] ?? ""
        guard new.count >= 12 else {
            return ConsolePages.password(staff: staff, error: "新しいパスワードは12文字以上にしてください。")
        }
        guard new == form["confirm_password"] else {
            return ConsolePages.password(staff: staff, error: "確認用のパスワードが一致しません。")
        }
        guard let account = try await accounts.account(staff.name),
            PasswordHash.verify(form["current_password"] ?? "", against: account.passwordHash)
        else {
            return ConsolePages.password(staff: staff, error: "現在のパスワードが違います。")
        }
        let generation = try await accounts.changePassword(staff.name, to: new)
        sessions.passwordChanged(staff.session.id, generation: generation)
        try await record(request, staff: staff.name, status: 303, action: "change", note: "password changed")
        return ConsolePages.redirect("/reviews")
    }

    func csrfRefused() -> HTTPResponse {
        ConsolePages.plain(403, "不正な送信です。画面を開き直してから、もう一度操作してください (CSRF token missing or wrong)。")
    }
}
