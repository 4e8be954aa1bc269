import RenkeiCore
import RenkeiSystem

/// `renkeictl replay FILE`: sends the file's JSONL in chunks and renumbers rejections to file lines.
struct Replay {
    let runner: Runner
    let file: String
    let chunkLines: Int

    func run() throws(SystemError) -> Int32 {
        guard let bytes = Output.readFile(file) else {
            Output.error("renkeictl: cannot read \(file); check the path and its permissions")
            return 2
        }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var accepted: Int64 = 0
        var duplicates: Int64 = 0
        var rejected: [(line: Int, error: String)] = []
        var start = 0
        while start < lines.count {
            let end = min(lines.count, start + chunkLines)
            var body: [UInt8] = []
            for line in lines[start..<end] {
                body += line
                body.append(0x0A)
            }
            Output.progress("replay: \(start)/\(lines.count) lines")
            let (status, reply) = try runner.call(
                ControlCommand.replay(file: file, chunkLines: chunkLines).request, body: body,
                contentType: "application/x-ndjson")
            guard status < 400, let reply else {
                Output.endProgress()
                if start > 0 { Output.error("renkeictl: lines 1–\(start) of \(file) were sent and committed before this error") }
                return runner.fail(status, reply)
            }
            accepted += reply["accepted"]?.integerValue ?? 0
            duplicates += reply["duplicates"]?.integerValue ?? 0
            for item in reply["rejected"]?.arrayValue ?? [] {
                let line = Int(item["line"]?.integerValue ?? 0)
                rejected.append((start + line, item["error"]?.stringValue ?? "rejected"))
            }
            start = end
        }
        Output.endProgress()
        if runner.invocation.json {
            let items = rejected.map { JSONValue.object(["line": .integer(Int64($0.line)), "error": .string($0.error)]) }
            let summary: JSONValue = .object([
                "accepted": .integer(accepted), "duplicates": .integer(duplicates), "rejected": .array(items),
            ])
            Output.line(summary.serializedString)
        } else {
            Output.line(ReplyFormatter.render(.object([
                "accepted": .integer(accepted), "duplicates": .integer(duplicates),
                "rejected": .integer(Int64(rejected.count)),
            ])))
            for item in rejected { Output.line("\(file):\(item.line): \(item.error)") }
        }
        return rejected.isEmpty ? 0 : 1
    }
}
