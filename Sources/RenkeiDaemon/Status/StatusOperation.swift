import RenkeiStore
import RenkeiSystem

/// One operation of the status socket as `Schemas/openapi.json` declares it: its method, its path
/// template and the query parameters it takes (issue 13).
///
/// ``StatusOperation/all`` is what `StatusRoutes` checks a request against before routing it: a
/// known path asked with a method the document does not declare is answered `405` with `Allow`,
/// and a query value the document does not allow is answered `400` naming the parameter, so a
/// generic client or API fuzzer driven by the document meets exactly what it describes.
/// `OpenAPITests` checks this table against the document, entry by entry.
struct StatusOperation: Sendable {
    /// The method, e.g. `GET`.
    let method: String
    /// The path's segments; a segment in braces (`{uid}`) matches any one segment.
    let template: [String]
    /// The query parameters the document declares; others are ignored.
    let query: [QueryParameter]

    init(_ method: String, _ path: String, query: [QueryParameter] = []) {
        self.method = method
        self.template = path.split(separator: "/").map(String.init)
        self.query = query
    }

    /// How many segments of the template are parameters (fewer: a more specific match).
    var parameterCount: Int { template.count(where: { $0.hasPrefix("{") }) }

    /// Whether `segments` (a request's path split at `/`) fit the template.
    func matches(_ segments: [String]) -> Bool {
        segments.count == template.count && zip(template, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }

    // MARK: - The table

    /// Every status-socket operation of `Schemas/openapi.json`. An endpoint missing here is still
    /// routed as before, but `OpenAPITests` fails until it is added.
    static let all: [StatusOperation] = [
        StatusOperation("GET", "/metrics"),
        StatusOperation("GET", "/v1/status"),
        StatusOperation(
            "GET", "/v1/persons",
            query: [.text("source", required: true), .text("subject", required: true), .oneOf("reveal", ["protected"])]),
        StatusOperation(
            "GET", "/v1/persons/search",
            query: [.text("q"), .text("birth_date"), .integer("limit", 1...200)]),
        StatusOperation("GET", "/v1/persons/{uid}", query: [.oneOf("reveal", ["protected"])]),
        StatusOperation("GET", "/v1/persons/{uid}/history"),
        StatusOperation("GET", "/v1/households/{no}", query: [.oneOf("reveal", ["protected"])]),
        StatusOperation("GET", "/v1/reviews"),
        StatusOperation("GET", "/v1/reviews/{id}"),
        StatusOperation("POST", "/v1/reviews/{id}/link"),
        StatusOperation("POST", "/v1/reviews/{id}/reject"),
        StatusOperation("POST", "/v1/links"),
        StatusOperation("DELETE", "/v1/links"),
        StatusOperation("GET", "/v1/dead-letters", query: [.text("subscription"), .oneOf("state", [OutboxState.skipped.rawValue])]),
        StatusOperation("POST", "/v1/dead-letters/{id}/retry"),
        StatusOperation("POST", "/v1/dead-letters/{id}/skip"),
        StatusOperation("POST", "/v1/subscriptions/{name}/pause"),
        StatusOperation("POST", "/v1/subscriptions/{name}/resume"),
        StatusOperation(
            "POST", "/v1/subscriptions/{name}/replay",
            query: [.integer("from_lsn", 1...Int64.max, required: true)]),
        StatusOperation("POST", "/v1/subscriptions/{name}/export"),
        StatusOperation("GET", "/v1/disclosures", query: [.text("uid", required: true)]),
        StatusOperation("POST", "/v1/rebuild"),
        StatusOperation("GET", "/v1/verify"),
        StatusOperation("POST", "/v1/replay"),
        StatusOperation("GET", "/v1/access-log", query: [.integer("limit", 1...100_000)]),
        StatusOperation("POST", "/v1/backup"),
        StatusOperation("POST", "/v1/keys/rotate"),
        StatusOperation("POST", "/v1/linking/estimate"),
        StatusOperation("GET", "/v1/linking/report"),
        StatusOperation("GET", "/v1/snapshots"),
        StatusOperation("POST", "/v1/snapshots/{id}/accept"),
        StatusOperation("POST", "/v1/snapshots/{id}/discard"),
        StatusOperation("POST", "/v1/mappings/{source}/check"),
        StatusOperation("GET", "/v1/console/users"),
        StatusOperation("POST", "/v1/console/users/{name}"),
        StatusOperation("POST", "/v1/console/users/{name}/reset"),
        StatusOperation("POST", "/v1/console/users/{name}/disable"),
        StatusOperation("POST", "/v1/subscriptions/{name}/shadow/diff"),
        StatusOperation("GET", "/v1/reconciliation"),
        StatusOperation(
            "GET", "/v1/reconciliation/{check}",
            query: [.text("after"), .integer("limit", 1...1000), .oneOf("state", ["open", "explained", "resolved"])]),
        StatusOperation("GET", "/v1/reconciliation/{check}/{id}"),
        StatusOperation("POST", "/v1/reconciliation/{check}/{id}/explain"),
    ]

    // MARK: - Checking a request

    /// What to answer before routing, or `nil` to route the request.
    ///
    /// - `405` with `Allow` (the declared methods) for a path the table knows asked with another method;
    /// - `400` naming the parameter for a declared query parameter that is missing or has a value the
    ///   document does not allow. The value itself is not repeated (it could be anything, a 個人番号 too).
    ///
    /// A path the table does not know is left to the routes (`404`, or an endpoint not listed yet).
    static func check(_ request: HTTPRequest, _ segments: [String], in table: [StatusOperation] = all) -> HTTPResponse? {
        let fitting = table.filter { $0.matches(segments) }
        guard let fewest = fitting.map(\.parameterCount).min() else { return nil }
        // `/v1/persons/search` is not `/v1/persons/{uid}` when both are listed: the most literal wins.
        let candidates = fitting.filter { $0.parameterCount == fewest }
        guard let operation = candidates.first(where: { $0.method == request.method }) else {
            var allowed: [String] = []
            for candidate in candidates where !allowed.contains(candidate.method) { allowed.append(candidate.method) }
            var response = HTTPResponse.error(
                405, "\(request.method) is not allowed on \(request.path): use \(allowed.joined(separator: " or "))")
            response.headers.add(name: "Allow", value: allowed.joined(separator: ", "))
            return response
        }
        for parameter in operation.query {
            if let problem = parameter.problem(in: request.query) { return .error(400, problem) }
        }
        return nil
    }
}

/// A query parameter as the document declares it: a name, whether it must be given, and which
/// values it takes.
struct QueryParameter: Sendable {
    /// Which values a parameter takes.
    enum Values: Sendable {
        /// Any text.
        case text
        /// A decimal integer in the range.
        case integer(ClosedRange<Int64>)
        /// One of these words.
        case oneOf([String])
    }

    /// The parameter's name, e.g. `limit`.
    let name: String
    /// Which values it takes.
    let values: Values
    /// Whether a request must give it.
    let required: Bool

    static func text(_ name: String, required: Bool = false) -> QueryParameter {
        QueryParameter(name: name, values: .text, required: required)
    }

    static func integer(_ name: String, _ range: ClosedRange<Int64>, required: Bool = false) -> QueryParameter {
        QueryParameter(name: name, values: .integer(range), required: required)
    }

    static func oneOf(_ name: String, _ words: [String], required: Bool = false) -> QueryParameter {
        QueryParameter(name: name, values: .oneOf(words), required: required)
    }

    /// Why `query` does not satisfy this parameter (a message naming it), or `nil` when it does.
    func problem(in query: [String: String]) -> String? {
        guard let value = query[name] else {
            return required ? "\(name): required (give ?\(name)=\(example))" : nil
        }
        switch values {
        case .text:
            return nil
        case .integer(let range):
            // Digits only, as the document's `integer` means: no sign, no spaces, no fraction.
            if !value.isEmpty, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int64(value),
                range.contains(number)
            {
                return nil
            }
            let upper = range.upperBound == Int64.max ? "on" : "to \(range.upperBound)"
            return "\(name): must be a whole number from \(range.lowerBound) \(upper)"
        case .oneOf(let words):
            if words.contains(value) { return nil }
            return "\(name): must be \(words.map { "'\($0)'" }.joined(separator: " or "))" + (required ? "" : " (or left out)")
        }
    }

    private var example: String {
        switch values {
        case .text: return "…"
        case .integer(let range): return String(range.lowerBound)
        case .oneOf(let words): return words.first ?? "…"
        }
    }
}
