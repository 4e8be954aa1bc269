internal import CSQLite

/// One prepared SQL statement (`sqlite3_stmt*`), finalized in `deinit`.
///
/// Used on its ``Database``'s thread only. Column readers are valid while ``step()`` has just
/// returned `true`.
public final class Statement {
    /// The SQL text (never with bound values).
    public let sql: String

    let handle: OpaquePointer
    private let connection: OpaquePointer

    private init(handle: OpaquePointer, connection: OpaquePointer, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit {
        // sqlite3_finalize: always frees the statement; its return value only repeats the last
        // step's error. https://www.sqlite.org/c3ref/finalize.html
        sqlite3_finalize(handle)
    }

    /// Prepares the first statement of `sql`; returns nil when `sql` holds only whitespace or comments,
    /// and the text after the statement.
    static func prepare(
        _ sql: String, connection: OpaquePointer, persistent: Bool
    ) throws(StoreError) -> (Statement?, tail: String) {
        var statement: OpaquePointer?
        var consumed = 0
        let utf8 = Array(sql.utf8)
        let code = utf8.withUnsafeBufferPointer { buffer -> Int32 in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                var tail: UnsafePointer<CChar>?
                // sqlite3_prepare_v3 reads nByte bytes (no NUL needed) and points pzTail past the first
                // statement; SQLITE_PREPARE_PERSISTENT hints that the statement will be reused from the cache.
                // https://www.sqlite.org/c3ref/prepare.html
                let result = sqlite3_prepare_v3(
                    connection, chars.baseAddress, Int32(chars.count),
                    persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0, &statement, &tail)
                if let tail, let base = chars.baseAddress { consumed = tail - base } else { consumed = chars.count }
                return result
            }
        }
        let prepared = String(decoding: utf8[..<consumed], as: UTF8.self).trimmingSQLSeparators
        guard code == SQLITE_OK else {
            sqlite3_finalize(statement)
            // On failure pzTail need not point past the whole statement: name all the SQL given.
            throw error(code: code, connection: connection, sql: sql.trimmingSQLSeparators,
                        what: "SQLite could not prepare a statement")
        }
        let tail = String(decoding: utf8[consumed...], as: UTF8.self)
        guard let statement else { return (nil, tail) }
        return (Statement(handle: statement, connection: connection, sql: prepared), tail)
    }

    // MARK: - Binding and stepping

    /// Resets the statement, clears old bindings and binds `values` to its parameters in order.
    /// - Throws: ``StoreError`` when the number of values is not the number of parameters.
    public func bind(_ values: [DatabaseValue]) throws(StoreError) {
        reset()
        // https://www.sqlite.org/c3ref/bind_parameter_count.html
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count == expected else {
            throw StoreError(
                .invalidArgument, "the statement takes \(expected) values but was given \(values.count) (bug in Renkei)",
                sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            // sqlite3_bind_*: leftmost parameter has index 1. SQLITE_TRANSIENT makes SQLite copy the bytes
            // before returning, so no Swift pointer outlives the closure. A NULL data pointer would bind
            // SQL NULL, hence zeroblob/empty literal for empty values. https://www.sqlite.org/c3ref/bind_blob.html
            switch value {
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .integer(let integer):
                code = sqlite3_bind_int64(handle, index, integer)
            case .text(let text) where text.isEmpty:
                code = sqlite3_bind_text(handle, index, "", 0, renkei_sqlite_transient())
            case .text(var text):
                code = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        sqlite3_bind_text(
                            handle, index, chars.baseAddress, Int32(chars.count), renkei_sqlite_transient())
                    }
                }
            case .blob(let bytes):
                if bytes.isEmpty {
                    code = sqlite3_bind_zeroblob(handle, index, 0)
                } else {
                    code = bytes.withUnsafeBytes { raw in
                        sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), renkei_sqlite_transient())
                    }
                }
            }
            guard code == SQLITE_OK else { throw failure(code, "SQLite could not bind parameter \(index)") }
        }
    }

    /// Advances to the next row.
    /// - Returns: `true` while a row is available, `false` once the statement has run to completion.
    /// - Throws: ``StoreError`` with SQLite's result codes and message, and this statement's SQL.
    public func step() throws(StoreError) -> Bool {
        // sqlite3_step with a v2/v3 statement returns the specific error code directly; after DONE the
        // next call resets automatically. https://www.sqlite.org/c3ref/step.html
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let error = failure(code, "SQLite could not run a statement")
            reset()
            throw error
        }
    }

    /// Resets the statement to run again, keeping nothing from the previous run; releases the read
    /// lock a half-read SELECT holds.
    public func reset() {
        // sqlite3_reset returns the previous step's error, which was already reported; ignore it.
        // https://www.sqlite.org/c3ref/reset.html and https://www.sqlite.org/c3ref/clear_bindings.html
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `values` and steps to completion, ignoring any rows.
    /// - Throws: ``StoreError``.
    public func run(_ values: [DatabaseValue]) throws(StoreError) {
        try bind(values)
        while try step() {}
    }

    /// Binds `values`, steps to completion and maps each row.
    /// - Parameters:
    ///   - values: The parameter values.
    ///   - map: Reads one row through the column readers.
    /// - Returns: The mapped rows in order.
    /// - Throws: ``StoreError``, or `map`'s error (the statement is reset either way).
    public func rows<T>(_ values: [DatabaseValue], _ map: (Statement) throws -> T) throws -> [T] {
        try bind(values)
        defer { reset() }
        var result: [T] = []
        while try step() { result.append(try map(self)) }
        return result
    }

    // MARK: - Columns (https://www.sqlite.org/c3ref/column_blob.html; leftmost column is 0)

    /// The column as an integer (0 for NULL, SQLite's conversion for other types).
    public func int64(_ column: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(column))
    }

    /// The column as text with its exact code points, or nil for NULL.
    public func string(_ column: Int) -> String? {
        guard !isNull(column) else { return nil }
        // Call column_text before column_bytes: the byte count then refers to the UTF-8 form.
        guard let text = sqlite3_column_text(handle, Int32(column)) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Lends the column's text bytes (UTF-8, empty for NULL) without copying them: valid only inside
    /// `body` (SQLite frees them at the next step or reset).
    public func withTextBytes<T>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        // column_text before column_bytes, as above; the pointer lives until the next step/reset/finalize.
        guard let text = sqlite3_column_text(handle, Int32(column)) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, Int32(column)))))
    }

    /// The column as bytes, or nil for NULL.
    public func blob(_ column: Int) -> [UInt8]? {
        guard !isNull(column) else { return nil }
        // An empty blob comes back as a NULL pointer.
        guard let bytes = sqlite3_column_blob(handle, Int32(column)) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Whether the column is SQL NULL.
    public func isNull(_ column: Int) -> Bool {
        sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL
    }

    // MARK: - Errors

    private func failure(_ code: Int32, _ what: String) -> StoreError {
        Self.error(code: code, connection: connection, sql: sql, what: what)
    }

    static func error(code: Int32, connection: OpaquePointer, sql: String, what: String) -> StoreError {
        // sqlite3_errmsg / sqlite3_extended_errcode describe the most recent failed call on this
        // connection, which is the one that just returned `code`. https://www.sqlite.org/c3ref/errcode.html
        let message = String(cString: sqlite3_errmsg(connection))
        var extended = ResultCode(rawValue: sqlite3_extended_errcode(connection))
        if extended.primary.rawValue != code & 0xFF { extended = ResultCode(rawValue: code) }
        return StoreError(
            .sql, "\(what): " + StoreError.advice(for: extended), resultCode: extended, sqliteMessage: message, sql: sql)
    }
}

extension String {
    /// The text without leading and trailing whitespace and semicolons (for naming SQL in errors).
    var trimmingSQLSeparators: String {
        let isSeparator: (Character) -> Bool = { $0.isWhitespace || $0 == ";" }
        return String(drop(while: isSeparator).reversed().drop(while: isSeparator).reversed())
    }
}
