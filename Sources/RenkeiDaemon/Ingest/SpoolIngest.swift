import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

/// Takes files from the sources' spool folders (contract §6).
///
/// Files are moved in atomically by the source (names starting with `.` are ignored until renamed),
/// taken in name order, appended durably, and only then moved to `done/`. Each bad line is copied,
/// with its line number and reason, to `rejected/<file>.errors.jsonl`. A crash between the append and
/// the move re-reads the file on restart: its events are then duplicates, so each is logged once.
///
/// The folder is writable by the source's account, so an entry is not trusted (issue 13): it is read
/// through ``UntrustedFile`` (never following a link, never opening a FIFO or device, never reading
/// past `max_file_bytes`) on a ``BlockingThread``, off the cooperative pool. An entry refused whole —
/// a link, FIFO, device or socket, a file over the size cap, an unsupported type — is moved into
/// `rejected/` as it is (a link as the link itself) with a `rejected/<name>.errors.jsonl` entry saying
/// why, so it is never examined again. A bad entry holds up nothing else: the source's other files and
/// the other sources go on.
final class SpoolIngest: Sendable {
    /// Lines appended per log batch while reading a large file.
    static let chunkLines = 5000

    let folders: [(source: String, path: String)]
    /// Each source's raw `csv` settings (checked in ``prepareFolders()``).
    let csvSettings: [String: JSONObject?]
    /// Each source's `max_file_bytes`.
    let maxFileBytes: [String: Int64]
    /// Each source's `files` settings (issue 16).
    let files: [String: Configuration.Files?]
    /// Each mapped source's mapping, loaded and checked in ``prepareFolders()``.
    let mappings = Mutex<[String: FileMapping]>([:])
    let ingestor: Ingestor
    let logger: Logger
    /// The configured sources (for the mappings).
    let sources: [Configuration.Source]
    /// The last problem logged for each entry left in place, so a file that cannot be read is logged
    /// once (and again when its problem changes), not on every scan.
    private let reported = Mutex<[String: String]>([:])
    /// Folders whose `held/` was checked since start (issue 16, ``recoverHeld(folder:source:)``).
    private let heldRecovered = Mutex<Set<String>>([])

    /// A file that changed size while it was read: a source still writing it in place. It is left
    /// where it is and read again on a later scan.
    struct StillBeingWritten: Error {}

    /// The extensions taken as event files; anything else is moved to `rejected/` unread.
    static let jsonlSuffixes = [".jsonl", ".ndjson"]
    static let csvSuffix = ".csv"

    init(sources: [Configuration.Source], ingestor: Ingestor, logger: Logger) {
        folders = sources.compactMap { source in source.spool.map { (source.name, $0) } }.sorted { $0.source < $1.source }
        csvSettings = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0.csv) })
        maxFileBytes = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0.maxFileBytes) })
        files = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0.files) })
        self.sources = sources
        self.ingestor = ingestor
        self.logger = logger
    }

    /// Creates each spool folder with its `done/` and `rejected/` if missing.
    /// - Throws: ``RenkeiError`` (`io`) naming the folder.
    func prepareFolders() throws(RenkeiError) {
        for (source, settings) in csvSettings { _ = try CSVSettings(settings, source: source) }
        let loaded = try Self.loadMappings(sources, schemas: ingestor.validator.schemaSet)
        mappings.withLock { $0 = loaded }
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

    /// Scans every folder once and ingests what is there. Returns the number of entries taken
    /// (ingested or refused).
    func scanOnce() async -> Int {
        var taken = 0
        for folder in folders {
            let (names, unsafe) = await BlockingThread.run(name: "renkei-spool") {
                (self.pendingFiles(in: folder.path), self.unsafeSubfolder(of: folder.path))
            }
            if let unsafe {
                // Moving files through a replaced done/ or rejected/ would put them wherever it points.
                let message = "\(unsafe) is not a directory (replaced by a link?): nothing is taken from this spool "
                    + "until it is a real directory again (mkdir it, owned as the spool)"
                let isNew = reported.withLock { reported in
                    defer { reported[unsafe] = message }
                    return reported[unsafe] != message
                }
                if isNew { logger.error("spool \(folder.source): \(message)") }
                ingestor.statistics.recordError(source: folder.source, "spool: \(message)")
                continue
            }
            reported.withLock { reported in
                reported[folder.path + "/done"] = nil
                reported[folder.path + "/rejected"] = nil
            }
            // Issue 16: held/ put right once at start, before any file of the folder is taken.
            if files[folder.source].flatMap({ $0?.snapshotKey }) != nil, !heldRecovered.withLock({ $0.contains(folder.path) }) {
                do {
                    try await recoverHeld(folder: folder.path, source: folder.source)
                    heldRecovered.withLock { _ = $0.insert(folder.path) }
                } catch {
                    logger.error("spool \(folder.source): held/ could not be checked: \(error); tried again at the next scan")
                    continue
                }
            }
            for name in names {
                if Task.isCancelled { return taken }
                let path = folder.path + "/" + name
                do {
                    try await take(file: name, folder: folder.path, source: folder.source)
                    reported.withLock { _ = $0.removeValue(forKey: path) }
                    taken += 1
                } catch is StillBeingWritten {
                    // Name order is the contract: the files after this one wait for it.
                    logger.debug("spool \(path): still growing; taken on a later scan")
                    break
                } catch let held as SnapshotHeldBefore {
                    // Issue 16: the source's files wait (in name order) until its held run is decided.
                    let message = held.description
                    let isNew = reported.withLock { reported in
                        defer { reported[path] = message }
                        return reported[path] != message
                    }
                    if isNew { logger.notice("spool \(path): \(message)") }
                    break
                } catch let error as StoreError {
                    // The log cannot be written: no file of this source can go in now.
                    logger.error("spool \(path): \(error); the file stays in place and is tried again")
                    ingestor.statistics.recordError(source: folder.source, "spool \(name): \(error)")
                    break
                } catch {
                    // This entry alone (unreadable, vanished): it stays, and the source's other files go on.
                    let message = "\(error)"
                    let isNew = reported.withLock { reported in
                        defer { reported[path] = message }
                        return reported[path] != message
                    }
                    if isNew { logger.error("spool \(path): \(message); the file stays in place and is tried again") }
                    ingestor.statistics.recordError(source: folder.source, "spool \(name): \(message)")
                }
            }
        }
        return taken
    }

    /// Runs until cancelled, scanning every `interval` seconds of `clock`.
    func run(interval: Double, clock: any Clock<Duration>) async {
        while !Task.isCancelled {
            let taken = await scanOnce()
            if taken == 0 {
                try? await clock.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }

    /// The entries to look at, in name order: everything except names starting with `.` and real
    /// directories (`done/`, `rejected/`); a link to a directory is listed (and refused). Blocking.
    func pendingFiles(in folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { name in
            guard !name.hasPrefix(".") else { return false }
            return (try? UntrustedFile.kind(atPath: folder + "/" + name)).map { $0 != .directory } ?? false
        }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `done/` or `rejected/` of `folder` when it is not a real directory (a source's account could
    /// replace it with a link), else nil. Blocking.
    func unsafeSubfolder(of folder: String) -> String? {
        for path in [folder + "/done", folder + "/rejected"] where (try? UntrustedFile.kind(atPath: path)) != .directory {
            return path
        }
        return nil
    }

    func take(file name: String, folder: String, source: String) async throws {
        let path = folder + "/" + name
        let isJSONL = Self.jsonlSuffixes.contains { name.hasSuffix($0) }
        let isCSV = name.lowercased().hasSuffix(Self.csvSuffix)
        // A *.jsonl file holds envelopes, unless the source maps JSON lines of its own shape (format jsonl).
        let mapped = files[source].flatMap { $0 }.flatMap { settings in
            isJSONL && settings.format != "jsonl" ? nil : mappings.withLock { $0[source] }.map { (settings, $0) }
        }
        guard isJSONL || isCSV || mapped != nil else {
            let error = "unsupported file type: a spool file is *.jsonl (one event per line) or *.csv (one event per row); "
                + "the file was kept in rejected/ unread"
            try await refuse(name, folder: folder, source: source, reason: error)
            return
        }
        let limit = maxFileBytes[source] ?? Configuration.Source.defaultMaxFileBytes
        let read = try await BlockingThread.run(name: "renkei-spool") { () throws(SystemError) in
            try UntrustedFile.read(atPath: path, maxBytes: limit)
        }
        let bytes: [UInt8]
        switch read {
        case .contents(let contents):
            bytes = contents
        case .changedWhileRead:
            // A source that writes in place rather than renaming in: wait until the file stops growing.
            throw StillBeingWritten()
        case .notRegular(.directory):
            return  // became a directory since the listing: not a file to take
        case .notRegular(let kind):
            let what = kind == .symbolicLink
                ? "a symbolic link" + (UntrustedFile.linkTarget(atPath: path).map { " (to \($0))" } ?? "")
                : kind.description
            let error = "\(what): the spool takes regular files only and never follows a link or opens a pipe or "
                + "device; the entry itself was moved to rejected/, unread. Write the file itself under a name "
                + "starting with '.' and rename it when complete"
            try await refuse(name, folder: folder, source: source, reason: error)
            return
        case .tooLarge(let size):
            let error = "the file is \(size) bytes, over sources.\(source).max_file_bytes (\(limit)); it was moved "
                + "to rejected/ unread: send it as several smaller files, or raise max_file_bytes"
            try await refuse(name, folder: folder, source: source, reason: error)
            return
        }
        var rejections: [JSONValue] = []
        if let (settings, mapping) = mapped {
            // Issue 16: read through the source's mapping; a snapshot file becomes its differences.
            if let keys = settings.snapshotKey {
                guard let (report, rows) = try await ingestSnapshot(
                    bytes, name: name, folder: folder, source: source, mapping: mapping, files: settings, keys: keys)
                else { return }  // held in held/
                rejections = rows
                logger.info("spool \(source)/\(name): \(report.accepted) accepted, \(report.duplicates) duplicates, \(rejections.count) rejected")
            } else {
                let (report, rows) = try await ingestMapped(bytes, name: name, source: source, mapping: mapping, files: settings)
                rejections = rows
                logger.info("spool \(source)/\(name): \(report.accepted) accepted, \(report.duplicates) duplicates, \(rows.count) rejected")
            }
        } else if isCSV {
            let (report, rows) = try await ingestCSV(bytes, name: name, source: source)
            rejections = rows
            logger.info("spool \(source)/\(name): \(report.accepted) accepted, \(report.duplicates) duplicates, \(report.rejected.count) rejected")
        } else {
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
        }
        if !rejections.isEmpty {
            let target = "\(folder)/rejected/\(name).errors.jsonl"
            let entries = rejections
            try await BlockingThread.run(name: "renkei-spool") { try RejectedFile.write(entries, to: target) }
        }
        try await BlockingThread.run(name: "renkei-spool") { _ = try self.move(path, to: "\(folder)/done", name: name) }
    }

    /// Refuses an entry whole: writes its one-line `rejected/<name>.errors.jsonl`, then moves the entry
    /// itself (never followed) into `rejected/`, so it is not examined again; counts it and logs why.
    func refuse(_ name: String, folder: String, source: String, reason: String) async throws {
        let entry: JSONValue = ["file": .string(name), "line": .null, "error": .string(reason)]
        let path = folder + "/" + name
        try await BlockingThread.run(name: "renkei-spool") {
            try RejectedFile.write([entry], to: "\(folder)/rejected/\(name).errors.jsonl")
            try self.move(path, to: "\(folder)/rejected", name: name)
        }
        ingestor.statistics.record(
            source: source, accepted: 0, duplicates: 0, rejected: 1, lastError: "\(name): \(reason)", at: ingestor.wallClock.now())
        logger.warning("spool \(source)/\(name): \(reason)")
    }

    /// The path `move(_:to:name:)` would move a file named `name` to in `directory`. Blocking.
    func freeName(in directory: String, name: String) -> String {
        var target = "\(directory)/\(name)"
        var counter = 1
        while UntrustedFile.exists(atPath: target) {
            target = "\(directory)/\(name).\(counter)"
            counter += 1
        }
        return target
    }

    /// Moves a processed file, never overwriting an earlier file of the same name.
    /// A link, FIFO or device is moved as the entry itself. Blocking.
    @discardableResult
    func move(_ path: String, to directory: String, name: String) throws -> String {
        let target = freeName(in: directory, name: name)
        // rename(2) is atomic within one file system; the spool, done/ and rejected/ share one.
        try UntrustedFile.rename(path, to: target)
        return target
    }
}

/// The spool folders as a service: scans until cancelled; a file being taken is finished first.
struct SpoolService: Service {
    let spool: SpoolIngest
    /// `spool_poll_interval_s`.
    let interval: Double
    let clock: any Clock<Duration>

    var name: String { "spool" }

    func run() async {
        await spool.run(interval: interval, clock: clock)
    }
}
