/// The first way an instance fails a schema: where (a JSON path) and what was expected.
///
/// The reason never quotes the instance's value, only what the schema expects, so a violation can be
/// shown or logged even when the value is a 個人番号.
struct SchemaViolation: Sendable, Hashable {
    /// One step of a path: an object key or an array index.
    enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// The path from the validated value's root, built innermost-first while the evaluator unwinds.
    var reversedPath: [Step]
    /// Human text that says what is expected.
    var reason: String

    init(_ reason: String, at reversedPath: [Step] = []) {
        self.reversedPath = reversedPath
        self.reason = reason
    }

    /// The path from the root, outermost first.
    var path: [Step] { reversedPath.reversed() }

    /// The dotted path (`data.guardians[0].name`) under `prefix`, or `prefix` itself (nil at the root).
    func dottedPath(prefix: String? = nil) -> String? {
        var result = prefix ?? ""
        for step in path {
            switch step {
            case .key(let key):
                if !result.isEmpty { result += "." }
                result += key
            case .index(let index):
                result += "[\(index)]"
            }
        }
        return result.isEmpty ? nil : result
    }

    /// This violation one level further down: the caller's step is prepended.
    func under(_ step: Step) -> SchemaViolation {
        var copy = self
        copy.reversedPath.append(step)
        return copy
    }
}
