import Foundation
import RenkeiCore
import RenkeiStore

/// Computes a shadow subscription's cut-over report (issue 17, `renkeictl shadow diff NAME FILE
/// --mapping M`): the legacy export is read through a mapping as a mapped source's file is
/// (``SpoolIngest/decodeMapped(_:mapping:files:)``), and compared with what the subscription would
/// hold now (``ShadowDiff``).
///
/// What Renkei would hold: per person, the newest delta the subscription shadowed (or, once live,
/// delivered), household deltas, `person.merged` and uids a merge retired aside, with the policy in force now applied to
/// it exactly as a send would (``DeliveryRedaction``); a delta the policy would not let leave now
/// is counted as `withheld` and compared as absent. `my_number` is never compared (its stored form
/// is sealed) and never shown.
struct ShadowDiffer {
    /// The request body of `POST /v1/subscriptions/{name}/shadow/diff`.
    struct Request: Sendable {
        /// Why a body was refused (`400`), naming the key.
        struct Invalid: Error {
            var message: String
        }

        /// The mapping file's text.
        var mapping: [UInt8]
        /// The mapping file's name, for messages.
        var mappingFile: String
        /// The legacy export's bytes.
        var file: [UInt8]
        /// The legacy export's name, for messages.
        var fileName: String
        /// `csv` or `fixed`.
        var format: FileMapping.Format
        /// `utf-8`, `cp932` or `euc-jp`.
        var encoding: String
        /// The source whose subjects key the file (default: the subscription's `linked_to`).
        var source: String?
        /// How many entries each list of the report keeps.
        var limit: Int

        /// Reads the JSON body; the message names the key at fault.
        static func parse(_ body: [UInt8]) -> Result<Request, Invalid> {
            guard let object = (try? JSONParser.parse(body))?.objectValue else {
                return .failure(Invalid(message: "the body is a JSON object {\"mapping\": TEXT, \"file\": BASE64, …} (renkeictl shadow diff builds it)"))
            }
            guard let mapping = object["mapping"]?.stringValue else { return .failure(Invalid(message: "mapping: the mapping file's text is required")) }
            guard let encoded = object["file"]?.stringValue, let file = Data(base64Encoded: encoded) else {
                return .failure(Invalid(message: "file: the legacy export, base64-encoded, is required"))
            }
            let format = object["format"]?.stringValue ?? "csv"
            guard let parsedFormat = FileMapping.Format(rawValue: format) else { return .failure(Invalid(message: "format: must be \"csv\" or \"fixed\"")) }
            let encoding = (object["encoding"]?.stringValue ?? "utf-8").lowercased()
            guard ["utf-8", "utf8", "cp932", "windows-31j", "shift_jis", "sjis", "euc-jp", "eucjp"].contains(encoding) else {
                return .failure(Invalid(message: "encoding: must be \"utf-8\", \"cp932\" or \"euc-jp\""))
            }
            let limit = object["limit"]?.integerValue ?? 1000
            guard (0...100_000).contains(limit) else { return .failure(Invalid(message: "limit: a whole number from 0 to 100000")) }
            return .success(Request(
                mapping: Array(mapping.utf8), mappingFile: object["mapping_file"]?.stringValue ?? "mapping",
                file: Array(file), fileName: object["file_name"]?.stringValue ?? "file", format: parsedFormat,
                encoding: encoding, source: object["source"]?.stringValue, limit: Int(limit)))
        }
    }

    /// A refusal of the whole request: its status and message.
    struct Refusal: Error {
        var status: Int
        var message: String
    }

    let service: RenkeiService

    /// The report, or a refusal (400: the request; 404: no such subscription; 422: the mapping or file).
    func report(subscription name: String, _ request: Request) async throws -> Result<JSONValue, Refusal> {
        guard let subscription = service.configuration.subscriptions[name] else {
            return .failure(Refusal(status: 404, message: "no subscription \(name) (see renkeictl status)"))
        }
        guard let source = request.source ?? subscription.policy.linkedTo else {
            return .failure(Refusal(
                status: 400,
                message: "subscriptions.\(name) has no linked_to: give --source S, the source whose subject the legacy file's key column holds (e.g. resident for 宛名番号)"))
        }
        guard service.configuration.sources[source] != nil else {
            return .failure(Refusal(status: 400, message: "source \(source) is not configured under sources"))
        }
        let mapping: FileMapping
        do throws(MappingError) {
            mapping = try FileMapping(
                text: request.mapping, file: request.mappingFile, source: source, format: request.format,
                schemas: service.ingestor.validator.schemaSet)
        } catch {
            return .failure(Refusal(status: 422, message: error.description))
        }
        let files = Configuration.Files(format: request.format.rawValue, encoding: request.encoding)
        let decoded: SpoolIngest.DecodedFile
        switch service.spool.decodeMapped(request.file, mapping: mapping, files: files) {
        case .success(let value): decoded = value
        case .failure(let refusal):
            return .failure(Refusal(status: 422, message: "\(request.fileName): line \(refusal.line): \(refusal.error)"))
        }
        var refused: [JSONValue] = decoded.rejections.map { Self.refusal($0.line, $0.column, $0.error) }
        var rows: [ShadowDiff.LegacyRow] = []
        var firstLine: [String: Int] = [:]
        var skippedRows = 0
        for row in decoded.rows {
            let events: [JSONValue]
            switch decoded.mapped.events(cells: row.cells, line: row.line) {
            case .success(let value): events = value
            case .failure(let error):
                refused.append(Self.refusal(row.line, error.column, error.description))
                continue
            }
            guard let subject = events.first?["subject"]?.stringValue, !subject.isEmpty else {
                if events.isEmpty { skippedRows += 1 } else { refused.append(Self.refusal(row.line, nil, "the key (subject) is empty")) }
                continue
            }
            if let earlier = firstLine[subject] {
                refused.append(Self.refusal(row.line, nil, "key \(subject) repeats line \(earlier): a legacy export lists each person once"))
                continue
            }
            firstLine[subject] = row.line
            var data = JSONObject()
            for event in events {
                for member in event["data"]?.objectValue ?? JSONObject() { data[member.key] = member.value }
            }
            rows.append(ShadowDiff.LegacyRow(subject: subject, line: row.line, data: data))
        }
        let legacy = rows
        let policy = subscription.policy
        let visible = Set(policy.fields).subtracting(["my_number"])
        let limit = request.limit
        let (diff, withheld, counts) = try await service.store.read { db -> (ShadowDiff, Int, Outbox.Counts) in
            var diff = ShadowDiff(legacy: legacy, visibleFields: visible, limit: limit)
            var withheld = 0
            let subjects = try Outbox.subjects(source: source, in: db)
            let seqs = try Outbox.heldSeqs(subscription: name, in: db)
            var start = 0
            while start < seqs.count {
                let batch = Array(seqs[start..<min(start + 500, seqs.count)])
                start += 500
                let read = try Outbox.deltas(seqs: batch, linkedTo: policy.linkedTo, in: db).sorted { $0.pending.uid < $1.pending.uid }
                for (_, pending, facts) in read where pending.kind != "person.merged" {
                    guard case .send(let outgoing) = try DeliveryRedaction.prepare(pending, facts: facts, policy: policy, reader: db),
                        var view = (try? JSONParser.parse(outgoing.body))?["view"]?.objectValue
                    else {
                        withheld += 1
                        continue
                    }
                    view["my_number"] = nil
                    diff.add(ShadowDiff.HeldPerson(uid: pending.uid, subjects: subjects[pending.uid] ?? [], view: view))
                }
            }
            diff.finish()
            return (diff, withheld, try Outbox.counts(subscription: name, in: db))
        }
        var reply = diff.json
        reply["subscription"] = .string(name)
        reply["mode"] = .string(subscription.mode.rawValue)
        reply["source"] = .string(source)
        reply["file"] = .string(request.fileName)
        reply["rows"] = .integer(Int64(rows.count))
        reply["skipped_rows"] = .integer(Int64(skippedRows))
        reply["refused"] = .array(refused.sorted { ($0["line"]?.integerValue ?? 0) < ($1["line"]?.integerValue ?? 0) })
        reply["withheld"] = .integer(Int64(withheld))
        reply["backlog"] = .integer(counts.backlog)
        return .success(.object(reply))
    }

    private static func refusal(_ line: Int, _ column: Int?, _ error: String) -> JSONValue {
        ["line": .integer(Int64(line)), "column": column.map { .integer(Int64($0)) } ?? .null, "error": .string(error)]
    }
}
