import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

/// `*.csv` spool files (contract §6): one event per row, header of envelope and `data` keys.
///
/// Each row is split, decoded (UTF-8 or CP932), typed by its schema, validated and appended; a bad
/// row is refused with its line, column and reason, and the good rows of the file are still taken.
extension SpoolIngest {
    /// One refused row: where, why, and its bytes.
    struct RowRejection: Error {
        var line: Int
        var column: Int?
        var error: String
        var raw: ArraySlice<UInt8>
    }

    /// Ingests a CSV file's rows. Returns the report and the rejections to write beside the file.
    /// - Throws: ``StoreError`` when the log cannot be written (the file then stays in the spool).
    func ingestCSV(_ bytes: [UInt8], name: String, source: String) async throws(StoreError) -> (IngestReport, [JSONValue]) {
        let settings = (try? CSVSettings(csvSettings[source] ?? nil, source: source)) ?? CSVSettings.default
        var rejections: [RowRejection] = []
        var report = IngestReport()
        let records = CSVReader.records(bytes)
        guard let headerRecord = records.first else { return (report, []) }

        // The header: decoded and mapped, or the whole file is refused with the reason.
        let builder: CSVEventBuilder
        do throws(CSVRowError) {
            let header = try decode(headerRecord, encoding: settings.encoding)
            builder = try CSVEventBuilder(
                header: header, renames: settings.columns, schemas: ingestor.validator.schemaSet, source: source)
        } catch {
            let reason = "header: \(error); no row of this file was taken"
            let rejection = RowRejection(line: headerRecord.line, column: error.column, error: reason, raw: headerRecord.raw)
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: records.count - 1,
                                       lastError: "\(name): \(reason)", at: ingestor.wallClock.now())
            return (report, [entry(rejection, file: name, encoding: settings.encoding)])
        }

        var lines: [InputLine] = []
        var rows: [Int: CSVRecord] = [:]
        var lastError: String?
        for record in records.dropFirst() {
            rows[record.line] = record
            switch envelope(of: record, builder: builder, encoding: settings.encoding, source: source) {
            case .success(let value):
                lines.append(InputLine(number: record.line, bytes: value.serializedBytes[...]))
            case .failure(let error):
                rejections.append(RowRejection(line: record.line, column: error.column, error: error.description, raw: record.raw))
                lastError = error.description
            }
        }
        if !rejections.isEmpty {
            ingestor.statistics.record(source: source, accepted: 0, duplicates: 0, rejected: rejections.count,
                                       lastError: lastError.map { "\(name): \($0)" }, at: ingestor.wallClock.now())
        }
        var start = 0
        while start < lines.count {
            let chunk = Array(lines[start..<min(start + Self.chunkLines, lines.count)])
            let provenance = Provenance(via: .spool, file: name, source: source)
            report.merge(try await ingestor.ingest(chunk, expectedSource: source, provenance: provenance))
            start += Self.chunkLines
        }
        let fromAppend = report.rejected
        report.rejected += rejections.map { IngestReport.Rejection(line: $0.line, error: $0.error) }
        report.rejected.sort { $0.line < $1.line }
        // Refusals at append time (a conflicting event_id, an over-long row) point at their column if named.
        for rejection in fromAppend {
            let field = rejection.error.prefix { $0 != ":" && $0 != " " }
            rejections.append(RowRejection(line: rejection.line, column: builder.column(forField: String(field)),
                                           error: rejection.error, raw: rows[rejection.line]?.raw ?? []))
        }
        rejections.sort { $0.line < $1.line }
        return (report, rejections.map { entry($0, file: name, encoding: settings.encoding) })
    }

    /// One row's envelope, validated; or the first problem with its column.
    private func envelope(
        of record: CSVRecord, builder: CSVEventBuilder, encoding: TextDecoder.Encoding, source: String
    ) -> Result<JSONValue, CSVRowError> {
        if let error = record.error {
            return .failure(CSVRowError(column: error.column, field: nil, reason: error.reason))
        }
        let cells: [String]
        do {
            cells = try decode(record, encoding: encoding)
        } catch {
            return .failure(error)
        }
        let value: JSONValue
        switch builder.envelope(cells: cells) {
        case .success(let built): value = built
        case .failure(let error): return .failure(error)
        }
        switch ingestor.validator.validate(value: value, expectedSource: source) {
        case .success:
            return .success(value)
        case .failure(let rejection):
            let column = rejection.field.flatMap { builder.column(forField: $0) }
            return .failure(CSVRowError(column: column, field: rejection.field, reason: rejection.reason))
        }
    }

    /// Decodes every field of a record; a byte that does not decode names its column and file offset.
    private func decode(_ record: CSVRecord, encoding: TextDecoder.Encoding) throws(CSVRowError) -> [String] {
        var cells: [String] = []
        for (index, field) in record.fields.enumerated() {
            do {
                cells.append(try TextDecoder.decode(field, as: encoding))
            } catch {
                // The offset inside an unquoted field equals the file offset; inside quotes it is close
                // (doubled quotes shift it by one each), which is enough to find the byte.
                let opening = record.fieldOffsets[index] < record.raw.endIndex
                    && record.raw.indices.contains(record.fieldOffsets[index])
                    && record.raw[record.fieldOffsets[index]] == UInt8(ascii: "\"") ? 1 : 0
                let shifted = error.shifted(by: record.fieldOffsets[index] + opening)
                throw CSVRowError(column: index + 1, field: nil, reason: shifted.description)
            }
        }
        return cells
    }

    /// The line written to `rejected/<file>.errors.jsonl`.
    private func entry(_ rejection: RowRejection, file: String, encoding: TextDecoder.Encoding) -> JSONValue {
        var object: JSONObject = [
            "file": .string(file), "line": .integer(Int64(rejection.line)),
            "column": rejection.column.map { .integer(Int64($0)) } ?? .null, "error": .string(rejection.error),
        ]
        if let text = try? TextDecoder.decode(rejection.raw, as: encoding) {
            object["raw"] = .string(text)
        } else {
            object["raw_base64"] = .string(Data(rejection.raw).base64EncodedString())
        }
        return .object(object)
    }
}
