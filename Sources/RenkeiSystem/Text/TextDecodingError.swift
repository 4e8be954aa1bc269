/// Bytes that do not decode in the stated encoding: where, and what to do.
///
/// The message names the byte offset and the byte values, never the decoded text around them, so it
/// can be logged and written to `rejected/*.errors.jsonl` without quoting personal data.
public struct TextDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The encoding that was expected (`cp932`, `utf-8`).
    public var encoding: String
    /// The 0-based offset of the first byte that does not decode, within the bytes given.
    public var offset: Int
    /// Up to two bytes found at ``offset`` (the start of the bad sequence).
    public var bytes: [UInt8]
    /// Whether the input ended in the middle of a multi-byte character.
    public var truncated: Bool
    /// A problem that is not about the bytes (the converter is missing), if any.
    public var problem: String?

    /// Creates an error.
    /// - Parameters:
    ///   - encoding: the expected encoding.
    ///   - offset: the 0-based offset of the bad byte.
    ///   - bytes: the bytes at that offset.
    ///   - truncated: the input ended inside a character.
    ///   - problem: a problem that is not about the bytes, replacing the message.
    public init(encoding: String, offset: Int, bytes: [UInt8], truncated: Bool, problem: String? = nil) {
        self.problem = problem
        self.encoding = encoding
        self.offset = offset
        self.bytes = bytes
        self.truncated = truncated
    }

    /// Returns the error with its offset moved by `delta` (to report a file offset for a field).
    public func shifted(by delta: Int) -> TextDecodingError {
        var copy = self
        copy.offset += delta
        return copy
    }

    public var description: String {
        if let problem { return problem }
        let hex = bytes.map { "0x" + String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
        if truncated {
            return "the data ends inside a \(encoding) character at byte offset \(offset) (\(hex)): "
                + "the file is cut short or is not \(encoding)"
        }
        return "byte \(hex) at byte offset \(offset) is not valid \(encoding): "
            + "check the source's encoding setting (csv.encoding is utf-8 or cp932)"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
