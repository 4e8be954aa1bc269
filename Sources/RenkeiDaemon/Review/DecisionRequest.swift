import RenkeiCore
import RenkeiStore

/// An operator decision the status socket refuses as asked: the HTTP status and a message that
/// names the field and says what to send instead.
struct DecisionRefusal: Error {
    let status: Int
    let message: String

    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// The JSON bodies of the decision routes (contract §6): `{uid}` for a review link, `{uid, source,
/// subject}` for `POST`/`DELETE /v1/links`. Exactly these keys, as strings; anything else is a 400
/// that names the field, so a typo never turns into a decision nobody asked for.
struct DecisionRequest {
    var uid: String
    var source: String?
    var subject: String?

    /// Reads a body that must hold exactly `keys`.
    /// - Parameters:
    ///   - body: the request body.
    ///   - keys: `["uid"]` or `["uid", "source", "subject"]`.
    ///   - sources: the configured source names (`source` must be one of them).
    /// - Throws: ``DecisionRefusal`` with status 400.
    static func parse(_ body: [UInt8], keys: [String], sources: Set<String>) throws(DecisionRefusal) -> DecisionRequest {
        let shape = "{" + keys.map { "\"\($0)\": \($0 == "uid" ? "\"U…\"" : "\"…\"")" }.joined(separator: ", ") + "}"
        guard let object = (try? JSONParser.parse(body))?.objectValue else {
            throw DecisionRefusal(400, "the body must be one JSON object \(shape)")
        }
        for key in object.keys.sorted() where !keys.contains(key) {
            throw DecisionRefusal(400, "\(key): unknown key; send only \(shape)")
        }
        var values: [String: String] = [:]
        for key in keys {
            guard let value = object[key], !value.isNull else { throw DecisionRefusal(400, "\(key): required; send \(shape)") }
            guard let text = value.stringValue else { throw DecisionRefusal(400, "\(key): must be a string") }
            values[key] = text
        }
        let uid = values["uid"] ?? ""
        guard isUID(uid) else {
            throw DecisionRefusal(400, "uid: must be U followed by 10 digits, e.g. U0000000001")
        }
        if let source = values["source"], !sources.contains(source) {
            throw DecisionRefusal(
                400, "source: '\(source)' is not a configured source (configured: \(sources.sorted().joined(separator: ", ")))")
        }
        if let subject = values["subject"], subject.isEmpty {
            throw DecisionRefusal(400, "subject: must not be empty")
        }
        return DecisionRequest(uid: uid, source: values["source"], subject: values["subject"])
    }

    /// `U` + 10 ASCII digits.
    static func isUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 11 && bytes[0] == UInt8(ascii: "U") && bytes.dropFirst().allSatisfy { (0x30...0x39).contains($0) }
    }
}

/// What the decision routes need to know about persons, read from the stored projection (a
/// read-only connection, so a request never waits for the writer).
struct DecisionLookup {
    let db: Database

    /// The stored person record, if the uid was ever allocated.
    func record(_ uid: String) throws -> PersonRecord? {
        try ProjectionStore.personRecord(uid, in: db)
    }

    /// The live uid a uid stands for (following `merged_into`), or `nil` for an unknown uid.
    func live(_ uid: String) throws -> String? {
        var current = uid
        for _ in 0..<64 {
            guard let record = try record(current) else { return nil }
            guard let next = record.mergedInto else { return current }
            current = next
        }
        return current
    }

    /// Refuses an operator link that would put two active registry records (two 宛名番号 in use)
    /// on one person. A 再転入 — a new registration linked to the moved-out or deceased one — is
    /// allowed: only one of the two is active.
    /// - Throws: ``DecisionRefusal`` with status 409.
    func checkRegistry(linking source: String, _ subject: String, to target: PersonRecord) throws {
        guard source == "resident" else { return }
        let active = { (record: SourceRecord) in
            record.link.source == "resident" && record.facts["status"]?.stringValue == "active"
        }
        guard let other = target.records.first(where: { active($0) && $0.link.subject != subject }) else { return }
        let owner = try ProjectionStore.uid(source: source, subject: subject, in: db).flatMap(record)
        let linked = owner?.records.first { $0.link.source == source && $0.link.subject == subject }
        // A registry record not seen yet will be active when it arrives.
        if let linked, !active(linked) { return }
        throw DecisionRefusal(
            409,
            "\(target.uid) already has the active registration \(other.link.subject), and resident \(subject) is active too: "
                + "two 宛名番号 in use are two people to the registry; resolve the double registration there first")
    }
}
