import RenkeiControl
import RenkeiCore
import Testing

/// `renkeictl search` and `renkeictl console user …` (issue 18).
@Suite struct ControlConsoleTests {
    func run(_ arguments: [String]) -> ControlInvocation? {
        if case .run(let invocation) = ControlInvocation.parse(arguments) { return invocation }
        return nil
    }

    @Test func searchAsksTheSearchEndpoint() throws {
        let plain = try #require(run(["search", "たかはし"]))
        #expect(plain.command.request.method == "GET")
        #expect(plain.command.request.target == "/v1/persons/search?q=%E3%81%9F%E3%81%8B%E3%81%AF%E3%81%97")
        let dated = try #require(run(["search", "高橋", "--birth-date", "S60.6.12", "--limit", "5"]))
        #expect(dated.command.request.target.hasSuffix("&birth_date=S60.6.12&limit=5"))
        let dateOnly = try #require(run(["search", "--birth-date", "1985-06-12"]))
        #expect(dateOnly.command.request.target == "/v1/persons/search?q=&birth_date=1985-06-12")
        guard case .usage = ControlInvocation.parse(["search"]) else { Issue.record("search without anything accepted"); return }
        guard case .usage = ControlInvocation.parse(["search", "x", "--limit", "0"]) else { Issue.record("limit 0 accepted"); return }
    }

    @Test func consoleUserCommands() throws {
        let add = try #require(run(["console", "user", "add", "tanaka", "--role", "reviewer"]))
        #expect(add.command.request.method == "POST" && add.command.request.target == "/v1/console/users/tanaka")
        #expect((try? JSONParser.parse(add.command.body)) == ["role": "reviewer"])
        let reset = try #require(run(["console", "user", "reset", "tanaka"]))
        #expect(reset.command.request.method == "POST" && reset.command.request.target == "/v1/console/users/tanaka/reset")
        #expect(reset.command.body.isEmpty)
        let disable = try #require(run(["console", "user", "disable", "tanaka"]))
        #expect(disable.command.request.method == "POST" && disable.command.request.target == "/v1/console/users/tanaka/disable")
        let list = try #require(run(["console", "user", "list"]))
        #expect(list.command.request.method == "GET" && list.command.request.target == "/v1/console/users")
        for bad in [["console", "user", "add", "tanaka"], ["console", "user", "add", "tanaka", "--role", "root"], ["console", "users"]] {
            guard case .usage = ControlInvocation.parse(bad) else { Issue.record("\(bad) accepted"); continue }
        }
    }
}
