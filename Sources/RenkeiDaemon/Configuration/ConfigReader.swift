import Foundation
import RenkeiCore

/// Reads typed values out of the configuration JSON, naming the file and key in every error.
struct ConfigReader {
    let file: String

    func error(_ key: String, _ message: String) -> RenkeiError {
        RenkeiError(.invalidConfiguration, "\(file): \(key.isEmpty ? "" : "\(key): ")\(message)")
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func allowOnly(_ object: JSONObject, path: String, _ keys: Set<String>) throws(RenkeiError) {
        for key in object.keys where !keys.contains(key) {
            throw error(join(path, key), "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> String {
        guard let value = try optionalString(object, key, path: path) else {
            throw error(join(path, key), "required string is missing")
        }
        return value
    }

    func optionalString(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let string = value.stringValue, !string.isEmpty else {
            throw error(join(path, key), "must be a non-empty string")
        }
        return string
    }

    func optionalNumber(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> Double? {
        guard let value = object[key], !value.isNull else { return nil }
        switch value {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        default: throw error(join(path, key), "must be a number")
        }
    }

    func optionalInt(_ object: JSONObject, _ key: String, path: String, range: ClosedRange<Int>) throws(RenkeiError) -> Int? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let integer = value.integerValue, let int = Int(exactly: integer), range.contains(int) else {
            throw error(join(path, key), "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return int
    }

    func object(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> JSONObject {
        guard let value = try optionalObject(object, key, path: path) else {
            throw error(join(path, key), "required object is missing")
        }
        return value
    }

    func optionalObject(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> JSONObject? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let result = value.objectValue else { throw error(join(path, key), "must be an object") }
        return result
    }

    func stringArray(_ object: JSONObject, _ key: String, path: String) throws(RenkeiError) -> [String]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let array = value.arrayValue else { throw error(join(path, key), "must be an array of strings") }
        var result: [String] = []
        for element in array {
            guard let string = element.stringValue else { throw error(join(path, key), "must be an array of strings") }
            result.append(string)
        }
        return result
    }

    /// `headers` of a subscription or a pull: `{"Name": {"file": "/etc/renkei/secrets/x"}}`, each value
    /// read from its file (trimmed), so secrets never live in the JSON.
    /// - Throws: ``RenkeiError`` naming the header and the file that cannot be read.
    func headerFiles(_ object: JSONObject, path: String) throws(RenkeiError) -> [String: String] {
        var headers: [String: String] = [:]
        for member in try optionalObject(object, "headers", path: path) ?? JSONObject() {
            let headerPath = "\(path).headers.\(member.key)"
            guard let fileName = member.value["file"]?.stringValue else {
                throw error(headerPath, "give header values as {\"file\": \"/etc/renkei/…\"}: secrets never live in the JSON")
            }
            guard let text = try? String(contentsOfFile: fileName, encoding: .utf8) else {
                throw error(headerPath, "cannot read \(fileName)")
            }
            headers[member.key] = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return headers
    }

    static let personFields: Set<String> = [
        "uid", "municipality", "status", "protected", "name", "name_kana", "birth_date", "sex", "address", "postal_code",
        "household_no", "relationship", "my_number", "links", "tax", "childcare", "library", "guardian_of",
        "version", "lsn",
    ]
    static let kinds: Set<String> = [
        "person.created", "person.changed", "person.merged", "person.unlinked", "household.changed",
    ]

    func subscription(
        name: String, value: JSONValue, sources: [String: Configuration.Source]
    ) throws(RenkeiError) -> Configuration.Subscription {
        let path = "subscriptions.\(name)"
        guard let object = value.objectValue else { throw error(path, "must be an object") }
        guard name.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", options: .regularExpression) != nil else {
            throw error(path, "a subscription name is letters, digits, '-', '_' and '.' (it appears in delta ids)")
        }
        try allowOnly(
            object, path: path,
            ["url", "linked_to", "kinds", "fields", "secret_file", "max_in_flight", "max_attempts", "timeout_s", "tls",
             "legal_basis", "headers", "connect_timeout_s", "retry_base_s", "mode"])
        let url = try string(object, "url", path: path)
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), let host = parsed.host else {
            throw error("\(path).url", "must be an http:// or https:// URL")
        }
        let fields = try stringArray(object, "fields", path: path) ?? []
        guard !fields.isEmpty else { throw error("\(path).fields", "list the view fields this subscription may see") }
        for field in fields where !Self.personFields.contains(field) {
            throw error("\(path).fields", "unknown field '\(field)' (known: \(Self.personFields.sorted().joined(separator: ", ")))")
        }
        let kinds = try stringArray(object, "kinds", path: path).map(Set.init)
        for kind in kinds ?? [] where !Self.kinds.contains(kind) {
            throw error("\(path).kinds", "unknown kind '\(kind)' (known: \(Self.kinds.sorted().joined(separator: ", ")))")
        }
        let linkedTo = try optionalString(object, "linked_to", path: path)
        if let linkedTo, sources[linkedTo] == nil {
            throw error("\(path).linked_to", "names source '\(linkedTo)', which is not configured under sources")
        }
        let legalBasis = try optionalString(object, "legal_basis", path: path)
        let policy = SubscriptionPolicy(
            name: name, kinds: kinds, fields: fields, linkedTo: linkedTo, legalBasis: legalBasis)
        do {
            try policy.validate()
            // Issue 13: my_number and tax never cross a network in clear text.
            try policy.validateTransport(scheme: parsed.scheme ?? "", host: host)
        } catch {
            throw self.error(path, error.message)
        }
        let headers = try headerFiles(object, path: path)
        let tlsObject = try optionalObject(object, "tls", path: path) ?? JSONObject()
        try allowOnly(tlsObject, path: "\(path).tls", ["ca_file", "client_cert", "client_key"])
        let connectTimeout = try optionalNumber(object, "connect_timeout_s", path: path) ?? 10
        let retryBase = try optionalNumber(object, "retry_base_s", path: path) ?? 0.5
        guard connectTimeout > 0, retryBase > 0, retryBase <= 300 else {
            throw error(path, "connect_timeout_s must be positive and retry_base_s from 0 to 300 seconds")
        }
        var subscription = Configuration.Subscription(
            policy: policy, url: url,
            secretFile: try optionalString(object, "secret_file", path: path),
            maxInFlight: try optionalInt(object, "max_in_flight", path: path, range: 1...256) ?? 8,
            maxAttempts: try optionalInt(object, "max_attempts", path: path, range: 1...1000) ?? 12,
            timeoutSeconds: try optionalNumber(object, "timeout_s", path: path) ?? 10,
            headers: headers,
            tls: Configuration.TLS(
                caFile: try optionalString(tlsObject, "ca_file", path: "\(path).tls"),
                clientCertificate: try optionalString(tlsObject, "client_cert", path: "\(path).tls"),
                clientKey: try optionalString(tlsObject, "client_key", path: "\(path).tls")))
        subscription.connectTimeoutSeconds = connectTimeout
        subscription.retryBaseSeconds = retryBase
        subscription.mode = try subscriptionMode(object, path: path)
        return subscription
    }
}
