/// A set of compiled schema documents: an arena of ``SchemaNode``s and the root node of each file.
///
/// Built once when the schemas are loaded; validating afterwards only walks the arena.
struct SchemaLibrary: Sendable {
    /// Every compiled (sub)schema; subschemas refer to each other by index.
    private(set) var nodes: [SchemaNode]
    /// File path (relative to the schemas folder) → its root node.
    private(set) var roots: [String: Int]

    /// Compiles parsed schema documents.
    /// - Parameter documents: path relative to the schemas folder → the parsed JSON of that file.
    /// - Throws: ``SchemaLoadError`` naming the file, the location in it and the problem.
    init(documents: [String: JSONValue]) throws(SchemaLoadError) {
        var compiler = SchemaCompiler()
        var roots: [String: Int] = [:]
        for path in documents.keys.sorted() {
            roots[path] = try compiler.compile(documents[path]!, file: path, pointer: "")
        }
        try compiler.resolveReferences()
        try compiler.rejectReferenceCycles()
        self.nodes = compiler.nodes
        self.roots = roots
    }
}

/// A schema file that cannot be used, with where and why.
struct SchemaLoadError: Error, Sendable, CustomStringConvertible {
    /// The file, relative to the schemas folder.
    var file: String
    /// A JSON pointer into the file ("" for its root).
    var pointer: String
    /// What is wrong and what to do.
    var problem: String

    var description: String {
        pointer.isEmpty ? "\(file): \(problem)" : "\(file) at \(pointer): \(problem)"
    }
}

/// Turns schema JSON into ``SchemaNode``s, refusing any keyword the evaluator does not implement.
private struct SchemaCompiler {
    static let draft = "https://json-schema.org/draft/2020-12/schema"
    /// Keywords that only annotate and are accepted without effect.
    static let annotations: Set<String> = ["$id", "$comment", "title", "description"]

    var nodes: [SchemaNode] = []
    /// "file#/json/pointer" → node, for every compiled subschema (what `$ref` can point at).
    var locations: [String: Int] = [:]
    /// `$ref`s to resolve once every file is compiled.
    var pendingReferences: [(node: Int, file: String, pointer: String, reference: String)] = []

    mutating func compile(_ value: JSONValue, file: String, pointer: String) throws(SchemaLoadError) -> Int {
        func fail(_ problem: String, _ at: String = pointer) -> SchemaLoadError {
            SchemaLoadError(file: file, pointer: at, problem: problem)
        }
        let index = nodes.count
        nodes.append(SchemaNode())
        locations["\(file)#\(pointer)"] = index
        let object: JSONObject
        switch value {
        case .bool(let accepts):
            nodes[index].rejectsEverything = !accepts
            return index
        case .object(let o): object = o
        default: throw fail("a schema must be an object or a boolean, not \(JSONTypeSet.article(value.typeName))")
        }

        var node = SchemaNode()
        for member in object {
            let at = pointer + "/" + SchemaCompiler.escape(member.key)
            let value = member.value
            func sub(_ v: JSONValue, _ where_: String) throws(SchemaLoadError) -> Int {
                try compile(v, file: file, pointer: where_)
            }
            func count() throws(SchemaLoadError) -> Int {
                guard let i = value.integerValue, i >= 0, let int = Int(exactly: i) else {
                    throw fail("\(member.key) must be a non-negative integer", at)
                }
                return int
            }
            func schemaList() throws(SchemaLoadError) -> [Int] {
                guard let list = value.arrayValue, !list.isEmpty else {
                    throw fail("\(member.key) must be a non-empty array of schemas", at)
                }
                var result: [Int] = []
                for (i, element) in list.enumerated() { result.append(try sub(element, "\(at)/\(i)")) }
                return result
            }
            switch member.key {
            case "$schema":
                guard value.stringValue == SchemaCompiler.draft else {
                    throw fail("$schema must be \"\(SchemaCompiler.draft)\" (JSON Schema 2020-12)", at)
                }
            case _ where SchemaCompiler.annotations.contains(member.key):
                guard value.stringValue != nil else { throw fail("\(member.key) must be a string", at) }
            case "examples":
                guard value.arrayValue != nil else { throw fail("examples must be an array", at) }
            case "errorMessage":
                guard let message = value.stringValue, !message.isEmpty else {
                    throw fail("errorMessage must be a non-empty string", at)
                }
                node.errorMessage = message
            case "$defs":
                guard let defs = value.objectValue else { throw fail("$defs must be an object of schemas", at) }
                for def in defs { _ = try sub(def.value, at + "/" + SchemaCompiler.escape(def.key)) }
            case "$ref":
                guard let reference = value.stringValue else { throw fail("$ref must be a string", at) }
                pendingReferences.append((index, file, pointer, reference))
            case "type":
                node.types = try SchemaCompiler.types(value, fail: { fail($0, at) })
            case "enum":
                guard let list = value.arrayValue, !list.isEmpty else {
                    throw fail("enum must be a non-empty array", at)
                }
                node.enumValues = list
            case "const": node.constValue = value
            case "minLength": node.minLength = try count()
            case "maxLength": node.maxLength = try count()
            case "minItems": node.minItems = try count()
            case "maxItems": node.maxItems = try count()
            case "minProperties": node.minProperties = try count()
            case "maxProperties": node.maxProperties = try count()
            case "minimum", "maximum":
                switch value {
                case .integer, .double: break
                default: throw fail("\(member.key) must be a number", at)
                }
                if member.key == "minimum" { node.minimum = value } else { node.maximum = value }
            case "pattern":
                guard let source = value.stringValue else { throw fail("pattern must be a string", at) }
                do { node.pattern = try SchemaPattern(source) } catch {
                    throw fail("pattern does not compile as a regular expression: \(error)", at)
                }
            case "format":
                guard let name = value.stringValue, let format = SchemaFormat(rawValue: name) else {
                    let known = SchemaFormat.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fail("format must be one of \(known) (an unknown format would check nothing)", at)
                }
                node.format = format
            case "properties":
                guard let properties = value.objectValue else { throw fail("properties must be an object", at) }
                for property in properties {
                    node.properties[property.key] = try sub(property.value, at + "/" + SchemaCompiler.escape(property.key))
                    node.propertyNames.append(property.key)
                }
            case "additionalProperties": node.additionalProperties = try sub(value, at)
            case "items":
                guard value.arrayValue == nil else {
                    throw fail("items takes one schema in 2020-12 (prefixItems is not supported)", at)
                }
                node.items = try sub(value, at)
            case "required":
                guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw fail("required must be an array of strings", at)
                }
                let names = list.compactMap(\.stringValue)
                guard Set(names).count == names.count else { throw fail("required lists a key twice", at) }
                node.required = names
            case "allOf": node.allOf = try schemaList()
            case "anyOf": node.anyOf = try schemaList()
            case "oneOf": node.oneOf = try schemaList()
            case "not": node.not = try sub(value, at)
            case "if": node.ifSchema = try sub(value, at)
            case "then": node.thenSchema = try sub(value, at)
            case "else": node.elseSchema = try sub(value, at)
            default:
                throw fail(
                    "unsupported keyword \"\(member.key)\": Renkei's evaluator does not implement it, and a keyword "
                        + "that silently checked nothing would be worse (see Schemas/README.md)", at)
            }
        }
        if node.ifSchema == nil, node.thenSchema != nil || node.elseSchema != nil {
            throw fail("then/else without if")
        }
        // A `$ref` of this node is filled in by resolveReferences(), after every file is compiled.
        nodes[index] = node
        return index
    }

    /// Resolves every `$ref` against the file it appears in, as a file-system loader would:
    /// `#/$defs/x` within the file, `../common.schema.json#/$defs/x` relative to the file's folder.
    mutating func resolveReferences() throws(SchemaLoadError) {
        for pending in pendingReferences {
            let fail = { (problem: String) in
                SchemaLoadError(file: pending.file, pointer: pending.pointer + "/$ref", problem: problem)
            }
            let parts = pending.reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let filePart = String(parts[0])
            let fragment = parts.count > 1 ? SchemaCompiler.percentDecoded(parts[1]) : ""
            guard !filePart.contains(":") else {
                throw fail("$ref \(pending.reference) must be relative to the schemas folder (no URLs)")
            }
            guard fragment.isEmpty || fragment.hasPrefix("/") else {
                throw fail("$ref \(pending.reference): only JSON-pointer fragments (#/...) are supported")
            }
            let target: String
            if filePart.isEmpty {
                target = pending.file
            } else if let resolved = SchemaCompiler.resolve(filePart, from: pending.file) {
                target = resolved
            } else {
                throw fail("$ref \(pending.reference) leaves the schemas folder")
            }
            guard let node = locations["\(target)#\(fragment)"] else {
                throw fail("$ref \(pending.reference) does not resolve (looked for \(target)#\(fragment))")
            }
            nodes[pending.node].ref = node
        }
    }

    /// Refuses `$ref` (or allOf/anyOf/… ) loops that never move into the instance: they would not end.
    func rejectReferenceCycles() throws(SchemaLoadError) {
        var state = [UInt8](repeating: 0, count: nodes.count)  // 0 new, 1 on the stack, 2 done
        for start in nodes.indices where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let edges = nodes[top.node].inPlaceSubschemas
                if top.next < edges.count {
                    stack[stack.count - 1].next += 1
                    let target = edges[top.next]
                    if state[target] == 1 {
                        let location = locations.first { $0.value == target }?.key ?? "?"
                        throw SchemaLoadError(
                            file: String(location.prefix { $0 != "#" }), pointer: "",
                            problem: "$ref cycle through \(location) that never descends into the value")
                    }
                    if state[target] == 0 {
                        state[target] = 1
                        stack.append((target, 0))
                    }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
    }

    // MARK: - Helpers

    static func types(_ value: JSONValue, fail: (String) -> SchemaLoadError) throws(SchemaLoadError) -> JSONTypeSet {
        let names: [JSONValue] = value.arrayValue ?? [value]
        var set: JSONTypeSet = []
        guard !names.isEmpty else { throw fail("type must name at least one type") }
        for name in names {
            guard let string = name.stringValue, let type = JSONTypeSet.named.first(where: { $0.0 == string }) else {
                throw fail("type must be one of null, boolean, integer, number, string, array, object (or a list)")
            }
            set.insert(type.1)
        }
        return set
    }

    /// JSON-pointer escaping of one reference token.
    static func escape(_ token: String) -> String {
        token.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `relative` resolved against the folder of `file`, or nil if it climbs out of the schemas folder.
    static func resolve(_ relative: String, from file: String) -> String? {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().map(String.init)
        for part in relative.split(separator: "/", omittingEmptySubsequences: false) {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
