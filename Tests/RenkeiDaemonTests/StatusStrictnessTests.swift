import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// The status socket refuses what `Schemas/openapi.json` does not allow (issue 13): an undeclared
/// method on a known path is `405` with `Allow`, and a query value or body the document does not
/// allow is `400` naming the parameter, instead of a `404` or a `200` that ignores it.
@Suite(.serialized) struct StatusStrictnessTests {
    struct Answer {
        var status: Int
        var allow: String?
        var error: String
        var json: JSONValue
    }

    static func ask(_ fixture: IngestFixture, _ method: String, _ target: String, body: String = "") async -> Answer {
        let response = await StatusRoutes(service: fixture.service).handle(
            HTTPRequest(method: method, target: target, body: Array(body.utf8)))
        let json = (try? JSONParser.parse(response.body)) ?? .null
        return Answer(
            status: response.status, allow: response.headers["Allow"], error: json["error"]?.stringValue ?? "", json: json)
    }

    static func withFixture(_ body: (IngestFixture) async throws -> Void) async throws {
        let fixture = try await IngestFixture(push: false)
        defer { try? FileManager.default.removeItem(at: fixture.root) }
        do {
            try await body(fixture)
        } catch {
            await fixture.service.stop()
            throw error
        }
        await fixture.service.stop()
    }

    @Test func undeclaredMethodOnAKnownPathIs405WithAllow() async throws {
        try await Self.withFixture { fixture in
            for (method, target, allow) in [
                ("PUT", "/v1/status", "GET"), ("TRACE", "/metrics", "GET"), ("POST", "/v1/verify", "GET"),
                ("GET", "/v1/rebuild", "POST"), ("PATCH", "/v1/links", "POST, DELETE"),
                ("DELETE", "/v1/persons/U0000000001", "GET"), ("GET", "/v1/dead-letters/7/retry", "POST"),
                ("HEAD", "/v1/access-log", "GET"), ("OPTIONS", "/v1/backup", "POST"),
            ] {
                let answer = await Self.ask(fixture, method, target)
                #expect(answer.status == 405, "\(method) \(target): \(answer.status) \(answer.error)")
                #expect(answer.allow == allow, "\(method) \(target)")
                #expect(answer.error.contains("use \(allow.replacingOccurrences(of: ", ", with: " or "))"))
            }
            // A path the document does not know stays a 404, and a declared method is served.
            let unknown = await Self.ask(fixture, "PUT", "/v1/nothing-here")
            #expect(unknown.status == 404 && unknown.allow == nil)
            #expect(await Self.ask(fixture, "GET", "/v1/status").status == 200)
        }
    }

    @Test func outOfRangeLimitIs400NamingLimit() async throws {
        try await Self.withFixture { fixture in
            for limit in ["0", "100001", "-1", "abc", "1.5", "", "+5", "99999999999999999999"] {
                let answer = await Self.ask(fixture, "GET", "/v1/access-log?limit=\(limit)")
                #expect(answer.status == 400, "limit=\(limit): \(answer.status)")
                #expect(answer.error.hasPrefix("limit: "), "limit=\(limit): \(answer.error)")
            }
            for limit in ["1", "100000"] {
                let answer = await Self.ask(fixture, "GET", "/v1/access-log?limit=\(limit)")
                #expect(answer.status == 200 && answer.json["entries"]?.arrayValue != nil, "limit=\(limit)")
            }
            #expect(await Self.ask(fixture, "GET", "/v1/access-log").status == 200)
        }
    }

    @Test func unknownStateIs400NamingState() async throws {
        try await Self.withFixture { fixture in
            for state in ["AAA", "dead", "Skipped", ""] {
                let answer = await Self.ask(fixture, "GET", "/v1/dead-letters?state=\(state)")
                #expect(answer.status == 400, "state=\(state): \(answer.status)")
                #expect(answer.error.hasPrefix("state: "), "state=\(state): \(answer.error)")
            }
            #expect(await Self.ask(fixture, "GET", "/v1/dead-letters?state=skipped").status == 200)
            #expect(await Self.ask(fixture, "GET", "/v1/dead-letters").status == 200)
        }
    }

    @Test func otherQueryValuesTheDocumentRefusesAre400() async throws {
        try await Self.withFixture { fixture in
            let reveal = await Self.ask(fixture, "GET", "/v1/persons/U0000000001?reveal=yes")
            #expect(reveal.status == 400 && reveal.error.hasPrefix("reveal: "), "\(reveal.error)")
            let household = await Self.ask(fixture, "GET", "/v1/households/H1?reveal=all")
            #expect(household.status == 400 && household.error.hasPrefix("reveal: "), "\(household.error)")
            let fromLSN = await Self.ask(fixture, "POST", "/v1/subscriptions/any/replay?from_lsn=0")
            #expect(fromLSN.status == 400 && fromLSN.error.hasPrefix("from_lsn: "), "\(fromLSN.error)")
            let subject = await Self.ask(fixture, "GET", "/v1/persons?source=library")
            #expect(subject.status == 400 && subject.error.hasPrefix("subject: required"), "\(subject.error)")
            // A declared value passes on to the route (here: nobody by that uid).
            #expect(await Self.ask(fixture, "GET", "/v1/persons/U0000000001?reveal=protected").status == 404)
        }
    }

    @Test func nonStringBackupPathIs400NamingPath() async throws {
        try await Self.withFixture { fixture in
            for body in [#"{"path": 5}"#, #"{"path": null}"#, #"{"path": ["/tmp/x.db"]}"#, #"{"path": {}}"#, #"{"path": true}"#] {
                let answer = await Self.ask(fixture, "POST", "/v1/backup", body: body)
                #expect(answer.status == 400, "\(body): \(answer.status)")
                #expect(answer.error.hasPrefix("path: "), "\(body): \(answer.error)")
            }
            // Nothing was written: the default backup folder holds no file.
            let folder = fixture.root.appendingPathComponent("state/backups").path
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)
        }
    }

    @Test func missingReplayBodyIs400NamingBody() async throws {
        try await Self.withFixture { fixture in
            let answer = await Self.ask(fixture, "POST", "/v1/replay")
            #expect(answer.status == 400)
            #expect(answer.error.hasPrefix("body: "), "\(answer.error)")
            // A body that is there is ingested as before (its one line is refused, with a 200 report).
            let junk = await Self.ask(fixture, "POST", "/v1/replay", body: "{}\n")
            #expect(junk.status == 200 && junk.json["rejected"]?.arrayValue?.count == 1)
        }
    }
}
