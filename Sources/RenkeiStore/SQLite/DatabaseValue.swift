/// A value bound to an SQL parameter: one of SQLite's storage classes (<https://www.sqlite.org/datatype3.html>).
///
/// Text is bound as its exact UTF-8 bytes (no normalisation), so CJK compatibility ideographs and IVS
/// sequences are stored as given. There is no `real` case: Renkei stores no floating-point values.
public enum DatabaseValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// UTF-8 text.
    case text(String)
    /// Raw bytes.
    case blob([UInt8])
}

extension DatabaseValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    /// Creates a text value from a literal.
    public init(stringLiteral value: String) { self = .text(value) }
    /// Creates an integer value from a literal.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// Creates NULL from `nil`.
    public init(nilLiteral: ()) { self = .null }
}
