import Foundation
import RenkeiCore
import RenkeiHTTP
import Testing

/// The staff console's security over HTTPS with a real renkeid (issue 18): no page without a
/// session, no session fixation, no POST without its CSRF token, stale cookies refused, brute force
/// locked out, and a protected person's address absent from every page a role without reveal sees.
@Suite(.serialized) struct ConsoleSecurityTests {
    /// What identifies 渡邊 美咲 (protected) in the fixture: address, postal code, household number.
    static let protectedMarks = ["神田神保町", "101-0051", "H000801"]

    func withFixture(console: JSONObject = [:], _ body: (ConsoleFixture) async throws -> Void) async throws {
        guard ConsoleFixture.opensslAvailable else {
            Issue.record("/usr/bin/openssl is needed to make the console's test certificate (apt-get install openssl)")
            return
        }
        let fixture = try await ConsoleFixture.start(console: console)
        do {
            try await body(fixture)
        } catch {
            Issue.record("\(error)\n\(fixture.daemon.stderrTail())")
        }
        await fixture.stop()
    }

    @Test func noPageWithoutASessionAndEveryAnswerIsHardened() async throws {
        try await withFixture { fixture in
            let browser = fixture.browser()
            for path in ["/", "/reviews", "/reviews/RV0000000001", "/search?q=%E9%AB%98%E6%A9%8B", "/persons/U0000000001", "/password"] {
                let page = try await browser.get(path)
                #expect(page.status == 303, "\(path)")
                #expect(page.location == "/login", "\(path)")
                #expect(!page.text.contains("髙橋"), "\(path)")
            }
            let post = try await browser.post("/reviews/RV0000000001/decide", [("action", "reject")])
            #expect(post.status == 303 && post.location == "/login")
            #expect(try await fixture.daemon.get("/v1/reviews").json["reviews"]?.arrayValue?.count == 2)
            let login = try await browser.get("/login")
            let csp = login.headers.fields.first { $0.name.lowercased() == "content-security-policy" }?.value ?? ""
            #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
            let cookie = try #require(login.setCookie.first)
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] { #expect(cookie.contains(attribute), "\(attribute)") }
            #expect(login.headers.fields.contains { $0.name.lowercased() == "strict-transport-security" })
            // Nothing on the page comes from elsewhere.
            #expect(!login.text.contains("http://") && !login.text.contains("https://"))
        }
    }

    @Test func aLoginIssuesANewSessionAndTheOldIdIsWorthNothing() async throws {
        try await withFixture { fixture in
            let password = try await fixture.addUser("yamada", role: "viewer")
            let browser = fixture.browser()
            // An id an attacker planted is no session: the login form's post is refused.
            await browser.setCookie(String(repeating: "a", count: 64))
            let planted = try await browser.post("/login", [("csrf", "x"), ("name", "yamada"), ("password", password)])
            #expect(planted.status == 403)
            let form = try await browser.get("/login")
            let anonymous = try #require(await browser.cookie)
            let done = try await browser.post("/login", [("csrf", form.csrf ?? ""), ("name", "yamada"), ("password", password)])
            #expect(done.status == 303)
            let signedIn = try #require(await browser.cookie)
            #expect(signedIn != anonymous)
            // The pre-login id does not become the signed-in session.
            let attacker = fixture.browser()
            await attacker.setCookie(anonymous)
            let page = try await attacker.get("/reviews")
            #expect(page.status == 303 && page.location == "/login")
        }
    }

    @Test func aPostWithoutItsCSRFTokenChangesNothing() async throws {
        try await withFixture { fixture in
            let password = try await fixture.addUser("suzuki", role: "reviewer")
            let browser = fixture.browser()
            let queue = try await browser.login("suzuki", password)
            #expect(queue.status == 200 && queue.text.contains("RV0000000001"))
            let page = try await browser.get("/reviews/RV0000000001")
            let token = try #require(page.csrf)
            let link = [("action", "link"), ("uid", "U0000000001")]
            #expect(try await browser.post("/reviews/RV0000000001/decide", link).status == 403)
            #expect(try await browser.post("/reviews/RV0000000001/decide", link + [("csrf", String(repeating: "0", count: 64))]).status == 403)
            // The right token from another origin (a page elsewhere posting into the console) is refused too.
            #expect(try await browser.post("/reviews/RV0000000001/decide", link + [("csrf", token)], origin: "https://evil.example").status == 403)
            #expect(try await browser.post("/logout", []).status == 403)
            #expect(try await fixture.daemon.get("/v1/reviews").json["reviews"]?.arrayValue?.count == 2)
            // With it, the decision goes through the socket's decision code, once.
            let decided = try await browser.post("/reviews/RV0000000001/decide", link + [("csrf", token), ("note", "図書館窓口で確認")])
            #expect(decided.status == 303)
            #expect(decided.location == "/reviews?done=RV0000000001&result=linked")
            #expect(try await fixture.daemon.get("/v1/persons?source=library&subject=LIB-30001").json["uid"] == "U0000000001")
            let again = try await browser.post("/reviews/RV0000000001/decide", link + [("csrf", token)])
            #expect(again.status == 409 && again.text.contains("既に処理済み") && again.text.contains("suzuki"))
            let history = try await fixture.daemon.get("/v1/persons/U0000000001/history").json["events"]?.arrayValue ?? []
            let operatorEvents = history.filter { $0["type"] == "operator.linked" }
            #expect(operatorEvents.count == 1)
            #expect(operatorEvents.first?["provenance"]?["staff"] == "suzuki")
            let log = try await fixture.daemon.get("/v1/access-log").json["entries"]?.arrayValue ?? []
            #expect(log.contains { $0["staff"] == "suzuki" && $0["target"] == "/reviews/RV0000000001/link" && $0["status"] == 200 && $0["note"] == "図書館窓口で確認" })
            #expect(log.contains { $0["staff"] == "suzuki" && $0["status"] == 403 })
        }
    }

    @Test func staleCookiesAreRefused() async throws {
        try await withFixture { fixture in
            let password = try await fixture.addUser("kato", role: "viewer")
            let browser = fixture.browser()
            #expect(try await browser.login("kato", password).status == 200)
            // Logged out: the old cookie is nothing.
            let cookie = try #require(await browser.cookie)
            let queue = try await browser.get("/reviews")
            #expect(try await browser.post("/logout", [("csrf", queue.csrf ?? "")]).location == "/login?out=1")
            let old = fixture.browser()
            await old.setCookie(cookie)
            #expect(try await old.get("/reviews").location == "/login")
            // Disabled by an administrator: the session ends at its next request.
            let again = fixture.browser()
            #expect(try await again.login("kato", "a long new password 1").status == 200)
            #expect(try await fixture.daemon.request("POST", "/v1/console/users/kato/disable").status == 200)
            let ended = try await again.get("/reviews")
            #expect(ended.status == 303 && ended.location == "/login?ended=1")
            // And a restart of renkeid ends every session.
            let reset = try await fixture.daemon.request("POST", "/v1/console/users/kato/reset")
            let fresh = try #require(reset.json["password"]?.stringValue)
            let third = fixture.browser()
            #expect(try await third.login("kato", fresh, newPassword: "another long password").status == 200)
            let beforeRestart = try #require(await third.cookie)
            try await fixture.daemon.restart()
            var moved = fixture
            moved.base = "https://127.0.0.1:\(try #require(ConsoleFixture.port(in: fixture.daemon.stderrText())))"
            let afterRestart = moved.browser()
            await afterRestart.setCookie(beforeRestart)
            let page = try await afterRestart.get("/reviews")
            #expect(page.status == 303 && page.location == "/login")
            #expect(try await afterRestart.login("kato", "another long password").status == 200)
        }
    }

    @Test func bruteForceLocksTheAccount() async throws {
        try await withFixture(console: ["max_failed_logins": 3, "lockout_s": 600]) { fixture in
            let password = try await fixture.addUser("ito", role: "viewer")
            let browser = fixture.browser()
            var statuses: [Int] = []
            for attempt in 1...4 {
                let form = try await browser.get("/login")
                let page = try await browser.post("/login", [("csrf", form.csrf ?? ""), ("name", "ito"), ("password", "guess \(attempt)")])
                statuses.append(page.status)
            }
            #expect(statuses == [401, 401, 423, 423])
            // Locked: even the right password is refused, without saying whether it was right.
            let form = try await browser.get("/login")
            let right = try await browser.post("/login", [("csrf", form.csrf ?? ""), ("name", "ito"), ("password", password)])
            #expect(right.status == 423 && right.text.contains("ロック"))
            let users = try await fixture.daemon.get("/v1/console/users").json["users"]?.arrayValue ?? []
            #expect(users.first { $0["name"] == "ito" }?["locked_until"]?.isNull == false)
            let log = try await fixture.daemon.get("/v1/access-log").json["entries"]?.arrayValue ?? []
            #expect(log.filter { $0["staff"] == "ito" && $0["status"] == 401 }.count == 2)
            // A name without an account locks the same way: the answers do not tell which names exist.
            var unknown: [Int] = []
            for attempt in 1...4 {
                let form = try await browser.get("/login")
                unknown.append(try await browser.post("/login", [("csrf", form.csrf ?? ""), ("name", "nobody"), ("password", "guess \(attempt)")]).status)
            }
            #expect(unknown == statuses)
            // An administrator's reset unlocks it.
            let fresh = try #require(try await fixture.daemon.request("POST", "/v1/console/users/ito/reset").json["password"]?.stringValue)
            #expect(try await fixture.browser().login("ito", fresh).status == 200)
        }
    }

    @Test func aViewerNeverSeesAProtectedAddressAndAnAdminRevealIsLogged() async throws {
        try await withFixture { fixture in
            let viewerPassword = try await fixture.addUser("viewer1", role: "viewer")
            let viewer = fixture.browser()
            let queue = try await viewer.login("viewer1", viewerPassword)
            let protectedUID = try #require(
                try await fixture.daemon.get("/v1/persons?source=resident&subject=000800001").json["uid"]?.stringValue)
            var pages = [queue]
            for path in ["/reviews/RV0000000002", "/persons/\(protectedUID)", "/search?q=%E6%B8%A1%E8%BE%BA",
                         "/search?q=%E7%A5%9E%E7%94%B0%E7%A5%9E%E4%BF%9D%E7%94%BA", "/search?q=&birth_date=H2.3.15"] {
                let page = try await viewer.get(path)
                #expect(page.status == 200, "\(path)")
                pages.append(page)
            }
            #expect(pages[2].text.contains("渡邊 美咲"))  // the person page is there, without the address
            #expect(pages[3].text.contains(protectedUID))  // found by name
            #expect(!pages[4].text.contains(protectedUID))  // never by address
            for page in pages {
                // The address search echoes what the viewer typed in its own text box; nothing else may hold it.
                let text = page.text.replacingOccurrences(of: #"value="神田神保町""#, with: "")
                for mark in Self.protectedMarks { #expect(!text.contains(mark), "\(mark)") }
            }
            let refused = try await viewer.post("/persons/\(protectedUID)/reveal", [("csrf", pages[2].csrf ?? ""), ("reason", "確認のため")])
            #expect(refused.status == 403)
            for mark in Self.protectedMarks { #expect(!refused.text.contains(mark)) }

            let adminPassword = try await fixture.addUser("admin1", role: "admin")
            let admin = fixture.browser()
            _ = try await admin.login("admin1", adminPassword)
            let person = try await admin.get("/persons/\(protectedUID)")
            #expect(!person.text.contains("神田神保町"))
            let noReason = try await admin.post("/persons/\(protectedUID)/reveal", [("csrf", person.csrf ?? ""), ("reason", "")])
            #expect(noReason.status == 400 && !noReason.text.contains("神田神保町"))
            let shown = try await admin.post("/persons/\(protectedUID)/reveal", [("csrf", person.csrf ?? ""), ("reason", "本人来庁 窓口で本人確認")])
            #expect(shown.status == 200 && shown.text.contains("神田神保町"))
            let log = try await fixture.daemon.get("/v1/access-log").json["entries"]?.arrayValue ?? []
            #expect(log.contains {
                $0["staff"] == "admin1" && $0["operator_action"] == "reveal_protected" && $0["uid"] == .string(protectedUID)
                    && $0["note"] == "本人来庁 窓口で本人確認"
            })
            #expect(log.contains { $0["staff"] == "viewer1" && $0["status"] == 403 && $0["uid"] == .string(protectedUID) })
            #expect(log.contains { $0["staff"] == "viewer1" && $0["target"] == .string("/persons/\(protectedUID)") })
            #expect(try await fixture.daemon.get("/v1/verify").json["access_log"]?["ok"] == true)
            // Delivery operations are the admin's: a viewer is refused (and logged), an admin reaches the socket's code.
            let status = try await viewer.get("/status")
            #expect(status.status == 200 && status.text.contains("library"))
            let pause = try await viewer.post("/subscriptions/library-sync/pause", [("csrf", status.csrf ?? "")])
            #expect(pause.status == 403)
            let adminStatus = try await admin.get("/status")
            let unknown = try await admin.post("/subscriptions/no-such/pause", [("csrf", adminStatus.csrf ?? "")])
            #expect(unknown.status == 404 && unknown.text.contains("no subscription no-such"))
            let filtered = try await viewer.get("/access-log?staff=admin1")
            #expect(filtered.status == 200 && filtered.text.contains("本人来庁 窓口で本人確認") && !filtered.text.contains(">viewer1<"))
        }
    }
}
