import Foundation
import RenkeiCore

extension Configuration {
    /// `sources.<name>.files` (contract §7, issue 16): files dropped in the spool read through a mapping.
    public struct Files: Sendable, Hashable {
        /// `csv`, `fixed` or `jsonl` (with a mapping: JSON objects of the vendor's shape; without one:
        /// envelopes, as without `files`).
        public var format: String
        /// `utf-8`, `cp932` or `euc-jp`.
        public var encoding: String
        /// The mapping file, absolute (a relative path is taken beside the configuration file).
        public var mapping: String?
        /// `snapshot.key`: the key columns of a full-file (snapshot) source; nil for a change file.
        public var snapshotKey: [String]?
        /// `snapshot.max_removed_share`: a file removing more than this share of the keys is held (default 0.05).
        public var maxRemovedShare: Double = 0.05
    }
}

extension ConfigReader {
    /// Reads `sources.<name>.files`.
    func files(_ object: JSONObject, path: String) throws(RenkeiError) -> Configuration.Files {
        try allowOnly(object, path: path, ["format", "encoding", "mapping", "snapshot"])
        let format = try optionalString(object, "format", path: path) ?? "csv"
        guard ["csv", "fixed", "jsonl"].contains(format) else {
            throw error("\(path).format", "must be \"csv\", \"fixed\" or \"jsonl\"")
        }
        let encoding = (try optionalString(object, "encoding", path: path) ?? "utf-8").lowercased()
        guard ["utf-8", "utf8", "cp932", "windows-31j", "shift_jis", "sjis", "euc-jp", "eucjp"].contains(encoding) else {
            throw error("\(path).encoding", "must be \"utf-8\", \"cp932\" or \"euc-jp\"")
        }
        var files = Configuration.Files(format: format, encoding: encoding)
        if let mapping = try optionalString(object, "mapping", path: path) {
            guard format != "jsonl" || ["utf-8", "utf8"].contains(encoding) else {
                throw error("\(path).encoding", "JSON lines are UTF-8 (RFC 8259): a jsonl source's encoding is \"utf-8\"")
            }
            files.mapping = mapping.hasPrefix("/")
                ? mapping : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(mapping).path
        } else if format != "jsonl" {
            throw error("\(path).mapping", "a \(format) source names its mapping file (e.g. \"/etc/renkei/mappings/library.json\")")
        }
        if let snapshot = try optionalObject(object, "snapshot", path: path) {
            try allowOnly(snapshot, path: "\(path).snapshot", ["key", "max_removed_share"])
            guard let key = try stringArray(snapshot, "key", path: "\(path).snapshot"), !key.isEmpty else {
                throw error("\(path).snapshot.key", "list the key columns, e.g. [\"利用者番号\"]")
            }
            guard files.mapping != nil else { throw error("\(path).snapshot", "a snapshot source reads its files through a mapping: add \"mapping\"") }
            files.snapshotKey = key
            if let share = try optionalNumber(snapshot, "max_removed_share", path: "\(path).snapshot") {
                guard share >= 0, share <= 1 else { throw error("\(path).snapshot.max_removed_share", "must be from 0 to 1 (0.05 = 5 %)") }
                files.maxRemovedShare = share
            }
        }
        return files
    }
}
