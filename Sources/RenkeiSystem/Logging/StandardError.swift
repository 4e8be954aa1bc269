import Glibc

/// Unbuffered writes to file descriptor 2.
enum StandardError {
    /// Writes the whole string with as few `write(2)` calls as possible (one for a normal line:
    /// pipe(7) makes writes up to PIPE_BUF atomic, so concurrent lines do not interleave).
    static func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                (try? Syscall.call("write(2)") { Glibc.write(2, raw.baseAddress! + offset, raw.count - offset) }) ?? -1
            }
            guard written > 0 else { return }
            offset += written
        }
    }
}
