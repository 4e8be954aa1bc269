import Foundation
import RenkeiCore
import RenkeiSystem

/// `renkeictl reconcile [CHECK] [--csv] [--state S]`: the 突合 counts, or every page of a check's
/// findings, printed, as JSON (`--json`), or as CP932 CSV on standard output (`--csv`).
struct Reconcile {
    let runner: Runner
    let check: String?
    let csv: Bool
    let state: String?

    func run() throws(SystemError) -> Int32 {
        if check == nil && !csv {
            let (status, reply) = try runner.call(("GET", "/v1/reconciliation"))
            guard status < 400 else { return runner.fail(status, reply) }
            if runner.invocation.json { runner.show(reply) } else { Output.line(Self.countsTable(reply)) }
            return 0
        }
        var checks: [String]
        if let check {
            checks = [check]
        } else {
            let (status, reply) = try runner.call(("GET", "/v1/reconciliation"))
            guard status < 400 else { return runner.fail(status, reply) }
            checks = reply?["checks"]?.objectValue?.keys ?? []
        }
        var all: [(check: String, finding: JSONObject)] = []
        for name in checks {
            var after: String?
            repeat {
                var query = ["limit=1000"]
                if let state { query.append("state=\(Percent.encode(state))") }
                if let after { query.append("after=\(Percent.encode(after))") }
                let target = "/v1/reconciliation/\(Percent.encode(name))?" + query.joined(separator: "&")
                let (status, reply) = try runner.call(("GET", target))
                guard status < 400 else { return runner.fail(status, reply) }
                for finding in reply?["findings"]?.arrayValue ?? [] {
                    if let object = finding.objectValue { all.append((name, object)) }
                }
                after = reply?["next_after"]?.stringValue
            } while after != nil
        }
        if csv {
            FileHandle.standardOutput.write(Data(FindingsCSV.encode(all)))
        } else if runner.invocation.json {
            Output.line(JSONValue.object(["findings": .array(all.map { .object($0.finding) })]).serializedString)
        } else {
            Output.line(ReplyFormatter.render(["findings": .array(all.map { .object($0.finding) })]))
        }
        return 0
    }

    /// `check  open  explained  title`, one line a check.
    static func countsTable(_ reply: JSONValue?) -> String {
        let checks = reply?["checks"]?.objectValue ?? JSONObject()
        let width = max(5, checks.keys.map(TextWidth.columns).max() ?? 0)
        var lines = [TextWidth.padded("check", to: width) + "   open  explained  title"]
        for member in checks {
            let open = member.value["open"]?.integerValue ?? 0
            let explained = member.value["explained"]?.integerValue ?? 0
            let title = member.value["title"]?.stringValue ?? ""
            lines.append(
                TextWidth.padded(member.key, to: width) + "  " + String(repeating: " ", count: max(0, 5 - String(open).count))
                    + String(open) + "  " + String(repeating: " ", count: max(0, 9 - String(explained).count))
                    + String(explained) + "  " + title)
        }
        return lines.joined(separator: "\n")
    }
}
