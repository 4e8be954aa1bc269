import Foundation
import RenkeiCore
import RenkeiSystem

/// `renkeictl shadow diff NAME FILE --mapping M` (issue 17): sends the legacy export and its mapping
/// to `POST /v1/subscriptions/{name}/shadow/diff` and prints the cut-over report.
///
/// Exit status 0 when every person matched and no row was refused; 1 when anything differs, is on
/// one side only, or was refused (or the daemon refused the request).
struct ShadowDiffCommand {
    let runner: Runner
    let options: ControlCommand.ShadowDiffOptions

    func run() throws(SystemError) -> Int32 {
        guard let file = Output.readFile(options.file) else {
            Output.error("renkeictl: cannot read the legacy export \(options.file)")
            return 1
        }
        guard let mapping = Output.readFile(options.mapping) else {
            Output.error("renkeictl: cannot read the mapping \(options.mapping)")
            return 1
        }
        guard let mappingText = String(validating: mapping, as: UTF8.self) else {
            Output.error("renkeictl: the mapping \(options.mapping) is not UTF-8 text (a mapping file is UTF-8 JSON)")
            return 1
        }
        var body: JSONObject = [
            "mapping": .string(mappingText), "mapping_file": .string(options.mapping),
            "file": .string(Data(file).base64EncodedString()), "file_name": .string(options.file),
            "format": .string(options.format), "encoding": .string(options.encoding),
        ]
        if let source = options.source { body["source"] = .string(source) }
        if let limit = options.limit { body["limit"] = .integer(Int64(limit)) }
        Output.progress("shadow diff: comparing \(options.file) with what \(options.name) would hold…")
        let (status, reply) = try runner.call(
            runner.invocation.command.request, body: JSONValue.object(body).serializedBytes, contentType: "application/json")
        Output.endProgress()
        guard status < 400, let reply else { return runner.fail(status, reply) }
        Output.line(runner.invocation.json ? reply.serializedString : Self.render(reply))
        let counts = reply["counts"]
        let clean = counts?["differing"] == 0 && counts?["only_in_renkei"] == 0 && counts?["only_in_legacy"] == 0
            && (reply["refused"]?.arrayValue ?? []).isEmpty
        return clean ? 0 : 1
    }

    /// The report as text: counts first, then each list.
    static func render(_ reply: JSONValue) -> String {
        func number(_ value: JSONValue?) -> String { value?.integerValue.map(String.init) ?? "0" }
        func text(_ value: JSONValue?) -> String {
            switch value {
            case .string(let string)?: return "\"\(string)\""
            case nil, .null?: return "(none)"
            case let other?: return other.serializedString
            }
        }
        let counts = reply["counts"]
        var lines = [
            "cut-over report: subscription \(reply["subscription"]?.stringValue ?? "?") (\(reply["mode"]?.stringValue ?? "?")), "
                + "legacy file \(reply["file"]?.stringValue ?? "?") keyed by \(reply["source"]?.stringValue ?? "?") subjects",
            "  matched         \(number(counts?["matched"]))",
            "  differing       \(number(counts?["differing"]))",
            "  only in Renkei  \(number(counts?["only_in_renkei"]))",
            "  only in legacy  \(number(counts?["only_in_legacy"]))",
            "  refused rows    \((reply["refused"]?.arrayValue ?? []).count)",
        ]
        let compared = reply["compared_fields"]?.arrayValue?.compactMap(\.stringValue) ?? []
        lines.append("  fields compared: \(compared.isEmpty ? "(none)" : compared.joined(separator: ", "))")
        let notCompared = reply["not_compared_fields"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !notCompared.isEmpty {
            lines.append("  not compared (the subscription does not see them): \(notCompared.joined(separator: ", "))")
        }
        if let backlog = reply["backlog"]?.integerValue, backlog > 0 {
            lines.append("  note: \(backlog) delta(s) of the subscription are not recorded yet; run the diff again once its backlog is 0")
        }
        if let withheld = reply["withheld"]?.integerValue, withheld > 0 {
            lines.append("  note: \(withheld) person(s) withheld by the policy in force (compared as absent)")
        }
        if let byField = reply["differing_by_field"]?.objectValue, !byField.isEmpty {
            lines.append("differing, by field:")
            for member in byField { lines.append("  \(member.key): \(number(member.value))") }
        }
        let differing = reply["differing"]?.arrayValue ?? []
        if !differing.isEmpty {
            lines.append("differing:")
            for person in differing {
                lines.append("  \(person["subject"]?.stringValue ?? "?") (\(person["uid"]?.stringValue ?? "?"), line \(number(person["line"])))")
                for field in person["fields"]?.objectValue ?? JSONObject() {
                    lines.append("    \(field.key): Renkei \(text(field.value["renkei"])) / legacy \(text(field.value["legacy"]))")
                }
            }
        }
        let renkeiOnly = reply["only_in_renkei"]?.arrayValue ?? []
        if !renkeiOnly.isEmpty {
            lines.append("only in Renkei:")
            for person in renkeiOnly {
                lines.append("  \(person["subject"]?.stringValue ?? "(not linked to the source)") (\(person["uid"]?.stringValue ?? "?"))")
            }
        }
        let legacyOnly = reply["only_in_legacy"]?.arrayValue ?? []
        if !legacyOnly.isEmpty {
            lines.append("only in legacy:")
            for row in legacyOnly { lines.append("  \(row["subject"]?.stringValue ?? "?") (line \(number(row["line"])))") }
        }
        let refused = reply["refused"]?.arrayValue ?? []
        if !refused.isEmpty {
            lines.append("refused rows:")
            for row in refused {
                let column = row["column"]?.integerValue.map { ", column \($0)" } ?? ""
                lines.append("  line \(number(row["line"]))\(column): \(row["error"]?.stringValue ?? "")")
            }
        }
        if reply["truncated"] == true { lines.append("(lists cut at --limit; counts are complete; --json for the raw report)") }
        return lines.joined(separator: "\n")
    }
}
