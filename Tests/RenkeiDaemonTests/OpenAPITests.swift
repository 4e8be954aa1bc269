import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import RenkeiSystem
import Testing

/// `Schemas/openapi.json` against the routes the daemon serves (issue 6): every documented operation
/// reaches a handler, and nothing the router answers is undocumented.
///
/// No route list is kept by hand here: the documented side comes from openapi.json; the served side
/// is found by probing the router with every path shape built from the words the status routes'
/// sources use (their string literals), so a new endpoint is noticed whatever word it uses.
@Suite(.serialized) struct OpenAPITests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]

    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var template: [String]
        var description: String { "\(method) /\(template.joined(separator: "/"))" }

        func matches(method: String, path: [String]) -> Bool {
            guard method == self.method, path.count == template.count else { return false }
            return zip(template, path).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    static func document() throws -> JSONValue {
        try JSONParser.parse(Array(try Data(contentsOf: repoRoot.appendingPathComponent("Schemas/openapi.json"))))
    }

    static func operations(server: String) throws -> [Operation] {
        let doc = try document()
        var result: [Operation] = []
        for member in doc["paths"]?.objectValue ?? JSONObject() {
            let url = member.value["servers"]?.arrayValue?.first?["url"]?.stringValue
            guard url == server else { continue }
            for method in methods where member.value[method.lowercased()] != nil {
                result.append(Operation(method: method, template: member.key.split(separator: "/").map(String.init)))
            }
        }
        return result
    }

    static func isNoSuchEndpoint(_ response: HTTPResponse) -> Bool {
        response.status == 404 && String(decoding: response.body, as: UTF8.self).contains("no such endpoint")
    }

    /// Not served by a handler: no such endpoint, or a known path's `405` for an undeclared method.
    static func isNotServed(_ response: HTTPResponse) -> Bool {
        isNoSuchEndpoint(response) || (response.status == 405 && response.headers["Allow"] != nil)
    }

    @Test func documentIsOpenAPI31WithResponsesForEveryOperation() throws {
        let doc = try Self.document()
        #expect(doc["openapi"]?.stringValue?.hasPrefix("3.1") == true)
        for member in doc["paths"]?.objectValue ?? JSONObject() {
            for method in Self.methods {
                guard let operation = member.value[method.lowercased()] else { continue }
                #expect(operation["responses"]?.objectValue?.isEmpty == false, "\(method) \(member.key) has no responses")
                #expect(operation["operationId"]?.stringValue != nil, "\(method) \(member.key) has no operationId")
            }
        }
        let push = try Self.operations(server: "http://127.0.0.1:8470")
        #expect(push.map(\.description) == ["POST /v1/sources/{source}/events"])
        let responses = doc["paths"]?["/v1/sources/{source}/events"]?["post"]?["responses"]?.objectValue
        for code in ["200", "400", "401", "403", "404", "405", "413"] {
            #expect(responses?[code] != nil, "push: \(code) is not documented")
        }
    }

    /// Issue 13: any status-socket request may be refused for the caller's groups (StatusAccess.swift).
    @Test func everyStatusSocketOperationDocumentsTheRefusal() throws {
        let doc = try Self.document()
        let operations = try Self.operations(server: "http://renkei")
        #expect(!operations.isEmpty)
        for operation in operations {
            let path = "/" + operation.template.joined(separator: "/")
            let responses = doc["paths"]?[path]?[operation.method.lowercased()]?["responses"]?.objectValue
            #expect(responses?["403"] != nil, "\(operation): 403 (not in the caller's groups) is not documented")
        }
    }

    @Test func statusSocketRoutesMatchTheDocument() async throws {
        // Thousands of audited probes, one commit each: on tmpfs when there is one, so fsync costs nothing.
        let shm = URL(fileURLWithPath: "/dev/shm")
        let root = FileManager.default.isWritableFile(atPath: shm.path)
            ? shm.appendingPathComponent("renkei-openapi-\(UUID().uuidString.prefix(8))") : nil
        defer { if let root { try? FileManager.default.removeItem(at: root) } }
        let fixture = try await IngestFixture(root: root, push: true)
        let routes = StatusRoutes(service: fixture.service)
        let documented = try Self.operations(server: "http://renkei")
        #expect(documented.count > 20)

        // Every documented operation reaches a handler.
        for operation in documented {
            let path = "/" + operation.template.map { $0.hasPrefix("{") ? "1" : $0 }.joined(separator: "/")
            let response = await routes.handle(HTTPRequest(method: operation.method, target: path))
            #expect(!Self.isNoSuchEndpoint(response), "documented \(operation) is not served")
        }

        // Everything served is documented: probe every shape made of the routes' own words.
        var words = Set<String>()
        let folder = Self.repoRoot.appendingPathComponent("Sources/RenkeiDaemon/Status")
        let literal = try Regex(#""([a-z][a-z_-]*)""#)
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasPrefix("StatusRoutes") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: literal) { words.insert(String(text[match.range].dropFirst().dropLast())) }
        }
        for operation in documented { words.formUnion(operation.template.filter { !$0.hasPrefix("{") }) }
        words.remove("v1")
        let sorted = words.sorted()
        var shapes: [[String]] = [["metrics"], ["v1"]]
        for first in sorted {
            shapes.append(["v1", first])
            shapes.append(["v1", first, "1"])
            for second in sorted {
                shapes.append(["v1", first, second])
                shapes.append(["v1", first, "1", second])
            }
        }
        var probes: [(method: String, target: String)] = []
        for shape in shapes {
            for method in ["GET", "POST", "DELETE"] + (shape.count <= 3 ? ["PUT", "PATCH"] : []) {
                if documented.contains(where: { $0.matches(method: method, path: shape) }) { continue }
                probes.append((method, "/" + shape.joined(separator: "/")))
            }
        }
        // Concurrently, 64 at a time: each probe is audited, and the writer group-commits them.
        var undocumented: [String] = []
        for start in stride(from: 0, to: probes.count, by: 64) {
            let chunk = probes[start..<min(start + 64, probes.count)]
            let found = await withTaskGroup(of: String?.self) { group in
                for probe in chunk {
                    group.addTask {
                        let response = await routes.handle(HTTPRequest(method: probe.method, target: probe.target))
                        return Self.isNotServed(response) ? nil : "\(probe.method) \(probe.target)"
                    }
                }
                var found: [String] = []
                for await item in group { if let item { found.append(item) } }
                return found
            }
            undocumented += found
        }
        #expect(undocumented.isEmpty, "served but not in Schemas/openapi.json: \(undocumented)")
        await fixture.service.stop()
    }

    /// `StatusOperation.all`, which answers 405 and checks query values before routing (issue 13),
    /// lists exactly the document's status-socket operations, each with the document's query
    /// parameters: the same names, which are required, and the same values (enum, integer range).
    @Test func operationTableMatchesTheDocument() throws {
        let doc = try Self.document()
        var documented: [String: String] = [:]
        for member in doc["paths"]?.objectValue ?? JSONObject() {
            guard member.value["servers"]?.arrayValue?.first?["url"]?.stringValue == "http://renkei" else { continue }
            for method in Self.methods {
                guard let operation = member.value[method.lowercased()] else { continue }
                var parameters: [String] = []
                for parameter in operation["parameters"]?.arrayValue ?? [] where parameter["in"]?.stringValue == "query" {
                    let name = parameter["name"]?.stringValue ?? "?"
                    let schema = parameter["schema"] ?? .null
                    let values: String
                    if let words = schema["enum"]?.arrayValue {
                        values = "oneOf " + words.compactMap(\.stringValue).joined(separator: ",")
                    } else if schema["type"]?.stringValue == "integer" {
                        let low = schema["minimum"]?.integerValue.map(String.init) ?? "min"
                        let high = schema["maximum"]?.integerValue.map(String.init) ?? "max"
                        values = "integer \(low)...\(high)"
                    } else {
                        values = "text"
                    }
                    parameters.append("\(name) \(values)\(parameter["required"] == .bool(true) ? " required" : "")")
                }
                documented["\(method) \(member.key)"] = parameters.sorted().joined(separator: "; ")
            }
        }
        var table: [String: String] = [:]
        for operation in StatusOperation.all {
            let key = "\(operation.method) /\(operation.template.joined(separator: "/"))"
            #expect(table[key] == nil, "\(key) is listed twice in StatusOperation.all")
            table[key] = operation.query.map { parameter in
                let values: String
                switch parameter.values {
                case .text: values = "text"
                case .oneOf(let words): values = "oneOf " + words.joined(separator: ",")
                case .integer(let range):
                    values = "integer \(range.lowerBound)...\(range.upperBound == Int64.max ? "max" : String(range.upperBound))"
                }
                return "\(parameter.name) \(values)\(parameter.required ? " required" : "")"
            }.sorted().joined(separator: "; ")
        }
        for key in Set(documented.keys).union(table.keys).sorted() {
            #expect(documented[key] == table[key], "\(key): openapi.json says \(documented[key] ?? "nothing"), StatusOperation.all says \(table[key] ?? "nothing")")
        }
    }

    @Test func pushRouteMatchesTheDocument() async throws {
        let fixture = try await IngestFixture(push: true)
        guard let push = fixture.service.push else {
            Issue.record("no push listener")
            return
        }
        for method in Self.methods {
            let response = await push.handle(HTTPRequest(method: method, target: "/v1/sources/resident/events"))
            #expect(!Self.isNoSuchEndpoint(response), "\(method) /v1/sources/resident/events")
        }
        let other = await push.handle(HTTPRequest(method: "POST", target: "/v1/status"))
        #expect(Self.isNoSuchEndpoint(other))
        await fixture.service.stop()
    }
}
