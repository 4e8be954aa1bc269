/// A fast matcher for the patterns Renkei's schemas actually use: `^…$`-anchored sequences of
/// literals and character classes, each with an optional quantifier (`?`, `*`, `+`, `{n}`, `{n,}`,
/// `{n,m}`). `SchemaPattern` tries this first and falls back to `Regex` for anything else.
///
/// Swift's `Regex` costs several microseconds a match on Linux, and every event runs a handful of
/// patterns; this runs in time linear in the string (a set of reachable positions per atom, so
/// no backtracking). Its semantics follow the `Regex` it replaces (tested against it): Unicode
/// scalars, ASCII-only `\d` and `\w`, `\s` as Unicode White_Space.
struct SimplePattern: Sendable {
    /// One character class (a literal is a class of one) with its repetition bounds.
    struct Atom: Sendable {
        var characterClass: CharacterClass
        var min: Int
        var max: Int  // Int.max for unbounded
    }

    /// A set of Unicode scalars.
    struct CharacterClass: Sendable {
        enum Shorthand: Sendable { case digit, word, space }
        var ranges: [ClosedRange<UInt32>] = []
        var shorthands: [(Shorthand, negated: Bool)] = []
        var negated = false

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            let v = scalar.value
            var found = ranges.contains { $0.contains(v) }
            if !found {
                for (shorthand, negated) in shorthands where CharacterClass.matches(shorthand, scalar) != negated {
                    found = true
                    break
                }
            }
            return found != negated
        }

        static func matches(_ shorthand: Shorthand, _ scalar: Unicode.Scalar) -> Bool {
            let v = scalar.value
            switch shorthand {
            case .digit: return (0x30...0x39).contains(v)
            case .word: return (0x30...0x39).contains(v) || (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) || v == 0x5F
            case .space:
                // Unicode White_Space; the ASCII ones answered without the property table.
                if v < 0x80 { return v == 0x20 || (0x09...0x0D).contains(v) }
                return scalar.properties.isWhitespace
            }
        }
    }

    let atoms: [Atom]

    /// Parses `source`, or returns nil when it uses anything beyond the simple subset.
    init?(_ source: String) {
        var parser = Parser(scalars: Array(source.unicodeScalars))
        guard let atoms = parser.parse() else { return nil }
        self.atoms = atoms
    }

    /// Whether the whole of `string` matches (the pattern is anchored at both ends).
    func matches(_ string: String) -> Bool {
        let scalars = Array(string.unicodeScalars)
        let n = scalars.count
        var reachable = [Bool](repeating: false, count: n + 1)
        reachable[0] = true
        var run = [Int](repeating: 0, count: n + 1)
        var marks = [Int](repeating: 0, count: n + 2)
        for atom in atoms {
            // run[p]: how many scalars from p on are in the class.
            run[n] = 0
            var p = n - 1
            while p >= 0 {
                run[p] = atom.characterClass.contains(scalars[p]) ? run[p + 1] + 1 : 0
                p -= 1
            }
            for i in marks.indices { marks[i] = 0 }
            var any = false
            for p in 0...n where reachable[p] {
                let longest = min(atom.max, run[p])
                guard atom.min <= longest else { continue }
                marks[p + atom.min] += 1
                marks[p + longest + 1] -= 1
                any = true
            }
            guard any else { return false }
            var open = 0
            for p in 0...n {
                open += marks[p]
                reachable[p] = open > 0
            }
        }
        return reachable[n]
    }

    // MARK: - Parsing

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        mutating func parse() -> [Atom]? {
            guard scalars.first == "^", scalars.count >= 2, scalars.last == "$" else { return nil }
            // A trailing "\$" is an escaped dollar, not an anchor.
            guard scalars[scalars.count - 2] != "\\" else { return nil }
            index = 1
            var atoms: [Atom] = []
            while index < scalars.count - 1 {
                guard let characterClass = parseAtom() else { return nil }
                var atom = Atom(characterClass: characterClass, min: 1, max: 1)
                if index < scalars.count - 1 {
                    switch scalars[index] {
                    case "?": (atom.min, atom.max) = (0, 1); index += 1
                    case "*": (atom.min, atom.max) = (0, Int.max); index += 1
                    case "+": (atom.min, atom.max) = (1, Int.max); index += 1
                    case "{":
                        guard let bounds = parseBounds() else { return nil }
                        (atom.min, atom.max) = bounds
                    default: break
                    }
                    // Lazy or possessive quantifiers, or a quantifier on a quantifier: not simple.
                    if index < scalars.count - 1, "?*+{".unicodeScalars.contains(scalars[index]) { return nil }
                }
                atoms.append(atom)
            }
            return atoms
        }

        mutating func parseAtom() -> CharacterClass? {
            let scalar = scalars[index]
            switch scalar {
            case "[": return parseClass()
            case "\\":
                index += 1
                guard index < scalars.count - 1 else { return nil }
                var result = CharacterClass()
                if let shorthand = parseShorthand(into: &result) { return shorthand }
                guard let literal = parseEscapedScalar() else { return nil }
                result.ranges = [literal...literal]
                return result
            case ".", "^", "$", "|", "?", "*", "+", "(", ")", "]", "{", "}":
                return nil
            default:
                index += 1
                return CharacterClass(ranges: [scalar.value...scalar.value])
            }
        }

        /// After a backslash: `\d \D \w \W \s \S` as a class of their own.
        mutating func parseShorthand(into result: inout CharacterClass) -> CharacterClass? {
            guard let (shorthand, negated) = shorthand(scalars[index]) else { return nil }
            index += 1
            result.shorthands = [(shorthand, negated)]
            return result
        }

        func shorthand(_ scalar: Unicode.Scalar) -> (CharacterClass.Shorthand, Bool)? {
            switch scalar {
            case "d": return (.digit, false)
            case "D": return (.digit, true)
            case "w": return (.word, false)
            case "W": return (.word, true)
            case "s": return (.space, false)
            case "S": return (.space, true)
            default: return nil
            }
        }

        /// After a backslash: `\uHHHH`, `\xHH`, or an escaped ASCII punctuation character.
        mutating func parseEscapedScalar() -> UInt32? {
            let scalar = scalars[index]
            func hex(_ count: Int) -> UInt32? {
                guard index + 1 + count <= scalars.count else { return nil }
                let digits = String(String.UnicodeScalarView(scalars[(index + 1)..<(index + 1 + count)]))
                guard let value = UInt32(digits, radix: 16), digits.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit)
                else { return nil }
                index += 1 + count
                return value
            }
            switch scalar {
            case "u": return hex(4)
            case "x": return hex(2)
            default:
                guard scalar.isASCII, scalar.properties.isPatternSyntax || scalar == "/" else { return nil }
                index += 1
                return scalar.value
            }
        }

        mutating func parseClass() -> CharacterClass? {
            index += 1  // [
            var result = CharacterClass()
            if index < scalars.count, scalars[index] == "^" {
                result.negated = true
                index += 1
            }
            while index < scalars.count - 1 {
                let scalar = scalars[index]
                if scalar == "]" {
                    // "[]" is an empty class in ECMA-262 but a literal "]" elsewhere: leave it to Regex.
                    guard !result.ranges.isEmpty || !result.shorthands.isEmpty else { return nil }
                    index += 1
                    return result
                }
                guard scalar != "[" else { return nil }  // nested classes and set operations
                var low: UInt32
                if scalar == "\\" {
                    index += 1
                    guard index < scalars.count - 1 else { return nil }
                    if let (shorthand, negated) = shorthand(scalars[index]) {
                        index += 1
                        result.shorthands.append((shorthand, negated))
                        continue
                    }
                    guard let escaped = parseEscapedScalar() else { return nil }
                    low = escaped
                } else {
                    if scalar == "&" || scalar == "~" || scalar == ":", index + 1 < scalars.count,
                        scalars[index + 1] == scalar
                    {
                        return nil  // set operators some engines read inside classes
                    }
                    low = scalar.value
                    index += 1
                }
                // A range "a-b", unless the "-" is the last thing before "]".
                if index + 1 < scalars.count - 1, scalars[index] == "-", scalars[index + 1] != "]" {
                    index += 1
                    var high: UInt32
                    if scalars[index] == "\\" {
                        index += 1
                        guard index < scalars.count - 1, shorthand(scalars[index]) == nil,
                            let escaped = parseEscapedScalar()
                        else { return nil }
                        high = escaped
                    } else {
                        guard scalars[index] != "[" else { return nil }
                        high = scalars[index].value
                        index += 1
                    }
                    guard low <= high else { return nil }
                    result.ranges.append(low...high)
                } else {
                    result.ranges.append(low...low)
                }
            }
            return nil  // unterminated
        }

        mutating func parseBounds() -> (Int, Int)? {
            index += 1  // {
            func number() -> Int? {
                var value: Int?
                while index < scalars.count, let digit = Int(String(scalars[index])), scalars[index].isASCII {
                    value = (value ?? 0) * 10 + digit
                    guard value! < 100_000 else { return nil }
                    index += 1
                }
                return value
            }
            guard let low = number(), index < scalars.count else { return nil }
            var high = low
            if scalars[index] == "," {
                index += 1
                high = number() ?? Int.max
            }
            guard index < scalars.count, scalars[index] == "}", low <= high else { return nil }
            index += 1
            return (low, high)
        }
    }
}
