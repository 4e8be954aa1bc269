import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem
import Synchronization

/// Spool files of a source with `files` (issue 16): read through the source's mapping, as change
/// files (each row → its events) or as full snapshots (each file → only its differences from the
/// last accepted snapshot; a file removing too many keys is held in `held/` for an operator).
extension SpoolIngest {
    /// A mapped file, split and decoded: the bound mapping, the decoded rows, the refused rows.
    struct DecodedFile {
        var mapped: MappedFile
        var rows: [(line: Int, cells: [String], raw: ArraySlice<UInt8>)]
        var rejections: [RowRejection]
    }

    /// What a snapshot file compares to, and what applying it would do.
    struct SnapshotPlan {
        var diff: SnapshotDiff
        var events: [InputLine]
        var rejections: [RowRejection]
        var digest: String
    }

    /// Loads and checks every mapping (at start and on reload).
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the mapping file, line and column.
    static func loadMappings(_ sources: [Configuration.Source], schemas: SchemaSet) throws(RenkeiError) -> [String: FileMapping] {
        var mappings: [String: FileMapping] = [:]
        for source in sources {
            guard let files = source.files, let path = files.mapping else { continue }
            let bytes: [UInt8]
            do {
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw RenkeiError(.invalidConfiguration, "sources.\(source.name).files.mapping: cannot read \(path): \(error.localizedDescription)")
            }
            do throws(MappingError) {
                let mapping = try FileMapping(
                    text: bytes, file: path, source: source.name, format: FileMapping.Format(rawValue: files.format) ?? .csv, schemas: schemas)
                if let keys = files.snapshotKey { try mapping.checkSnapshot(keys: keys) }
                mappings[source.name] = mapping
            } catch {
                throw RenkeiError(.invalidConfiguration, "sources.\(source.name).files.mapping: \(error)")
            }
        }
        return mappings
    }

    /// SHA-256 in hex.
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(SHA256.byteCount * 2)
        for byte in SHA256.hash(bytes) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Decodes one field in the source's encoding (EUC-JP through its arithmetic mapping to CP932).
    static func decodeField(_ bytes: [UInt8], encoding: String) throws(TextDecodingError) -> String {
        switch encoding {
        case "euc-jp", "eucjp": return try TextDecoder.decode(EUCJP.toCP932(bytes), as: .cp932)
        default: return try TextDecoder.decode(bytes, as: TextDecoder.Encoding(configured: encoding) ?? .utf8)
        }
    }

    /// Splits and decodes a mapped file, binding its header.
    /// - Returns: the decoded file, or the refusal of the whole file (its header does not fit the mapping).
    func decodeMapped(_ bytes: [UInt8], mapping: FileMapping, files: Configuration.Files) -> Result<DecodedFile, RowRejection> {
        let records: [CSVRecord]
        switch mapping.format {
        case .fixed: records = FixedRecordReader.records(bytes, widths: mapping.fixedFields.map(\.bytes))
        case .csv: records = CSVReader.records(bytes, delimiter: mapping.delimiter)
        case .jsonl: records = JSONLinesRecordReader.records(bytes, columns: mapping.declaredColumns ?? [], ignored: mapping.ignored)
        }
        var rejections: [RowRejection] = []
        var rows: [(line: Int, cells: [String], raw: ArraySlice<UInt8>)] = []
        var header: [String]?
        var body = records[...]
        if mapping.header, let first = records.first {
            body = records.dropFirst()
            switch decodeCells(first, encoding: files.encoding) {
            case .success(let cells): header = cells
            case .failure(let error):
                return .failure(RowRejection(line: first.line, column: error.column, error: "header: \(error); no row of this file was taken", raw: first.raw))
            }
        }
        let mapped: MappedFile
        do throws(MappedRowError) {
            mapped = try MappedFile(mapping: mapping, header: header, line: records.first?.line ?? 1, digest: Self.sha256Hex)
        } catch {
            return .failure(RowRejection(line: error.line, column: error.column, error: "header: \(error)", raw: records.first?.raw ?? []))
        }
        for record in body {
            if let error = record.error {
                rejections.append(RowRejection(line: record.line, column: error.column, error: error.reason, raw: record.raw))
                continue
            }
            switch decodeCells(record, encoding: files.encoding) {
            case .success(let cells): rows.append((record.line, cells, record.raw))
            case .failure(let error): rejections.append(RowRejection(line: record.line, column: error.column, error: error.description, raw: record.raw))
            }
        }
        return .success(DecodedFile(mapped: mapped, rows: rows, rejections: rejections))
    }

    private func decodeCells(_ record: CSVRecord, encoding: String) -> Result<[String], CSVRowError> {
        var cells: [String] = []
        for (index, field) in record.fields.enumerated() {
            do {
                cells.append(try Self.decodeField(field, encoding: encoding))
            } catch {
                return .failure(CSVRowError(column: index + 1, field: nil, reason: error.shifted(by: record.fieldOffsets[index]).description))
            }
        }
        return .success(cells)
    }

    /// Ingests a mapped change file: every row's events, appended; bad rows refused with line and reason.
    /// - Throws: ``StoreError`` when the log cannot be written (the file then stays in the spool).
    func ingestMapped(
        _ bytes: [UInt8], name: String, source: String, mapping: FileMapping, files: Configuration.Files
    ) async throws -> (IngestReport, [JSONValue]) {
        let decoded: DecodedFile
        switch decodeMapped(bytes, mapping: mapping, files: files) {
        case .success(let value): decoded = value
        case .failure(let refusal):
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: 1,
                                       lastError: "\(name): \(refusal.error)", at: ingestor.wallClock.now())
            return (IngestReport(), [mappedEntry(refusal, file: name, encoding: files.encoding)])
        }
        var rejections = decoded.rejections
        var lines: [InputLine] = []
        var raws: [Int: ArraySlice<UInt8>] = [:]
        for row in decoded.rows {
            raws[row.line] = row.raw
            switch decoded.mapped.events(cells: row.cells, line: row.line) {
            case .success(let events):
                lines += events.map { InputLine(number: row.line, bytes: $0.serializedBytes[...]) }
            case .failure(let error):
                rejections.append(RowRejection(line: row.line, column: error.column, error: error.description, raw: row.raw))
            }
        }
        if !rejections.isEmpty {
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: rejections.count,
                                       lastError: rejections.last.map { "\(name): \($0.error)" }, at: ingestor.wallClock.now())
        }
        var report = IngestReport()
        var start = 0
        while start < lines.count {
            let chunk = Array(lines[start..<min(start + Self.chunkLines, lines.count)])
            report.merge(try await ingestor.ingest(chunk, expectedSource: source, provenance: Provenance(via: .spool, file: name, source: source)))
            start += Self.chunkLines
        }
        for rejection in report.rejected {
            rejections.append(RowRejection(line: rejection.line, column: nil, error: rejection.error, raw: raws[rejection.line] ?? []))
        }
        report.rejected += decoded.rejections.map { IngestReport.Rejection(line: $0.line, error: $0.error) }
        rejections.sort { $0.line < $1.line }
        return (report, rejections.map { mappedEntry($0, file: name, encoding: files.encoding) })
    }

    /// Compares a snapshot file with the source's last accepted snapshot, at the byte level
    /// (``SnapshotComparison``): only rows that differ from the stored ones are decoded and mapped.
    /// - Returns: the plan, or the refusal of the whole file.
    func planSnapshot(
        _ bytes: [UInt8], source: String, mapping: FileMapping, files: Configuration.Files, keys: [String], at: String
    ) async throws -> Result<SnapshotPlan, RowRejection> {
        guard SnapshotComparison.handles(mapping.format) else {
            return try await planSnapshotDecoded(bytes, source: source, mapping: mapping, files: files, keys: keys, at: at)
        }
        let writer = ingestor.writer
        let outcome: SnapshotComparison.Outcome
        switch try await SnapshotComparison.compare(
            bytes, source: source, mapping: mapping, encoding: files.encoding, keys: keys, validator: ingestor.validator,
            loadSet: { try await writer.perform { db throws(StoreError) in try Snapshots.digestSet(of: source, in: db) } },
            loadKeys: { digests in try await writer.perform { db throws(StoreError) in try Snapshots.keys(of: source, digests: digests, in: db) } },
            loadEntries: { keys in try await writer.perform { db throws(StoreError) in try Snapshots.entries(of: source, keys: keys, in: db) } })
        {
        case .success(let value): outcome = value
        case .failure(let refusal): return .failure(refusal.rejection)
        }
        let diff = outcome.diff
        let digest = outcome.digest
        let lineOf = Dictionary((diff.added + diff.changed.map(\.row)).map { ($0.subject, $0.line) }, uniquingKeysWith: { a, _ in a })
        let events = diff.events(mapping: mapping, run: String(digest.prefix(16)), at: at).map { event in
            InputLine(number: lineOf[event["subject"]?.stringValue ?? ""] ?? 0, bytes: event.serializedBytes[...])
        }
        return .success(SnapshotPlan(diff: diff, events: events, rejections: outcome.rejections, digest: digest))
    }

    /// Compares a snapshot file by decoding and mapping every row: for a layout the byte-level
    /// comparison does not read (``SnapshotComparison/handles(_:)``).
    /// - Returns: the plan, or the refusal of the whole file.
    func planSnapshotDecoded(
        _ bytes: [UInt8], source: String, mapping: FileMapping, files: Configuration.Files, keys: [String], at: String
    ) async throws -> Result<SnapshotPlan, RowRejection> {
        let decoded: DecodedFile
        switch decodeMapped(bytes, mapping: mapping, files: files) {
        case .success(let value): decoded = value
        case .failure(let refusal): return .failure(refusal)
        }
        var rejections = decoded.rejections
        var rows: [SnapshotRow] = []
        var kept: Set<String> = []
        var firstLine: [String: Int] = [:]
        var unchanged = 0
        let previous = try await ingestor.writer.perform { db throws(StoreError) in try Snapshots.entries(of: source, in: db) }
        let mappingDigest = Array(Self.sha256Hex(mapping.text).utf8)
        for row in decoded.rows {
            // A refused row's key keeps its previous state: a bad row never withdraws anyone.
            let keyText = decoded.mapped.snapshotKey(cells: row.cells, keys: keys)
            // A row the same byte for byte (with the same mapping) as the stored one is not mapped again.
            let rowDigest = Self.sha256Hex(mappingDigest + Array(row.raw))
            if let keyText, firstLine[keyText] == nil, previous[keyText]?.rowDigest == rowDigest {
                firstLine[keyText] = row.line
                kept.insert(keyText)
                unchanged += 1
                continue
            }
            func refuse(_ column: Int?, _ reason: String) {
                rejections.append(RowRejection(line: row.line, column: column, error: reason, raw: row.raw))
                if let keyText { kept.insert(keyText) }
            }
            switch decoded.mapped.snapshotRow(cells: row.cells, line: row.line, keys: keys) {
            case .success(var mappedRow?):
                mappedRow.rowDigest = rowDigest
                if let earlier = firstLine[mappedRow.key] {
                    refuse(nil, "the snapshot key repeats line \(earlier): each key once in a full file")
                    continue
                }
                if case .failure(let rejection) = ingestor.validator.validate(value: mappedRow.registration, expectedSource: source) {
                    refuse(nil, rejection.description)
                    continue
                }
                firstLine[mappedRow.key] = row.line
                rows.append(mappedRow)
            case .success(nil):
                continue
            case .failure(let error):
                refuse(error.column, error.description)
            }
        }
        let diff = SnapshotDiff(rows: rows, previous: previous, keeping: kept, rowCount: rows.count + unchanged)
        let digest = Self.sha256Hex(bytes)
        let lineOf = Dictionary(rows.map { ($0.subject, $0.line) }, uniquingKeysWith: { a, _ in a })
        let events = diff.events(mapping: mapping, run: String(digest.prefix(16)), at: at).map { event in
            InputLine(number: lineOf[event["subject"]?.stringValue ?? ""] ?? 0, bytes: event.serializedBytes[...])
        }
        return .success(SnapshotPlan(diff: diff, events: events, rejections: rejections, digest: digest))
    }

    /// Applies a planned snapshot: its events and the new snapshot in one transaction, with the run.
    /// - Returns: the report and the run's id.
    func applySnapshot(
        _ plan: SnapshotPlan, name: String, source: String, state: Snapshots.State, heldRun: Int64?
    ) async throws -> IngestReport {
        let now = Timestamp.rfc3339(ingestor.wallClock.now())
        let diff = plan.diff
        let run = Snapshots.Run(
            source: source, file: name, digest: plan.digest, rows: Int64(diff.rows), added: Int64(diff.added.count),
            changed: Int64(diff.changed.count), removed: Int64(diff.removed.count), state: state, createdAt: now)
        return try await ingestor.ingest(
            plan.events, expectedSource: source, provenance: Provenance(via: .spool, file: name, source: source)
        ) { db throws(StoreError) in
            try Snapshots.apply(diff, source: source, in: db)
            if let heldRun {
                try Snapshots.decide(heldRun, as: .accepted, at: now, counts: (run.rows, run.added, run.changed, run.removed), in: db)
            } else {
                try Snapshots.record(run, in: db)
            }
        }
    }

    /// Ingests a snapshot file: applied, or held in `held/` when it removes too many keys.
    /// - Returns: nil when the file was held (it is then not moved to `done/`).
    func ingestSnapshot(
        _ bytes: [UInt8], name: String, folder: String, source: String, mapping: FileMapping, files: Configuration.Files, keys: [String]
    ) async throws -> (IngestReport, [JSONValue])? {
        // A held run is decided first: a later full file compared before it would be undone by it.
        let held = try await ingestor.writer.perform { db throws(StoreError) in
            try Snapshots.runs(state: .held, in: db).filter { $0.source == source }
        }
        if let run = held.first(where: { $0.file == name && $0.heldPath.map { !UntrustedFile.exists(atPath: $0) } ?? false }),
            let heldPath = run.heldPath, Self.sha256Hex(bytes) == run.digest
        {
            // The run was recorded but the process stopped before the file moved (the run is recorded
            // first): this is its file, still in the spool. The move is finished now.
            try await BlockingThread.run(name: "renkei-spool") { () throws in
                try FileManager.default.createDirectory(atPath: folder + "/held", withIntermediateDirectories: true)
                try UntrustedFile.rename(folder + "/" + name, to: heldPath)
            }
            logger.notice("spool \(source)/\(name): the file of held snapshot run \(run.id) was still in the spool (stopped before it moved): moved to \(heldPath)")
            return nil
        }
        if let first = held.last { throw SnapshotHeldBefore(run: first.id) }
        let now = Timestamp.rfc3339(ingestor.wallClock.now())
        let plan: SnapshotPlan
        switch try await planSnapshot(bytes, source: source, mapping: mapping, files: files, keys: keys, at: now) {
        case .success(let value): plan = value
        case .failure(let refusal):
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: 1,
                                       lastError: "\(name): \(refusal.error)", at: ingestor.wallClock.now())
            return (IngestReport(), [mappedEntry(refusal, file: name, encoding: files.encoding)])
        }
        let entries = plan.rejections.sorted { $0.line < $1.line }.map { mappedEntry($0, file: name, encoding: files.encoding) }
        if !plan.rejections.isEmpty {
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: plan.rejections.count,
                                       lastError: plan.rejections.last.map { "\(name): \($0.error)" }, at: ingestor.wallClock.now())
        }
        let diff = plan.diff
        if diff.previousCount > 0, diff.removedShare > files.maxRemovedShare {
            let percent = (diff.removedShare * 1000).rounded() / 10
            let reason = "removes \(diff.removed.count) of \(diff.previousCount) keys (\(percent) %), more than "
                + "sources.\(source).files.snapshot.max_removed_share (\(files.maxRemovedShare)): held until an operator "
                + "accepts it (renkeictl snapshot accept ID) or discards it (renkeictl snapshot discard ID); "
                + "the source's later files wait until then"
            // The run is recorded (committed, fsync'd) before the file moves: a stop in between leaves the
            // file in the spool, where the run finds it (see above and `heldFile`); the other order could
            // leave a file in held/ that no run names.
            let target = try await BlockingThread.run(name: "renkei-spool") { () throws in
                try FileManager.default.createDirectory(atPath: folder + "/held", withIntermediateDirectories: true)
                return self.freeName(in: folder + "/held", name: name)
            }
            let run = Snapshots.Run(
                source: source, file: name, digest: plan.digest, rows: Int64(diff.rows), added: Int64(diff.added.count),
                changed: Int64(diff.changed.count), removed: Int64(diff.removed.count), state: .held, createdAt: now,
                heldPath: target, reason: reason)
            let id = try await ingestor.writer.perform { db throws(StoreError) in try Snapshots.record(run, in: db) }
            try await BlockingThread.run(name: "renkei-spool") { () throws(SystemError) in try UntrustedFile.rename(folder + "/" + name, to: target) }
            if !entries.isEmpty {
                try await BlockingThread.run(name: "renkei-spool") { try RejectedFile.write(entries, to: "\(folder)/rejected/\(name).errors.jsonl") }
            }
            ingestor.statistics.recordError(source: source, "snapshot run \(id) (\(name)) \(reason)")
            logger.warning("spool \(source)/\(name): snapshot run \(id) \(reason)")
            return nil
        }
        let report = try await applySnapshot(plan, name: name, source: source, state: .applied, heldRun: nil)
        logger.info("spool \(source)/\(name): snapshot of \(diff.rows) rows: \(diff.added.count) added, \(diff.changed.count) changed, "
            + "\(diff.removed.count) removed")
        return (report, entries)
    }

    /// Accepts or discards a held run (`POST /v1/snapshots/{id}/accept|discard`).
    /// - Returns: the run afterwards, or an error message and status.
    func decideHeld(_ id: Int64, accept: Bool) async throws -> Result<Snapshots.Run, SnapshotDecisionError> {
        guard let run = try await ingestor.writer.perform({ db throws(StoreError) in try Snapshots.run(id, in: db) }) else {
            return .failure(SnapshotDecisionError(status: 404, message: "no snapshot run \(id): see GET /v1/snapshots"))
        }
        guard run.state == .held else {
            return .failure(SnapshotDecisionError(status: 409, message: "snapshot run \(id) is \(run.state.rawValue), not held: only a held run is accepted or discarded"))
        }
        guard let folder = folders.first(where: { $0.source == run.source })?.path,
            let settings = files[run.source], let files = settings, let mapping = mappings.withLock({ $0[run.source] }),
            let keys = files.snapshotKey
        else {
            return .failure(SnapshotDecisionError(status: 409, message: "source \(run.source) is no longer a snapshot source in the configuration"))
        }
        guard let heldPath = try await BlockingThread.run(name: "renkei-spool", { Self.heldFile(of: run, folder: folder) }) else {
            return .failure(SnapshotDecisionError(status: 409, message: "the file of snapshot run \(id) (\(run.file)) is neither at "
                + "\(run.heldPath ?? folder + "/held/" + run.file) nor in the spool with the run's digest: put it back there to decide the run"))
        }
        let now = Timestamp.rfc3339(ingestor.wallClock.now())
        if !accept {
            _ = try await ingestor.writer.perform { db throws(StoreError) in try Snapshots.decide(id, as: .discarded, at: now, in: db) }
            let entry: JSONValue = ["file": .string(run.file), "line": .null, "error": .string("snapshot run \(id) discarded by an operator; nothing of it was applied")]
            try await BlockingThread.run(name: "renkei-spool") {
                try RejectedFile.write([entry], to: "\(folder)/rejected/\(run.file).errors.jsonl")
                _ = try self.move(heldPath, to: folder + "/rejected", name: run.file)
            }
            logger.notice("snapshot run \(id) (\(run.source)/\(run.file)) discarded")
            return .success(try await ingestor.writer.perform { db throws(StoreError) in try Snapshots.run(id, in: db) } ?? run)
        }
        let bytes = try await BlockingThread.run(name: "renkei-spool") { try Array(Data(contentsOf: URL(fileURLWithPath: heldPath))) }
        switch try await planSnapshot(bytes, source: run.source, mapping: mapping, files: files, keys: keys, at: now) {
        case .failure(let refusal):
            return .failure(SnapshotDecisionError(status: 409, message: "snapshot run \(id) can no longer be read through the mapping: \(refusal.error)"))
        case .success(let plan):
            _ = try await applySnapshot(plan, name: run.file, source: run.source, state: .accepted, heldRun: id)
            try await BlockingThread.run(name: "renkei-spool") { _ = try self.move(heldPath, to: folder + "/done", name: run.file) }
            logger.notice("snapshot run \(id) (\(run.source)/\(run.file)) accepted: \(plan.diff.added.count) added, "
                + "\(plan.diff.changed.count) changed, \(plan.diff.removed.count) removed")
            return .success(try await ingestor.writer.perform { db throws(StoreError) in try Snapshots.run(id, in: db) } ?? run)
        }
    }

    /// Where a held run's file is: `held/` as recorded, or still in the spool under its name with the
    /// run's digest (the process stopped between recording the run and moving the file). Blocking.
    static func heldFile(of run: Snapshots.Run, folder: String) -> String? {
        if let heldPath = run.heldPath, UntrustedFile.exists(atPath: heldPath) { return heldPath }
        let spooled = folder + "/" + run.file
        guard UntrustedFile.exists(atPath: spooled), let bytes = try? Data(contentsOf: URL(fileURLWithPath: spooled)),
            sha256Hex(Array(bytes)) == run.digest
        else { return nil }
        return spooled
    }

    /// Once per folder at start: a file in `held/` that no run names (a release before the run was
    /// recorded first stopped between moving it and recording its run) goes back to the spool to be
    /// compared again; the file of a run decided while the process stopped before moving it goes
    /// where the decision sends it (accepted: `done/`, discarded: `rejected/`).
    func recoverHeld(folder: String, source: String) async throws {
        let held = folder + "/held"
        let names = await BlockingThread.run(name: "renkei-spool") { self.pendingFiles(in: held) }
        for name in names {
            let path = held + "/" + name
            let run = try await ingestor.writer.perform { db throws(StoreError) in try Snapshots.run(heldPath: path, in: db) }
            switch run?.state {
            case .held?, .applied?:
                continue
            case .accepted?:
                try await BlockingThread.run(name: "renkei-spool") { _ = try self.move(path, to: folder + "/done", name: run?.file ?? name) }
                logger.notice("spool \(source): held/\(name) of accepted snapshot run \(run?.id ?? 0) moved to done/")
            case .discarded?:
                try await BlockingThread.run(name: "renkei-spool") { _ = try self.move(path, to: folder + "/rejected", name: run?.file ?? name) }
                logger.notice("spool \(source): held/\(name) of discarded snapshot run \(run?.id ?? 0) moved to rejected/")
            case nil:
                try await BlockingThread.run(name: "renkei-spool") { _ = try self.move(path, to: folder, name: name) }
                logger.warning("spool \(source): held/\(name) was named by no snapshot run (stopped before its run was recorded): "
                    + "moved back to the spool to be compared again")
            }
        }
    }

    /// What a file would become, without ingesting anything (`renkeictl mapping check --source S FILE`):
    /// {`source`, `digest`, `rows`, `events` [envelopes], `refused` [{`line`, `column`, `error`}], and for a
    /// snapshot source `snapshot` {`added`, `changed`, `removed`, `previous`, `would_hold`}}.
    func checkMapped(_ bytes: [UInt8], source: String) async throws -> Result<JSONValue, SnapshotDecisionError> {
        guard let settings = files[source], let files = settings, let mapping = mappings.withLock({ $0[source] }) else {
            return .failure(SnapshotDecisionError(status: 404, message: "source \(source) has no files mapping (sources.\(source).files.mapping)"))
        }
        func refusalJSON(_ rejection: RowRejection) -> JSONValue {
            ["line": .integer(Int64(rejection.line)), "column": rejection.column.map { .integer(Int64($0)) } ?? .null, "error": .string(rejection.error)]
        }
        var reply: JSONObject = ["source": .string(source), "digest": .string(Self.sha256Hex(bytes))]
        if let keys = files.snapshotKey {
            let now = Timestamp.rfc3339(ingestor.wallClock.now())
            switch try await planSnapshot(bytes, source: source, mapping: mapping, files: files, keys: keys, at: now) {
            case .failure(let refusal):
                reply["rows"] = 0
                reply["events"] = []
                reply["refused"] = [refusalJSON(refusal)]
            case .success(let plan):
                let diff = plan.diff
                reply["rows"] = .integer(Int64(diff.rows))
                reply["events"] = .array(plan.events.compactMap { try? JSONParser.parse($0.bytes) }.map { asLogged($0, source: source) })
                reply["refused"] = .array(plan.rejections.sorted { $0.line < $1.line }.map(refusalJSON))
                reply["snapshot"] = [
                    "added": .integer(Int64(diff.added.count)), "changed": .integer(Int64(diff.changed.count)),
                    "removed": .integer(Int64(diff.removed.count)), "previous": .integer(Int64(diff.previousCount)),
                    "would_hold": .bool(diff.previousCount > 0 && diff.removedShare > files.maxRemovedShare),
                ]
            }
            return .success(.object(reply))
        }
        switch decodeMapped(bytes, mapping: mapping, files: files) {
        case .failure(let refusal):
            reply["rows"] = 0
            reply["events"] = []
            reply["refused"] = [refusalJSON(refusal)]
        case .success(let decoded):
            var events: [JSONValue] = []
            var refused = decoded.rejections
            for row in decoded.rows {
                switch decoded.mapped.events(cells: row.cells, line: row.line) {
                case .success(let mapped):
                    for event in mapped {
                        if case .failure(let rejection) = ingestor.validator.validate(value: event, expectedSource: source) {
                            refused.append(RowRejection(line: row.line, column: nil, error: rejection.description, raw: row.raw))
                        } else {
                            events.append(asLogged(event, source: source))
                        }
                    }
                case .failure(let error):
                    refused.append(RowRejection(line: row.line, column: error.column, error: error.description, raw: row.raw))
                }
            }
            reply["rows"] = .integer(Int64(decoded.rows.count + decoded.rejections.count))
            reply["events"] = .array(events)
            reply["refused"] = .array(refused.sorted { $0.line < $1.line }.map(refusalJSON))
        }
        return .success(.object(reply))
    }

    /// A mapped event as ingest would log it: through the source's 外字 table (mapped text, and the
    /// text as sent under `gaiji`), so the dry run shows what the log will hold.
    private func asLogged(_ event: JSONValue, source: String) -> JSONValue {
        guard let table = ingestor.gaijiTables[source],
            case .success(let validated) = ingestor.validator.validate(value: event, expectedSource: source)
        else { return event }
        return .object(table.apply(to: validated).event.envelope)
    }

    /// The line written to `rejected/<file>.errors.jsonl` for a mapped file.
    func mappedEntry(_ rejection: RowRejection, file: String, encoding: String) -> JSONValue {
        var object: JSONObject = [
            "file": .string(file), "line": .integer(Int64(rejection.line)),
            "column": rejection.column.map { .integer(Int64($0)) } ?? .null, "error": .string(rejection.error),
        ]
        if let text = try? Self.decodeField(Array(rejection.raw), encoding: encoding) {
            object["raw"] = .string(text)
        } else {
            object["raw_base64"] = .string(Data(rejection.raw).base64EncodedString())
        }
        return .object(object)
    }
}

/// A snapshot source's later files wait while one of its runs is held (taken once it is decided).
struct SnapshotHeldBefore: Error, CustomStringConvertible {
    var run: Int64
    var description: String {
        "waits for held snapshot run \(run) of this source: renkeictl snapshot accept \(run) or renkeictl snapshot discard \(run)"
    }
}

/// Why a held snapshot run cannot be decided: the HTTP status and the message.
struct SnapshotDecisionError: Error {
    var status: Int
    var message: String
}

/// EUC-JP to CP932 bytes, arithmetically: JIS X 0208 (two bytes 0xA1–0xFE) to Shift_JIS, half-width
/// kana (0x8E xx) to one byte; JIS X 0212 (0x8F, three bytes) is not in CP932 and is refused by the
/// decoder as an undecodable byte.
enum EUCJP {
    static func toCP932(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                output.append(byte)
                index += 1
            } else if byte == 0x8E, index + 1 < bytes.count {
                output.append(bytes[index + 1])
                index += 2
            } else if (0xA1...0xFE).contains(byte), index + 1 < bytes.count, (0xA1...0xFE).contains(bytes[index + 1]) {
                let j1 = Int(byte) - 0x80
                let j2 = Int(bytes[index + 1]) - 0x80
                let s1 = ((j1 + 1) >> 1) + (j1 <= 0x5E ? 0x70 : 0xB0)
                let s2 = j1 % 2 == 1 ? j2 + (j2 >= 0x60 ? 0x20 : 0x1F) : j2 + 0x7E
                output.append(UInt8(s1))
                output.append(UInt8(s2))
                index += 2
            } else {
                // Not EUC-JP: 0x80 makes the CP932 decoder name the byte.
                output.append(0x80)
                index += 1
            }
        }
        return output
    }
}
