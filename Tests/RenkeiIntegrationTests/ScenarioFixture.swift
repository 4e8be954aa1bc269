import Foundation
import RenkeiCore

/// One recorded scenario in `Tests/Fixtures/scenarios/<name>/` (issue 7):
///
/// - `renkei.json`: a config template; the runner substitutes `{{state_dir}}`, `{{schemas_dir}}`,
///   `{{status_socket}}`, `{{spool:SOURCE}}`, `{{receiver:SUBSCRIPTION}}`, `{{secret:SUBSCRIPTION}}`
///   and `{{scenario_dir}}` (this folder: a mapping file or a 外字 table kept beside the goldens).
/// - `events*.jsonl`: replayed through `POST /v1/replay`, one request per file, in name order.
/// - `spool/<source>/<file>` (optional): dropped into that source's spool folder after the replays,
///   sources and files in name order, as bytes (a CP932 CSV stays CP932). For a snapshot source
///   (`sources.<name>.files.snapshot`), a file may be held (it would remove too many keys): it must
///   then be that source's last file; the runner records it and discards it as an operator would.
///   Since a full file is compared with the one before it, the second pass drops again only that
///   source's last applied file and the files after it (the same full file twice adds nothing).
/// - `expected-replay.json`, `expected-persons.json`, `expected-households.json`,
///   `expected-deltas.jsonl`, and with spool files `expected-rejected.jsonl` (their
///   `rejected/<file>.errors.jsonl` lines, file by file), and with snapshot sources
///   `expected-snapshots.json` (their runs, oldest first, without times): the goldens, written by
///   `ops/replay-scenario NAME --update` and reviewed.
struct ScenarioFixture: Sendable {
    /// The folder holding every scenario.
    static var root: URL { TestPaths.repoRoot.appendingPathComponent("Tests/Fixtures/scenarios") }

    /// Every scenario folder name, sorted; `RENKEI_SCENARIO` (comma-separated) narrows the list.
    static var names: [String] {
        let all =
            ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/renkei.json").path) }
            .sorted()
        guard let only = ProcessInfo.processInfo.environment["RENKEI_SCENARIO"], !only.isEmpty else { return all }
        let wanted = Set(only.split(separator: ",").map(String.init))
        return all.filter { wanted.contains($0) }
    }

    /// Whether goldens are rewritten instead of compared (`RENKEI_UPDATE_GOLDENS=1`, set by `ops/replay-scenario`).
    static var updating: Bool { ProcessInfo.processInfo.environment["RENKEI_UPDATE_GOLDENS"] == "1" }

    /// The scenario name (its folder).
    let name: String
    /// Its folder.
    var folder: URL { Self.root.appendingPathComponent(name) }

    /// The `events*.jsonl` files, in name order.
    func eventFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("events") && $0.hasSuffix(".jsonl") }
            .sorted()
            .map { folder.appendingPathComponent($0) }
    }

    /// The spool drops: (source, file) pairs under `spool/`, sources and files in name order.
    func spoolFiles() -> [(source: String, file: URL)] {
        let fm = FileManager.default
        let spool = folder.appendingPathComponent("spool")
        guard let sources = try? fm.contentsOfDirectory(atPath: spool.path) else { return [] }
        var out: [(String, URL)] = []
        for source in sources.sorted() {
            let dir = spool.appendingPathComponent(source)
            for file in ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where !file.hasPrefix(".") {
                out.append((source, dir.appendingPathComponent(file)))
            }
        }
        return out
    }

    /// The sources whose `files` have a `snapshot` section (full files compared with the previous one).
    func snapshotSources() throws -> Set<String> {
        let value = try JSONParser.parse(try configTemplate())
        let sources = value["sources"]?.objectValue ?? JSONObject()
        return Set(sources.filter { $0.value["files"]?["snapshot"]?.objectValue != nil }.map(\.key))
    }

    /// The config template text.
    func configTemplate() throws -> String {
        try String(contentsOf: folder.appendingPathComponent("renkei.json"), encoding: .utf8)
    }

    /// The subscription names of the template (each gets a receiver path and a secret).
    func subscriptionNames() throws -> [String] {
        let value = try JSONParser.parse(try configTemplate())
        return value["subscriptions"]?.objectValue?.keys.sorted() ?? []
    }

    /// Household numbers named in the events (`data.household_no`), so households people left are read too.
    func householdNumbersInEvents() throws -> Set<String> {
        var numbers = Set<String>()
        for file in try eventFiles() {
            for line in jsonLines(try String(contentsOf: file, encoding: .utf8)) {
                if let number = JSONValue.parse(bytes: line.bytes)?.at("data", "household_no")?.stringValue {
                    numbers.insert(number)
                }
            }
        }
        return numbers
    }

    /// A golden file's text, or `nil` when it does not exist yet.
    func golden(_ file: String) -> String? {
        try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
    }

    /// Writes a golden file.
    func writeGolden(_ file: String, _ text: String) throws {
        try Data(text.utf8).write(to: folder.appendingPathComponent(file), options: .atomic)
    }
}

/// What one pass over a running daemon collected, as golden text.
struct ScenarioOutcome: Sendable, Equatable {
    /// `expected-persons.json`: a JSON array, one raw person reply a line, uid order.
    var persons: String
    /// `expected-households.json`: a JSON array, one raw household reply a line, number order.
    var households: String
    /// `expected-deltas.jsonl`: one raw delta body a line, by subscription, uid/household, version.
    var deltas: String
}

/// Golden text helpers.
enum GoldenText {
    /// A JSON array with one element a line: `[\n a,\n b\n]\n`.
    static func array(_ lines: [String]) -> String {
        lines.isEmpty ? "[]\n" : "[\n" + lines.joined(separator: ",\n") + "\n]\n"
    }

    /// The elements of a text written by ``array(_:)``.
    static func elements(_ text: String) -> [String] {
        jsonLines(text).filter { $0 != "[" && $0 != "]" && $0 != "[]" }
            .map { $0.hasSuffix(",") ? String($0.dropLast()) : $0 }
    }

    /// A readable difference of two golden texts whose lines are JSON objects, keyed by `key`.
    static func diff(expected: [String], actual: [String], key: (JSONValue) -> String) -> [String] {
        func keyed(_ lines: [String]) -> [(String, String)] {
            lines.map { (key(JSONValue.parse(bytes: $0.bytes) ?? .null), $0) }
        }
        let expectedKeyed = keyed(expected)
        let actualKeyed = keyed(actual)
        let expectedMap = Dictionary(expectedKeyed, uniquingKeysWith: { a, _ in a })
        let actualMap = Dictionary(actualKeyed, uniquingKeysWith: { a, _ in a })
        var report: [String] = []
        for (name, line) in expectedKeyed where actualMap[name] == nil {
            report.append("missing \(name):\n    expected \(line)")
        }
        for (name, line) in actualKeyed where expectedMap[name] == nil {
            report.append("unexpected \(name):\n    actual   \(line)")
        }
        for (name, line) in expectedKeyed {
            guard let other = actualMap[name], other != line else { continue }
            var fields: [String] = []
            let a = JSONValue.parse(bytes: line.bytes)?.objectValue ?? JSONObject()
            let b = JSONValue.parse(bytes: other.bytes)?.objectValue ?? JSONObject()
            for field in a.keys + b.keys.filter({ a[$0] == nil }) where a[field] != b[field] {
                fields.append(
                    "      \(field): expected \(a[field]?.serializedString ?? "(absent)") actual \(b[field]?.serializedString ?? "(absent)")"
                )
            }
            if fields.isEmpty { fields.append("      (same values, different bytes: key order or spacing)") }
            report.append("changed \(name):\n    expected \(line)\n    actual   \(other)\n" + fields.joined(separator: "\n"))
        }
        if report.isEmpty, expected != actual { report.append("same lines, different order") }
        return report
    }
}
