import Foundation
public import RenkeiCore

extension Configuration {
    /// `subscriptions.<name>.file` (contract §7, issue 17): deltas written as files into a folder
    /// instead of POSTed to a `url`.
    public struct FileTarget: Sendable, Hashable {
        /// `dir`: the folder the files are written to (absolute; it must exist and be writable).
        public var directory: String
        /// `csv`, `fixed` or `jsonl` (one delta body per line, UTF-8).
        public var format: String
        /// `utf-8` or `cp932`.
        public var encoding: String
        /// The output mapping (`mapping`; required for csv and fixed), read at start-up.
        public var mapping: OutputMapping?
        /// `cut_every_s`: a file with rows is closed this long after its first row (default 60).
        public var cutEverySeconds: Double
        /// `cut_every_rows`: a file is closed once it holds this many rows (default 10,000).
        public var cutEveryRows: Int
        /// `done_marker`: after each file, write an empty `<file>.done` beside it (default false).
        public var doneMarker: Bool
        /// `export_every_s`: write a full export (全件) of the subscription's views this often (off when nil).
        public var exportEverySeconds: Double?

        /// Whether values are written in CP932.
        public var isCP932: Bool { encoding == "cp932" }
        /// The file name extension (`csv`, `dat`, `jsonl`).
        public var fileExtension: String { format == "fixed" ? "dat" : format }
    }
}

extension ConfigReader {
    /// The keys of an HTTP subscription that mean nothing for a file one: given with `file`, they
    /// are refused rather than ignored (an operator who writes them expects them to act).
    static let httpOnlyKeys = ["secret_file", "headers", "tls", "max_in_flight", "max_attempts", "timeout_s", "connect_timeout_s", "retry_base_s"]

    /// Reads `subscriptions.<name>.file`; `fields` are the subscription's, which the mapping's
    /// `view.X` paths must stay within.
    func fileTarget(_ object: JSONObject, path: String, fields: [String]) throws(RenkeiError) -> Configuration.FileTarget {
        try allowOnly(
            object, path: path,
            ["dir", "format", "encoding", "mapping", "cut_every_s", "cut_every_rows", "done_marker", "export_every_s"])
        let dir = try string(object, "dir", path: path)
        guard dir.hasPrefix("/") else { throw error("\(path).dir", "must be an absolute path, e.g. \"/var/spool/renkei/out/library\"") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw error("\(path).dir", "\(dir) is not a folder: create it (owner renkei, group of the transfer product, mode 2770)")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else {
            throw error("\(path).dir", "renkeid may not write to \(dir): give the renkei user write access")
        }
        let format = try optionalString(object, "format", path: path) ?? "csv"
        guard ["csv", "fixed", "jsonl"].contains(format) else { throw error("\(path).format", "must be \"csv\", \"fixed\" or \"jsonl\"") }
        let encoding: String
        switch (try optionalString(object, "encoding", path: path) ?? "utf-8").lowercased() {
        case "utf-8", "utf8": encoding = "utf-8"
        case "cp932", "windows-31j", "ms932", "shift_jis", "sjis": encoding = "cp932"
        default: throw error("\(path).encoding", "must be \"utf-8\" or \"cp932\"")
        }
        if format == "jsonl", encoding != "utf-8" {
            throw error("\(path).encoding", "jsonl files are UTF-8 (JSON is): use format \"csv\" or \"fixed\" for cp932")
        }
        var mapping: OutputMapping?
        if let name = try optionalString(object, "mapping", path: path) {
            guard format != "jsonl" else {
                throw error("\(path).mapping", "jsonl files hold the delta bodies as they are and take no mapping")
            }
            let resolved = name.hasPrefix("/") ? name : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: resolved) else {
                throw error("\(path).mapping", "cannot read \(resolved) (does it exist, and may the renkei user read it?)")
            }
            do {
                mapping = try OutputMapping(text: Array(data), file: resolved, format: format == "fixed" ? .fixed : .csv)
            } catch {
                throw self.error("\(path).mapping", error.description)
            }
            // Purpose limitation at start-up: a column may only read fields the subscription may see.
            for field in mapping!.viewFields.sorted() where !fields.contains(field) {
                throw self.error(
                    "\(path).mapping", "\(resolved) writes view field '\(field)', which is not in this subscription's fields: add it to fields (with legal_basis where needed) or remove the column")
            }
        } else if format != "jsonl" {
            throw error("\(path).mapping", "a \(format) file subscription names its output mapping (e.g. \"/etc/renkei/mappings/out-library.json\")")
        }
        let cutSeconds = try optionalNumber(object, "cut_every_s", path: path) ?? 60
        guard cutSeconds > 0, cutSeconds <= 86_400 else { throw error("\(path).cut_every_s", "must be from 0 (exclusive) to 86400 seconds") }
        let exportEvery = try optionalNumber(object, "export_every_s", path: path)
        if let exportEvery, exportEvery < 60 { throw error("\(path).export_every_s", "must be at least 60 seconds (a full export reads every view)") }
        var doneMarker = false
        if let value = object["done_marker"], !value.isNull {
            guard let flag = value.boolValue else { throw error("\(path).done_marker", "must be true or false") }
            doneMarker = flag
        }
        return Configuration.FileTarget(
            directory: dir, format: format, encoding: encoding, mapping: mapping, cutEverySeconds: cutSeconds,
            cutEveryRows: try optionalInt(object, "cut_every_rows", path: path, range: 1...10_000_000) ?? 10_000,
            doneMarker: doneMarker, exportEverySeconds: exportEvery)
    }
}
