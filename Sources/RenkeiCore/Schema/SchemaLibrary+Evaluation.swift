extension SchemaLibrary {
    /// Validates `value` against the node at `index`.
    /// - Returns: the first violation in document order (object members in the order the instance
    ///   lists them, then missing required keys), or nil when the value is valid.
    func check(_ value: JSONValue, against index: Int) -> SchemaViolation? {
        let node = nodes[index]
        guard var found = evaluate(value, node) else { return nil }
        if let message = node.errorMessage, found.own { found.violation.reason = message }
        return found.violation
    }

    /// Whether `value` is valid against the node at `index`.
    func isValid(_ value: JSONValue, against index: Int) -> Bool {
        check(value, against: index) == nil
    }

    // MARK: - Private

    /// A violation plus whether it was raised at this node's own location (so `errorMessage` applies).
    private struct Found {
        var violation: SchemaViolation
        var own: Bool
    }

    private func evaluate(_ value: JSONValue, _ node: SchemaNode) -> Found? {
        func own(_ reason: String, at steps: [SchemaViolation.Step] = []) -> Found {
            Found(violation: SchemaViolation(reason, at: steps), own: true)
        }
        func inPlace(_ violation: SchemaViolation?) -> Found? {
            guard let violation else { return nil }
            return Found(violation: violation, own: violation.reversedPath.isEmpty)
        }

        if node.rejectsEverything { return own("is not allowed here") }
        if let ref = node.ref, let found = inPlace(check(value, against: ref)) { return found }
        if let types = node.types, !types.matches(value) {
            return own("must be \(types.phrase), not \(JSONTypeSet.article(value.typeName))")
        }
        if let constValue = node.constValue, !value.isSchemaEqual(to: constValue) {
            return own("must be \(constValue.serializedString)")
        }
        if let enumValues = node.enumValues, !enumValues.contains(where: { value.isSchemaEqual(to: $0) }) {
            return own("must be one of " + enumValues.map(\.serializedString).joined(separator: ", "))
        }

        switch value {
        case .string(let string):
            if node.minLength != nil || node.maxLength != nil {
                let length = string.unicodeScalars.count
                if let min = node.minLength, length < min {
                    return own(min == 1 ? "must not be empty" : "must be at least \(min) characters long")
                }
                if let max = node.maxLength, length > max { return own("must be at most \(max) characters long") }
            }
            if let pattern = node.pattern, !pattern.matches(string) {
                return own("must match the pattern \(pattern.source)")
            }
            if let format = node.format, !format.isValid(string) { return own(format.expectation) }
        case .integer, .double:
            if let minimum = node.minimum, value.compare(to: minimum) == .some(.orderedAscending) {
                return own("must be at least \(minimum.serializedString)")
            }
            if let maximum = node.maximum, value.compare(to: maximum) == .some(.orderedDescending) {
                return own("must be at most \(maximum.serializedString)")
            }
        case .array(let elements):
            if let min = node.minItems, elements.count < min {
                return own(min == 1 ? "must not be empty" : "must have at least \(min) elements")
            }
            if let max = node.maxItems, elements.count > max { return own("must have at most \(max) elements") }
            if let items = node.items {
                for (i, element) in elements.enumerated() {
                    if let violation = check(element, against: items) {
                        return Found(violation: violation.under(.index(i)), own: false)
                    }
                }
            }
        case .object(let object):
            if let found = evaluateMembers(object, node) { return found }
            for key in node.required where object[key] == nil { return own("is required", at: [.key(key)]) }
            if let min = node.minProperties, object.count < min {
                return own(min == 1 ? "must have at least one field" : "must have at least \(min) fields")
            }
            if let max = node.maxProperties, object.count > max {
                return own(max == 0 ? "must be an empty object" : "must have at most \(max) fields")
            }
        case .null, .bool:
            break
        }

        for sub in node.allOf {
            if let found = inPlace(check(value, against: sub)) { return found }
        }
        if let anyOf = node.anyOf, !anyOf.contains(where: { isValid(value, against: $0) }) {
            // Report the first alternative's reason: deterministic, and schemas put the usual case first.
            return inPlace(check(value, against: anyOf[0]))
        }
        if let oneOf = node.oneOf {
            let passing = oneOf.filter { isValid(value, against: $0) }.count
            if passing == 0 { return inPlace(check(value, against: oneOf[0])) }
            if passing > 1 { return own("must match exactly one alternative, but matches \(passing)") }
        }
        if let not = node.not, isValid(value, against: not) { return own("must not match the excluded form") }
        if let ifSchema = node.ifSchema {
            let branch = isValid(value, against: ifSchema) ? node.thenSchema : node.elseSchema
            if let branch, let found = inPlace(check(value, against: branch)) { return found }
        }
        return nil
    }

    private func evaluateMembers(_ object: JSONObject, _ node: SchemaNode) -> Found? {
        for member in object {
            // Dictionary lookup uses canonical equivalence; a key must match a property byte for byte.
            if let slot = node.properties.index(forKey: member.key),
                JSONObject.sameKey(node.properties[slot].key, member.key)
            {
                let sub = node.properties[slot].value
                if let violation = check(member.value, against: sub) {
                    return Found(violation: violation.under(.key(member.key)), own: false)
                }
            } else if let additional = node.additionalProperties {
                if nodes[additional].rejectsEverything {
                    let allowed = node.propertyNames.isEmpty
                        ? "this object takes no fields"
                        : "allowed: " + node.propertyNames.joined(separator: ", ")
                    return Found(
                        violation: SchemaViolation("is not an allowed field (\(allowed))", at: [.key(member.key)]),
                        own: false)
                }
                if let violation = check(member.value, against: additional) {
                    return Found(violation: violation.under(.key(member.key)), own: false)
                }
            }
        }
        return nil
    }
}

extension JSONValue {
    /// JSON Schema equality: strings by exact Unicode scalars (not canonical equivalence), numbers by
    /// value (1 equals 1.0), objects regardless of member order.
    func isSchemaEqual(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.integer, .integer), (.integer, .double), (.double, .integer), (.double, .double):
            return compare(to: other) == .some(.orderedSame)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSchemaEqual(to: $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count
                && a.allSatisfy { member in b[member.key].map { member.value.isSchemaEqual(to: $0) } ?? false }
        default: return false
        }
    }

    /// Numeric ordering of two numbers (exact for two integers), or nil when either is not a number.
    func compare(to other: JSONValue) -> NumericOrder? {
        switch (self, other) {
        case (.integer(let a), .integer(let b)): return a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        case (.integer(let a), .double(let b)): return JSONValue.order(Double(a), b)
        case (.double(let a), .integer(let b)): return JSONValue.order(a, Double(b))
        case (.double(let a), .double(let b)): return JSONValue.order(a, b)
        default: return nil
        }
    }

    private static func order(_ a: Double, _ b: Double) -> NumericOrder {
        a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
    }

    /// The result of ``compare(to:)``.
    enum NumericOrder { case orderedAscending, orderedSame, orderedDescending }
}
