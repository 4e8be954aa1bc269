import Foundation
import RenkeiCore
import Testing

/// The staff console in a real browser (issue 18): Debian's headless Chromium driven through
/// chromedriver's W3C WebDriver API logs in, decides a review, searches by kana and by 和暦 birth
/// date, is refused a CSRF-less POST and a viewer's reveal, and reveals (logged) as an admin.
/// Screenshots of each page go to `.build/console-screenshots/`.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let screenshots = TestPaths.repoRoot.appendingPathComponent(".build/console-screenshots").path

    @Test(.enabled(if: WebDriver.available, "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver; ops/test installs them)"))
    func aClerkWorksTheConsoleInChromium() async throws {
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        let fixture = try await ConsoleFixture.start()
        let root = await fixture.daemon.root.path
        let driver = try await WebDriver(port: try freeLoopbackPort(), logFile: root + "/chromedriver.log")
        do {
            try await run(fixture, driver)
        } catch {
            Issue.record("\(error)\n\(fixture.daemon.stderrTail())")
        }
        await driver.quit()
        await fixture.stop()
    }

    func shot(_ driver: WebDriver, _ name: String) async throws {
        try await driver.screenshot(Self.screenshots + "/\(name).png")
    }

    func login(_ fixture: ConsoleFixture, _ driver: WebDriver, _ name: String, _ password: String, shots: Bool) async throws {
        try await driver.navigate(fixture.base + "/login")
        _ = try await driver.waitForSource("the login form") { $0.contains("id=\"password\"") }
        if shots { try await shot(driver, "01-login") }
        try await driver.type("#name", name)
        try await driver.type("#password", password)
        try await driver.click("button[type=submit]")
        _ = try await driver.waitForSource("the password page") { $0.contains("パスワードの変更") }
        if shots { try await shot(driver, "02-password") }
        try await driver.type("#current_password", password)
        try await driver.type("#new_password", "a long new password 1")
        try await driver.type("#confirm_password", "a long new password 1")
        try await driver.click("main button[type=submit]")
        _ = try await driver.waitForSource("the review queue") { $0.contains("確認待ち一覧</h1>") }
    }

    func run(_ fixture: ConsoleFixture, _ driver: WebDriver) async throws {
        let reviewer = try await fixture.addUser("reviewer1", role: "reviewer")
        let viewer = try await fixture.addUser("viewer1", role: "viewer")
        let admin = try await fixture.addUser("admin1", role: "admin")
        let protectedUID = try #require(
            try await fixture.daemon.get("/v1/persons?source=resident&subject=000800001").json["uid"]?.stringValue)

        // A reviewer: login (one-time password changed), the queue, a review decided by keyboard.
        try await driver.startSession()
        try await login(fixture, driver, "reviewer1", reviewer, shots: true)
        let queue = try await driver.source()
        #expect(queue.contains("RV0000000001") && queue.contains("RV0000000002"))
        try await shot(driver, "03-review-queue")
        try await driver.navigate(fixture.base + "/reviews/RV0000000001")
        let review = try await driver.waitForSource("the review") { $0.contains("id=\"do-link\"") }
        #expect(review.contains("異体字") && review.contains("一致") && review.contains("不一致"))
        try await shot(driver, "04-review")
        try await driver.type("#note", "窓口で本人確認済み")
        try await driver.click("#do-link")
        let decided = try await driver.waitForSource("the decision") { $0.contains("RV0000000001 を連携しました") }
        #expect(!decided.contains(">RV0000000001</a>"))
        try await shot(driver, "05-decided")
        #expect(try await fixture.daemon.get("/v1/persons?source=library&subject=LIB-30001").json["uid"] == "U0000000001")

        // Search by kana (hiragana, as typed) and by 和暦 birth date.
        try await driver.navigate(fixture.base + "/search")
        _ = try await driver.waitForSource("the search form") { $0.contains("id=\"birth_date\"") }
        try await driver.type("#q", "たかはし いちろう")
        try await driver.click("main form button[type=submit]")
        let kana = try await driver.waitForSource("kana results") { $0.contains("検索結果") }
        #expect(kana.contains("U0000000001") && kana.contains("髙橋 一郎"))
        try await shot(driver, "06-search-kana")
        try await driver.type("#q", "")
        try await driver.type("#birth_date", "S60.6.12")
        try await driver.click("main form button[type=submit]")
        let wareki = try await driver.waitForSource("和暦 results") { $0.contains("1985-06-12") && $0.contains("検索結果") }
        #expect(wareki.contains("U0000000001") && !wareki.contains("U0000000002"))
        try await shot(driver, "07-search-wareki")

        // A POST without the CSRF token (a form another page could make) is refused and changes nothing.
        try await driver.execute(
            """
            var f = document.createElement('form'); f.method = 'post'; f.action = '/reviews/RV0000000002/decide';
            var a = document.createElement('input'); a.name = 'action'; a.value = 'reject'; f.appendChild(a);
            document.body.appendChild(f); f.submit();
            """)
        let refused = try await driver.waitForSource("the CSRF refusal") { $0.contains("不正な送信") }
        #expect(!refused.contains("確認待ち一覧</h1>"))
        try await shot(driver, "08-csrf-refused")
        #expect(try await fixture.daemon.get("/v1/reviews").json["reviews"]?.arrayValue?.count == 1)
        await driver.endSession()

        // A viewer: the protected person's page shows no address and no reveal form; a forged reveal is refused.
        try await driver.startSession()
        try await login(fixture, driver, "viewer1", viewer, shots: false)
        try await driver.navigate(fixture.base + "/persons/\(protectedUID)")
        let person = try await driver.waitForSource("the person page") { $0.contains("支援措置") && $0.contains("履歴") }
        #expect(!person.contains("神田神保町") && !person.contains("101-0051"))
        #expect(try await driver.elements("#reason") == 0)
        try await shot(driver, "09-person-viewer")
        let token = try await driver.execute("return document.querySelector('input[name=csrf]').value").stringValue ?? ""
        try await driver.execute(
            """
            var f = document.createElement('form'); f.method = 'post'; f.action = '/persons/\(protectedUID)/reveal';
            [['csrf', '\(token)'], ['reason', '確認のため']].forEach(function (p) {
              var i = document.createElement('input'); i.name = p[0]; i.value = p[1]; f.appendChild(i); });
            document.body.appendChild(f); f.submit();
            """)
        let denied = try await driver.waitForSource("the reveal refusal") { $0.contains("管理の役割だけ") }
        #expect(!denied.contains("神田神保町"))
        try await shot(driver, "10-reveal-refused")
        await driver.endSession()

        // An admin reveals with a reason; the reveal is on the access log under the admin's name.
        try await driver.startSession()
        try await login(fixture, driver, "admin1", admin, shots: false)
        try await driver.navigate(fixture.base + "/persons/\(protectedUID)")
        _ = try await driver.waitForSource("the reveal form") { $0.contains("id=\"reason\"") }
        try await shot(driver, "11-person-admin")
        try await driver.type("#reason", "本人来庁 窓口で本人確認")
        try await driver.click("form.reveal button[type=submit]")
        let shown = try await driver.waitForSource("the revealed address") { $0.contains("神田神保町") }
        #expect(shown.contains("記録されています"))
        try await shot(driver, "12-person-revealed")
        let log = try await fixture.daemon.get("/v1/access-log").json["entries"]?.arrayValue ?? []
        #expect(log.contains {
            $0["staff"] == "admin1" && $0["operator_action"] == "reveal_protected" && $0["note"] == "本人来庁 窓口で本人確認"
        })
        #expect(log.contains { $0["staff"] == "viewer1" && $0["status"] == 403 })
        // The operations pages: status, and the access log filtered by staff member.
        try await driver.navigate(fixture.base + "/status")
        _ = try await driver.waitForSource("the status page") { $0.contains("運用状況</h1>") && $0.contains("library") }
        try await shot(driver, "13-status")
        try await driver.navigate(fixture.base + "/access-log?staff=admin1")
        let entries = try await driver.waitForSource("the access log") { $0.contains("アクセス記録</h1>") }
        #expect(entries.contains("reveal_protected") && entries.contains("本人来庁 窓口で本人確認") && !entries.contains("viewer1"))
        try await shot(driver, "14-access-log")
        await driver.endSession()
    }
}
