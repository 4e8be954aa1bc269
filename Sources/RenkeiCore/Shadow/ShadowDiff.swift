/// The cut-over report of a shadow subscription (issue 17): what Renkei would have delivered,
/// person by person and field by field, against a legacy system's export of the same data.
///
/// Persons are matched by the legacy file's key, the `subject` its mapping reads (宛名番号,
/// 利用者番号, …), against the subjects the Renkei person is linked to in that same source; a
/// person linked to two subjects of the source is looked up under each. The fields compared are
/// the legacy row's `data` leaves (`name`, `library.card_no`, …) whose top-level key the
/// subscription may see; the others are listed as not compared. Each leaf is compared with the
/// same path of the view Renkei would hold now; a missing value is `null`. Scalars are equal when
/// their JSON values are, or when their text is (`1` and `"1"`).
///
/// Fill it from the legacy rows, ``add(_:)`` each person Renkei holds, then ``finish()``.
/// Counts are exact; the lists stop at `limit` entries each (`truncated` says so).
public struct ShadowDiff: Sendable {
    /// One row of the legacy export, as its mapping read it.
    public struct LegacyRow: Sendable, Equatable {
        /// The row's key (the mapping's `subject`).
        public var subject: String
        /// The row's 1-based line in the file.
        public var line: Int
        /// The row's `data`, flattened to dotted leaf paths.
        public var fields: [String: JSONValue]

        /// Creates a row.
        public init(subject: String, line: Int, fields: [String: JSONValue]) {
            self.subject = subject
            self.line = line
            self.fields = fields
        }

        /// Creates a row from a mapped envelope's `data` object (flattened to leaf paths).
        public init(subject: String, line: Int, data: JSONObject) {
            var fields: [String: JSONValue] = [:]
            ShadowDiff.flatten(.object(data), prefix: "", into: &fields)
            self.init(subject: subject, line: line, fields: fields)
        }
    }

    /// One person as the subscription would hold them now.
    public struct HeldPerson: Sendable, Equatable {
        /// The person's uid.
        public var uid: String
        /// The person's subjects in the legacy file's source (none: not linked to it).
        public var subjects: [String]
        /// The view the subscription would hold (policy applied).
        public var view: JSONObject

        /// Creates a person.
        public init(uid: String, subjects: [String], view: JSONObject) {
            self.uid = uid
            self.subjects = subjects
            self.view = view
        }
    }

    /// One field that differs.
    public struct FieldDifference: Sendable, Equatable {
        /// The dotted path (`address`, `library.card_no`).
        public var field: String
        /// What Renkei would hold (`null` when it holds nothing).
        public var renkei: JSONValue
        /// What the legacy file holds.
        public var legacy: JSONValue

        /// Creates a difference.
        public init(field: String, renkei: JSONValue, legacy: JSONValue) {
            self.field = field
            self.renkei = renkei
            self.legacy = legacy
        }
    }

    /// A person found on both sides whose compared fields differ.
    public struct Differing: Sendable, Equatable {
        /// The key both sides share.
        public var subject: String
        /// The Renkei person.
        public var uid: String
        /// The legacy row's line.
        public var line: Int
        /// The fields that differ, in path order.
        public var differences: [FieldDifference]

        /// Creates an entry.
        public init(subject: String, uid: String, line: Int, differences: [FieldDifference]) {
            self.subject = subject
            self.uid = uid
            self.line = line
            self.differences = differences
        }
    }

    /// Persons found on both sides with every compared field equal.
    public private(set) var matched = 0
    /// How many persons differ (``differing`` lists the first `limit`).
    public private(set) var differingCount = 0
    /// How many persons Renkei holds that the legacy file lacks.
    public private(set) var onlyInRenkeiCount = 0
    /// How many legacy rows match no Renkei person.
    public private(set) var onlyInLegacyCount = 0
    /// The first `limit` differing persons.
    public private(set) var differing: [Differing] = []
    /// The first `limit` persons only Renkei holds: uid, and the subject (nil when not linked to the source).
    public private(set) var onlyInRenkei: [(uid: String, subject: String?)] = []
    /// The first `limit` legacy rows no Renkei person matches.
    public private(set) var onlyInLegacy: [(subject: String, line: Int)] = []
    /// Per field, how many persons differ in it.
    public private(set) var differingByField: [String: Int] = [:]
    /// The fields compared (present in some legacy row and visible to the subscription).
    public let compared: [String]
    /// Legacy fields the subscription may not see: never compared.
    public let notCompared: [String]
    /// Whether any list stopped at `limit`.
    public private(set) var truncated = false

    private let rows: [String: LegacyRow]
    private let comparedSet: Set<String>
    private var seen: Set<String> = []
    private let limit: Int

    /// Starts a comparison.
    /// - Parameters:
    ///   - legacy: the legacy rows (one per subject; the caller refuses repeats).
    ///   - visibleFields: the subscription's `fields`: a legacy leaf is compared when its top-level key is one.
    ///   - limit: how many entries each list keeps.
    public init(legacy: [LegacyRow], visibleFields: Set<String>, limit: Int) {
        var rows: [String: LegacyRow] = [:]
        var paths: Set<String> = []
        for row in legacy {
            rows[row.subject] = row
            paths.formUnion(row.fields.keys)
        }
        self.rows = rows
        self.limit = max(0, limit)
        compared = paths.filter { visibleFields.contains(Self.topLevel($0)) }.sorted()
        comparedSet = Set(compared)
        notCompared = paths.filter { !visibleFields.contains(Self.topLevel($0)) }.sorted()
    }

    /// Compares one person Renkei would hold.
    public mutating func add(_ person: HeldPerson) {
        if person.subjects.isEmpty {
            renkeiOnly(person.uid, nil)
            return
        }
        for subject in person.subjects {
            guard let row = rows[subject] else {
                renkeiOnly(person.uid, subject)
                continue
            }
            seen.insert(subject)
            var differences: [FieldDifference] = []
            for field in row.fields.keys.sorted() where comparedSet.contains(field) {
                let legacy = row.fields[field] ?? .null
                let renkei = Self.value(at: field, in: person.view)
                if !Self.same(renkei, legacy) {
                    differences.append(FieldDifference(field: field, renkei: renkei, legacy: legacy))
                }
            }
            if differences.isEmpty {
                matched += 1
                continue
            }
            differingCount += 1
            for difference in differences { differingByField[difference.field, default: 0] += 1 }
            if differing.count < limit {
                differing.append(Differing(subject: subject, uid: person.uid, line: row.line, differences: differences))
            } else {
                truncated = true
            }
        }
    }

    /// Lists the legacy rows no person matched (in line order). Call once, after the last ``add(_:)``.
    public mutating func finish() {
        for row in rows.values.sorted(by: { $0.line < $1.line }) where !seen.contains(row.subject) {
            onlyInLegacyCount += 1
            if onlyInLegacy.count < limit {
                onlyInLegacy.append((row.subject, row.line))
            } else {
                truncated = true
            }
        }
    }

    private mutating func renkeiOnly(_ uid: String, _ subject: String?) {
        onlyInRenkeiCount += 1
        if onlyInRenkei.count < limit {
            onlyInRenkei.append((uid, subject))
        } else {
            truncated = true
        }
    }

    /// The report's JSON (`counts`, `matched`, `differing`, `only_in_renkei`, `only_in_legacy`, …).
    public var json: JSONObject {
        let counts: JSONObject = [
            "matched": .integer(Int64(matched)), "differing": .integer(Int64(differingCount)),
            "only_in_renkei": .integer(Int64(onlyInRenkeiCount)), "only_in_legacy": .integer(Int64(onlyInLegacyCount)),
        ]
        var byField = JSONObject()
        for field in differingByField.keys.sorted() { byField[field] = .integer(Int64(differingByField[field] ?? 0)) }
        return [
            "counts": .object(counts),
            "matched": .integer(Int64(matched)),
            "differing": .array(differing.map { person in
                var fields = JSONObject()
                for difference in person.differences {
                    fields[difference.field] = ["renkei": difference.renkei, "legacy": difference.legacy]
                }
                return [
                    "subject": .string(person.subject), "uid": .string(person.uid), "line": .integer(Int64(person.line)),
                    "fields": .object(fields),
                ]
            }),
            "only_in_renkei": .array(onlyInRenkei.map { ["uid": .string($0.uid), "subject": $0.subject.map { .string($0) } ?? .null] }),
            "only_in_legacy": .array(onlyInLegacy.map { ["subject": .string($0.subject), "line": .integer(Int64($0.line))] }),
            "differing_by_field": .object(byField),
            "compared_fields": .array(compared.map { .string($0) }),
            "not_compared_fields": .array(notCompared.map { .string($0) }),
            "truncated": .bool(truncated),
        ]
    }

    // MARK: - Values

    static func topLevel(_ path: String) -> String {
        path.split(separator: ".", maxSplits: 1).first.map(String.init) ?? path
    }

    /// Objects become their leaves (`library.card_no`); anything else is a leaf.
    static func flatten(_ value: JSONValue, prefix: String, into fields: inout [String: JSONValue]) {
        guard case .object(let object) = value, !object.isEmpty || prefix.isEmpty else {
            fields[prefix] = value
            return
        }
        for member in object {
            flatten(member.value, prefix: prefix.isEmpty ? member.key : prefix + "." + member.key, into: &fields)
        }
    }

    /// The value at a dotted path of `view`, or `null`.
    static func value(at path: String, in view: JSONObject) -> JSONValue {
        var current = JSONValue.object(view)
        for key in path.split(separator: ".") {
            guard let next = current.objectValue?[String(key)] else { return .null }
            current = next
        }
        return current
    }

    /// Equal JSON, or scalars with the same text.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if a == b { return true }
        guard let left = scalarText(a), let right = scalarText(b) else { return false }
        return left == right
    }

    private static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .integer(let number): return String(number)
        case .double(let number): return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }
}
