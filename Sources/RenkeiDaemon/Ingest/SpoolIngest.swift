import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

/// Takes files from the sources' spool folders (contract §6).
///
/// Files are moved in atomically by the source (names starting with `.` are ignored until renamed),
/// taken in name order, appended durably, and only then moved to `done/`. Each bad line is copied,
/// with its line number and reason, to `rejected/<file>.errors.jsonl`. A crash between the append and
/// the move re-reads the file on restart: its events are then duplicates, so each is logged once.
final class SpoolIngest: Sendable {
    /// Lines appended per log batch while reading a large file.
    static let chunkLines = 5000

    let folders: [(source: String, path: String)]
    /// Each source's raw `csv` settings (checked in ``prepareFolders()``).
    let csvSettings: [String: JSONObject?]
    let ingestor: Ingestor
    let logger: Logger

    /// A file that changed size while it was read: a source still writing it in place. It is left
    /// where it is and read again on a later scan.
    struct StillBeingWritten: Error {}

    /// The extensions taken as event files; anything else is moved to `rejected/` unread.
    static let jsonlSuffixes = [".jsonl", ".ndjson"]
    static let csvSuffix = ".csv"

    init(sources: [Configuration.Source], ingestor: Ingestor, logger: Logger) {
        folders = sources.compactMap { source in source.spool.map { (source.name, $0) } }.sorted { $0.source < $1.source }
        csvSettings = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0.csv) })
        self.ingestor = ingestor
        self.logger = logger
    }

    /// Creates each spool folder with its `done/` and `rejected/` if missing.
    /// - Throws: ``RenkeiError`` (`io`) naming the folder.
    func prepareFolders() throws(RenkeiError) {
        for (source, settings) in csvSettings { _ = try CSVSettings(settings, source: source) }
        for folder in folders {
            for path in [folder.path, folder.path + "/done", folder.path + "/rejected"] {
                do {
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                } catch {
                    throw RenkeiError(.io, "cannot create spool folder \(path) for source \(folder.source): check ownership and permissions", cause: error)
                }
            }
        }
    }

    /// Scans every folder once and ingests what is there. Returns the number of files taken.
    func scanOnce() async -> Int {
        var taken = 0
        for folder in folders {
            for name in pendingFiles(in: folder.path) {
                if Task.isCancelled { return taken }
                do {
                    try await take(file: name, folder: folder.path, source: folder.source)
                    taken += 1
                } catch is StillBeingWritten {
                    logger.debug("spool \(folder.path)/\(name): still growing; taken on a later scan")
                    break
                } catch {
                    logger.error("spool \(folder.path)/\(name): \(error); the file stays in place and is tried again")
                    ingestor.statistics.recordError(source: folder.source, "spool \(name): \(error)")
                    break
                }
            }
        }
        return taken
    }

    /// Runs until cancelled, scanning every `interval` seconds.
    func run(interval: Double) async {
        while !Task.isCancelled {
            let taken = await scanOnce()
            if taken == 0 {
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }

    func pendingFiles(in folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { name in
            guard !name.hasPrefix(".") else { return false }
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    func take(file name: String, folder: String, source: String) async throws {
        let path = folder + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RenkeiError(.io, "cannot read \(path): check permissions")
        }
        // A source that writes in place rather than renaming in: wait until the file stops growing.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? data.count
        guard size == data.count else { throw StillBeingWritten() }
        var rejections: [JSONValue] = []
        let bytes = [UInt8](data)
        let isJSONL = Self.jsonlSuffixes.contains { name.hasSuffix($0) }
        let isCSV = name.lowercased().hasSuffix(Self.csvSuffix)
        if isCSV {
            let (report, rows) = try await ingestCSV(bytes, name: name, source: source)
            rejections = rows
            logger.info("spool \(source)/\(name): \(report.accepted) accepted, \(report.duplicates) duplicates, \(report.rejected.count) rejected")
        } else if isJSONL {
            let lines = Ingestor.splitLines(bytes)
            var report = IngestReport()
            var start = 0
            while start < lines.count {
                let chunk = Array(lines[start..<min(start + Self.chunkLines, lines.count)])
                let provenance = Provenance(via: .spool, file: name, source: source)
                report.merge(try await ingestor.ingest(chunk, expectedSource: source, provenance: provenance))
                start += Self.chunkLines
            }
            let byNumber = Dictionary(uniqueKeysWithValues: lines.map { ($0.number, $0.bytes) })
            // A last line without a line end may have been cut off by a source still writing the file.
            let unterminated = bytes.last.map { $0 != 0x0A } ?? false ? lines.last?.number : nil
            for rejection in report.rejected {
                var error = rejection.error
                if rejection.line == unterminated {
                    error += " (this last line has no line end: the file may have been moved into the spool before "
                        + "it was fully written; write it under a name starting with '.' and rename it when complete)"
                }
                var entry: JSONObject = ["file": .string(name), "line": .integer(Int64(rejection.line)), "error": .string(error)]
                if let raw = byNumber[rejection.line] {
                    if let text = String(validating: raw, as: UTF8.self) {
                        entry["raw"] = .string(text)
                    } else {
                        entry["raw_base64"] = .string(Data(raw).base64EncodedString())
                    }
                }
                rejections.append(.object(entry))
            }
            logger.info("spool \(source)/\(name): \(report.accepted) accepted, \(report.duplicates) duplicates, \(report.rejected.count) rejected")
        } else {
            let error = "unsupported file type: a spool file is *.jsonl (one event per line) or *.csv (one event per row); the file was kept in rejected/ unread"
            rejections.append(["file": .string(name), "line": .null, "error": .string(error)])
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: 1, lastError: "\(name): \(error)", at: Date())
            logger.warning("spool \(source)/\(name): \(error)")
        }
        if !rejections.isEmpty {
            var text: [UInt8] = []
            for rejection in rejections {
                text += rejection.serializedBytes
                text.append(0x0A)
            }
            // Written whole then renamed, so a crash and re-read leaves one complete copy.
            let target = "\(folder)/rejected/\(name).errors.jsonl"
            try Data(text).write(to: URL(fileURLWithPath: target), options: .atomic)
        }
        try move(path, to: "\(folder)/\(isJSONL || isCSV ? "done" : "rejected")", name: name)
    }

    /// Moves a processed file, never overwriting an earlier file of the same name.
    func move(_ path: String, to directory: String, name: String) throws {
        var target = "\(directory)/\(name)"
        var counter = 1
        while FileManager.default.fileExists(atPath: target) {
            target = "\(directory)/\(name).\(counter)"
            counter += 1
        }
        // rename(2) is atomic within one file system; the spool and done/ share one.
        try FileManager.default.moveItem(atPath: path, toPath: target)
    }
}
