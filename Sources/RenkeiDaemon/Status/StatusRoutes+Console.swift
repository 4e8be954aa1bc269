import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// The console's staff accounts (issue 18; `renkeictl console user …`):
    /// `GET /v1/console/users`, `POST /v1/console/users/{name}` {role} (201, a one-time password),
    /// `POST /v1/console/users/{name}/reset` {role?} (a new one-time password; unlocks, re-enables,
    /// ends the account's sessions), `POST /v1/console/users/{name}/disable`.
    ///
    /// The password is in the reply only, never in the access log (which holds the target) or the daemon's log.
    func console(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        guard rest.first == "users" else { return nil }
        let book = ConsoleAccountBook(writer: service.writer, store: service.store, wallClock: service.wallClock)
        do {
            switch (request.method, rest.count) {
            case ("GET", 1):
                let accounts = try await service.store.read { db in try ConsoleAccounts.all(in: db) }
                return .json(200, ["users": .array(accounts.map(Self.accountJSON))])
            case ("POST", 2):
                let role = try Self.role(in: request.body, required: true)!
                let password = try await book.add(rest[1], role: role)
                service.logger.notice("console: account \(rest[1]) added with role \(role.rawValue)")
                return .json(201, [
                    "name": .string(rest[1]), "role": .string(role.rawValue), "password": .string(password),
                    "must_change": true,
                ])
            case ("POST", 3) where rest[2] == "reset":
                let (password, role) = try await book.reset(rest[1], role: try Self.role(in: request.body, required: false))
                service.logger.notice("console: account \(rest[1]) reset (role \(role.rawValue))")
                return .json(200, [
                    "name": .string(rest[1]), "role": .string(role.rawValue), "password": .string(password),
                    "must_change": true,
                ])
            case ("POST", 3) where rest[2] == "disable":
                try await book.disable(rest[1])
                service.logger.notice("console: account \(rest[1]) disabled")
                return .json(200, ["name": .string(rest[1]), "disabled": true])
            default:
                return nil
            }
        } catch let refusal as DecisionRefusal {
            return .error(refusal.status, refusal.message)
        }
    }

    static func accountJSON(_ account: ConsoleAccounts.Account) -> JSONValue {
        .object([
            "name": .string(account.name), "role": .string(account.role), "disabled": .bool(account.disabled),
            "must_change": .bool(account.mustChange),
            "locked_until": account.lockedUntil.map { .integer($0) } ?? .null,
            "created_at": .string(account.createdAt), "updated_at": .string(account.updatedAt),
        ])
    }

    /// `{"role": "viewer"|"reviewer"|"admin"}`; an empty body when not required.
    static func role(in body: [UInt8], required: Bool) throws -> ConsoleRole? {
        if body.isEmpty, !required { return nil }
        guard let object = (try? JSONParser.parse(body))?.objectValue else {
            throw DecisionRefusal(400, "the body must be a JSON object {\"role\": \"viewer\"|\"reviewer\"|\"admin\"}")
        }
        if let extra = object.keys.first(where: { $0 != "role" }) { throw DecisionRefusal(400, "\(extra): unknown key") }
        guard let value = object["role"] else {
            if required { throw DecisionRefusal(400, "role: required (viewer, reviewer or admin)") }
            return nil
        }
        guard let text = value.stringValue else { throw DecisionRefusal(400, "role: must be a string: viewer, reviewer or admin") }
        guard let role = ConsoleRole(rawValue: text) else { throw DecisionRefusal(400, "role: must be viewer, reviewer or admin") }
        return role
    }
}
