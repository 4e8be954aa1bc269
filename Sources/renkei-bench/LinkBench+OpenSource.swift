import Foundation
import RenkeiCore

/// The open-source linker row of `ops/bench link` (issue 14): `ops/bench-oss-linker.py` run on
/// exactly the residents and records the bench links, exported to CSV, in a Python that has the
/// linker's package (`ops/bench` installs `recordlinkage` into a venv under the bench scratch
/// directory). Its precision, recall and F1 count pairs, as the package's own evaluation does; a
/// second row keeps each record's most probable resident only, as the bench's linker links a
/// record to one resident at most.
struct OpenSourceLinker {
    /// Whether the row can be printed, and why not.
    enum Availability {
        case ready(OpenSourceLinker)
        case skipped(String)
    }

    /// One row's figures, as the script prints them.
    struct Outcome {
        var label: String
        var precision: Double, recall: Double, f1: Double
        var links: Int, wrong: Int, twins: Int
        /// Candidate pairs, time and the like, for the note under the table.
        var note: String
    }

    struct Failure: Error {
        var message: String
    }

    /// The Python interpreter with the package.
    var python: String
    /// The script.
    var script: String

    /// `RENKEI_OSS_PYTHON` (the interpreter, set by `ops/bench` once the venv has the package)
    /// and `RENKEI_OSS_SCRIPT` (default `ops/bench-oss-linker.py`); `RENKEI_OSS_SKIPPED` says
    /// why `ops/bench` could not install it.
    static func fromEnvironment() -> Availability {
        let environment = ProcessInfo.processInfo.environment
        guard let python = environment["RENKEI_OSS_PYTHON"], !python.isEmpty else {
            return .skipped(
                environment["RENKEI_OSS_SKIPPED"]
                    ?? "RENKEI_OSS_PYTHON not set (`ops/bench link` sets it when pip can install recordlinkage)")
        }
        let script = environment["RENKEI_OSS_SCRIPT"] ?? "ops/bench-oss-linker.py"
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: script)
        else {
            return .skipped("no \(python) or no \(script)")
        }
        return .ready(OpenSourceLinker(python: python, script: script))
    }

    /// Writes the population to two CSV files, runs the script on them and reads its result lines.
    func run(_ population: LinkPopulation) -> Result<[Outcome], Failure> {
        let directory = NSTemporaryDirectory() + "renkei-bench-oss-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.csv(
                population.residents.enumerated().map { number, resident in
                    (number + 1, resident.identity, resident.twin.map { $0 + 1 })
                }, header: "twin"
            ).write(toFile: directory + "/residents.csv", atomically: true, encoding: .utf8)
            try Self.csv(
                population.records.enumerated().map { offset, record in
                    (population.residents.count + offset + 1, record.identity, record.truth.map { $0 + 1 })
                }, header: "truth"
            ).write(toFile: directory + "/records.csv", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script, directory + "/residents.csv", directory + "/records.csv"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            let lines = text.split(separator: "\n").filter { $0.hasPrefix("result ") }
            guard process.terminationStatus == 0, !lines.isEmpty else {
                return .failure(Failure(message: "\(script) exited \(process.terminationStatus) (its stderr is above)"))
            }
            var outcomes: [Outcome] = []
            for line in lines {
                guard let outcome = Self.outcome(line) else {
                    return .failure(Failure(message: "unreadable result line: \(line)"))
                }
                outcomes.append(outcome)
            }
            return .success(outcomes)
        } catch {
            return .failure(Failure(message: "\(error)"))
        }
    }

    /// `result label=… precision=… recall=… f1=… links=… wrong=… twins=… note=…` (note last, may hold spaces).
    static func outcome(_ line: Substring) -> Outcome? {
        var fields: [String: String] = [:]
        var rest = line.dropFirst("result ".count)
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let key = String(rest[..<equals])
            let valueStart = rest.index(after: equals)
            if key == "note" {
                fields[key] = String(rest[valueStart...])
                break
            }
            let end = rest[valueStart...].firstIndex(of: " ") ?? rest.endIndex
            fields[key] = String(rest[valueStart..<end]).replacingOccurrences(of: "_", with: " ")
            rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...]
        }
        guard let label = fields["label"], let precision = fields["precision"].flatMap(Double.init),
            let recall = fields["recall"].flatMap(Double.init), let f1 = fields["f1"].flatMap(Double.init),
            let links = fields["links"].flatMap(Int.init), let wrong = fields["wrong"].flatMap(Int.init),
            let twins = fields["twins"].flatMap(Int.init)
        else { return nil }
        return Outcome(
            label: label, precision: precision, recall: recall, f1: f1, links: links, wrong: wrong, twins: twins,
            note: fields["note"] ?? "")
    }

    /// `id,name,name_kana,birth_date,sex,address,<last>` with every text quoted.
    static func csv(_ rows: [(Int, JSONObject, Int?)], header last: String) -> String {
        let fields = ["name", "name_kana", "birth_date", "sex", "address"]
        var text = "id," + fields.joined(separator: ",") + "," + last + "\n"
        for (number, identity, other) in rows {
            text += String(number)
            for field in fields {
                let value = identity[field]?.stringValue ?? ""
                text += ",\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            text += "," + (other.map(String.init) ?? "") + "\n"
        }
        return text
    }
}
