import Glibc

/// Reads and moves files that another account put in a folder Renkei watches (a source's spool).
///
/// Such a file is not trusted to be what its name says: it may be a symbolic link to a secret the
/// daemon can read, a FIFO whose `read` never returns, a device, or far larger than any real export.
/// ``read(atPath:maxBytes:)`` looks at the entry itself (`lstat`), opens it with
/// `O_NOFOLLOW | O_NONBLOCK`, checks with `fstat` on the open descriptor that it is still a regular
/// file (so swapping it between the look and the open does not help), and refuses it otherwise
/// without reading a byte. These calls block: run them on a ``BlockingThread``.
public enum UntrustedFile {
    /// What a directory entry is, as `lstat` sees it (a link is not followed).
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case regular, directory, symbolicLink, fifo, characterDevice, blockDevice, socket, unknown

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFLNK: self = .symbolicLink
            case S_IFIFO: self = .fifo
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            case S_IFSOCK: self = .socket
            default: self = .unknown
            }
        }

        /// `"a symbolic link"`, `"a FIFO (named pipe)"`, … for messages.
        public var description: String {
            switch self {
            case .regular: return "a regular file"
            case .directory: return "a directory"
            case .symbolicLink: return "a symbolic link"
            case .fifo: return "a FIFO (named pipe)"
            case .characterDevice: return "a character device"
            case .blockDevice: return "a block device"
            case .socket: return "a socket"
            case .unknown: return "not a regular file"
            }
        }
    }

    /// What ``read(atPath:maxBytes:)`` found.
    public enum ReadResult: Sendable {
        /// The whole file: it was regular, within the limit, and did not change size while read.
        case contents([UInt8])
        /// Not a regular file: nothing was read (a link was not followed).
        case notRegular(Kind)
        /// Larger than the limit: nothing was read.
        case tooLarge(size: Int64)
        /// Its size changed while it was read: someone is still writing it.
        case changedWhileRead
    }

    /// The entry's own kind.
    /// - Throws: ``SystemError`` from `lstat` (``SystemError/Code/notFound`` when it is gone).
    public static func kind(atPath path: String) throws(SystemError) -> Kind {
        var info = stat()
        // lstat(2): "If pathname is a symbolic link, then it returns information about the link itself."
        _ = try Syscall.call("lstat(\(path))") { lstat(path, &info) }
        return Kind(mode: info.st_mode)
    }

    /// Whether anything (a dangling link included) is at `path`.
    public static func exists(atPath path: String) -> Bool {
        var info = stat()
        return (try? Syscall.call("lstat(\(path))") { lstat(path, &info) }) != nil
    }

    /// Where a symbolic link points (the text of the link; never followed), for reports.
    public static func linkTarget(atPath path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard let count = try? Syscall.call("readlink(\(path))", { readlink(path, &buffer, buffer.count - 1) }) else {
            return nil
        }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads a whole regular file of at most `maxBytes` bytes, refusing anything else unread.
    /// - Parameters:
    ///   - path: the entry (its last component is never followed).
    ///   - maxBytes: the largest size read; a larger file is refused by its `fstat` size.
    /// - Returns: the contents, or why nothing was read.
    /// - Throws: ``SystemError`` when the entry cannot be looked at, opened or read (permissions, I/O).
    public static func read(atPath path: String, maxBytes: Int64) throws(SystemError) -> ReadResult {
        let kind = try kind(atPath: path)
        guard kind == .regular else { return .notRegular(kind) }
        let descriptor: Int32
        do {
            // open(2): O_NOFOLLOW fails with ELOOP on a symbolic link; O_NONBLOCK makes opening a FIFO
            // return at once instead of waiting for a writer (the lstat above may have raced a swap).
            descriptor = try Syscall.call("open(\(path))") { open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        } catch where error.errorNumber == ELOOP {
            return .notRegular(.symbolicLink)
        } catch where error.errorNumber == ENXIO {
            // open(2): ENXIO for a UNIX domain socket (or a FIFO with no reader, on write).
            return .notRegular(.socket)
        }
        defer { Syscall.close(descriptor) }
        var info = stat()
        _ = try Syscall.call("fstat(\(path))") { fstat(descriptor, &info) }
        let opened = Kind(mode: info.st_mode)
        guard opened == .regular else { return .notRegular(opened) }
        guard Int64(info.st_size) <= maxBytes else { return .tooLarge(size: Int64(info.st_size)) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(info.st_size))
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = try Syscall.call("read(\(path))") {
                buffer.withUnsafeMutableBytes { raw in Glibc.read(descriptor, raw.baseAddress, chunk) }
            }
            if count == 0 { break }
            bytes += buffer[..<count]
            if Int64(bytes.count) > maxBytes { return .tooLarge(size: Int64(bytes.count)) }
        }
        _ = try Syscall.call("fstat(\(path))") { fstat(descriptor, &info) }
        guard Int64(info.st_size) == Int64(bytes.count) else { return .changedWhileRead }
        return .contents(bytes)
    }

    /// Renames `path` to `target` with rename(2): a link, FIFO or device is moved as the entry itself,
    /// never followed, opened or copied.
    /// - Throws: ``SystemError`` (`EXDEV` when the two are on different file systems).
    public static func rename(_ path: String, to target: String) throws(SystemError) {
        _ = try Syscall.call("rename(\(path), \(target))") { Glibc.rename(path, target) }
    }
}
