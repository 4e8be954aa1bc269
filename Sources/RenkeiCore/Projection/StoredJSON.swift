/// Reading helpers for the projection's stored records: a missing or mistyped member is a damaged
/// checkpoint, which a rebuild from the log repairs.
struct StoredJSON {
    let object: JSONObject
    let what: String

    /// Parses stored bytes as one JSON object.
    init(bytes: [UInt8], what: String) throws(RenkeiError) {
        self.what = what
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw RenkeiError(.database, "\(what): stored value is not JSON; rebuild the projection", cause: error)
        }
        guard let object = value.objectValue else {
            throw RenkeiError(.database, "\(what): stored value is not a JSON object; rebuild the projection")
        }
        self.object = object
    }

    init(object: JSONObject, what: String) {
        self.object = object
        self.what = what
    }

    func damaged(_ key: String) -> RenkeiError {
        RenkeiError(.database, "\(what): stored member \"\(key)\" is missing or mistyped; rebuild the projection")
    }

    func string(_ key: String) throws(RenkeiError) -> String {
        guard let value = object[key]?.stringValue else { throw damaged(key) }
        return value
    }

    func optionalString(_ key: String) throws(RenkeiError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw damaged(key) }
        return string
    }

    func integer(_ key: String) throws(RenkeiError) -> Int64 {
        guard let value = object[key]?.integerValue else { throw damaged(key) }
        return value
    }

    func bool(_ key: String) throws(RenkeiError) -> Bool {
        guard let value = object[key]?.boolValue else { throw damaged(key) }
        return value
    }

    func objectMember(_ key: String) throws(RenkeiError) -> JSONObject {
        guard let value = object[key]?.objectValue else { throw damaged(key) }
        return value
    }

    func array(_ key: String) throws(RenkeiError) -> [JSONValue] {
        guard let value = object[key]?.arrayValue else { throw damaged(key) }
        return value
    }

    func strings(_ key: String) throws(RenkeiError) -> [String] {
        var result: [String] = []
        for element in try array(key) {
            guard let string = element.stringValue else { throw damaged(key) }
            result.append(string)
        }
        return result
    }
}
