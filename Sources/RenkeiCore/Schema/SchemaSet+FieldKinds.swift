/// What kind of JSON value a schema expects at a field, so that text input (CSV cells) can be typed.
public enum SchemaFieldKind: Sendable, Hashable {
    /// A JSON string (names, codes, numbers kept as text such as 宛名番号).
    case string
    /// A string in `format: date` (`YYYY-MM-DD`); 和暦 input is converted.
    case date
    /// A JSON integer (money, fiscal years, schema_version).
    case integer
    /// A JSON number.
    case number
    /// A JSON boolean.
    case boolean
    /// A JSON array (elements addressed by index: `guardians.0.name`).
    case array
    /// A JSON object (members addressed by dotted keys: `child.name`).
    case object
}

extension SchemaSet {
    /// The kind of value the schemas expect at a path of an event.
    ///
    /// - Parameters:
    ///   - path: the keys from the envelope down, e.g. `["schema_version"]`, `["data", "child", "birth_date"]`,
    ///     `["data", "guardians", "0", "name"]` (array elements by index).
    ///   - eventType: the event's `type`, which selects the `data` schema; nil for envelope keys only.
    /// - Returns: the kind, or nil when no schema describes the path (an unknown key, an unknown type).
    public func fieldKind(at path: [String], eventType: String?) -> SchemaFieldKind? {
        guard let first = path.first else { return nil }
        var node: Int
        var rest = path.dropFirst()
        if first == "data", !rest.isEmpty {
            guard let eventType, let root = dataSchemas[eventType] else { return nil }
            node = root
        } else {
            guard let property = property(first, of: envelope) else { return nil }
            node = property
        }
        while let key = rest.first {
            rest = rest.dropFirst()
            if let next = property(key, of: node) {
                node = next
            } else if let items = items(of: node), Int(key) != nil {
                node = items
            } else {
                return nil
            }
        }
        return kind(of: node)
    }

    // MARK: - Walking the arena

    /// The nodes that apply in place at `node`: itself, its `$ref` target, `allOf`/`anyOf`/`oneOf`, if/then/else.
    private func inPlace(_ node: Int) -> [Int] {
        var seen: Set<Int> = []
        var queue = [node]
        var result: [Int] = []
        while let next = queue.popLast(), result.count < 64 {
            guard seen.insert(next).inserted else { continue }
            result.append(next)
            let schema = library.nodes[next]
            if let ref = schema.ref { queue.append(ref) }
            queue += schema.allOf + (schema.anyOf ?? []) + (schema.oneOf ?? [])
            for branch in [schema.thenSchema, schema.elseSchema] { if let branch { queue.append(branch) } }
        }
        return result
    }

    private func property(_ key: String, of node: Int) -> Int? {
        inPlace(node).lazy.compactMap { self.library.nodes[$0].properties[key] }.first
    }

    private func items(of node: Int) -> Int? {
        inPlace(node).lazy.compactMap { self.library.nodes[$0].items }.first
    }

    private func kind(of node: Int) -> SchemaFieldKind? {
        var types: JSONTypeSet = []
        var isDate = false
        for index in inPlace(node) {
            let schema = library.nodes[index]
            if let declared = schema.types { types.formUnion(declared) }
            if schema.format == .date { isDate = true }
        }
        if isDate { return .date }
        if types.contains(.string) { return .string }
        if types.contains(.integer) { return .integer }
        if types.contains(.number) { return .number }
        if types.contains(.boolean) { return .boolean }
        if types.contains(.array) { return .array }
        if types.contains(.object) { return .object }
        return nil
    }
}

extension EventValidator {
    /// The schemas this validator checks against (for typing text input such as CSV cells).
    public var schemaSet: SchemaSet { schemas }
}
