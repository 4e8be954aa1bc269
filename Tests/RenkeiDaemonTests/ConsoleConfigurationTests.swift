import Foundation
@testable import RenkeiDaemon
import RenkeiCore
import Testing

/// `console` in the configuration and the console's in-memory sessions (issue 18).
@Suite struct ConsoleConfigurationTests {
    func configuration(_ console: JSONValue) throws -> Configuration {
        try Configuration(json: ["municipality": "131016", "sources": ["library": ["spool": "/tmp/x"]], "console": console], file: "renkei.json")
    }

    func refusal(_ console: JSONValue) -> String {
        do {
            _ = try configuration(console)
            return ""
        } catch {
            return (error as? RenkeiError)?.message ?? "\(error)"
        }
    }

    @Test func theConsoleNeedsTLSAndLoopbackUnlessTheFileSaysOtherwise() throws {
        let tls: JSONValue = ["cert_file": "/etc/renkei/tls/console.pem", "key_file": "/etc/renkei/tls/console.key"]
        let console = try #require(try configuration(["tls": tls]).console)
        #expect(console.listen == "127.0.0.1:8443" && console.idleTimeout == 900 && console.maxFailedLogins == 5)
        #expect(refusal([:]).contains("renkei.json: console.tls: is required"))
        #expect(refusal(["listen": "0.0.0.0:8443", "tls": tls]).contains("console.listen: 0.0.0.0:8443 can be reached from other hosts"))
        #expect(try configuration(["listen": "0.0.0.0:8443", "tls": tls, "allow_remote": true]).console?.allowRemote == true)
        #expect(try configuration(["allow_plaintext": true]).console?.tls == nil)
        #expect(refusal(["listen": "0.0.0.0:8443", "allow_remote": true, "allow_plaintext": true]).contains("console.allow_plaintext"))
        #expect(refusal(["tls": tls, "idle_timeout_s": 5]).contains("idle_timeout_s"))
        #expect(refusal(["tls": tls, "password": "x"]).contains("password"))
        #expect(try Configuration(json: ["municipality": "131016", "sources": [:]], file: "r.json").console == nil)
    }

    @Test func anIdleSessionEndsAndALoginNeverReusesAnId() {
        let sessions = ConsoleSessions(idleTimeoutSeconds: 60)
        let anonymous = sessions.create(name: nil, role: .viewer, generation: 0, mustChange: false, nowMs: 0)
        let staff = sessions.create(name: "suzuki", role: .reviewer, generation: 1, mustChange: false, nowMs: 0)
        #expect(anonymous.id != staff.id && anonymous.csrf != staff.csrf && staff.id.count == 64)
        guard case .found = sessions.lookup(staff.id, nowMs: 59_000) else { Issue.record("a used session ended"); return }
        // Touched at 59 s: alive until 119 s, gone at 119 s.
        guard case .found = sessions.lookup(staff.id, nowMs: 118_999) else { Issue.record("ended early"); return }
        guard case .expired = sessions.lookup(staff.id, nowMs: 178_999) else { Issue.record("an idle session lived"); return }
        guard case .none = sessions.lookup(staff.id, nowMs: 179_000) else { Issue.record("an expired session came back"); return }
        guard case .none = sessions.lookup("not-an-id", nowMs: 0) else { Issue.record("an unknown id was found"); return }
        sessions.removeAll(of: "suzuki")
        let other = sessions.create(name: "sato", role: .admin, generation: 0, mustChange: true, nowMs: 0)
        sessions.removeAll(of: "suzuki")
        guard case .found(let found) = sessions.lookup(other.id, nowMs: 1) else { Issue.record("sato's session ended"); return }
        #expect(found.mustChange && found.role == .admin)
    }
}
