import Glibc

/// Writes files into a folder a consumer reads, so that the consumer never sees half a file and a
/// file once named is on disk (issue 17's file subscriptions).
///
/// The sequence for one file: write the bytes to a temporary name in the same folder (starting with
/// `.`, which consumers and Renkei's own spool ignore), `fsync` it, `fsync` the folder (so the
/// temporary entry survives a power cut), and later ``publish(temporary:as:marker:)``: `rename(2)`
/// it into place (atomic within one file system), `fsync` the folder again, and, if asked, write an
/// empty done marker the same way. These calls block: run them off the cooperative pool.
public enum DurableFile {
    /// Writes `bytes` to `dir/name` (replacing it), `fsync`s the file and then the folder.
    /// - Parameter mode: the permission bits of the file, whatever the umask (default 0640: the
    ///   consumer's group reads it).
    /// - Throws: ``SystemError`` naming the call and the path.
    public static func writeSynced(_ bytes: [UInt8], dir: String, name: String, mode: UInt32 = 0o640) throws(SystemError) {
        let path = dir + "/" + name
        // open(2) O_CLOEXEC|O_TRUNC: the temporary is rebuilt from the start whenever it is written.
        let fd = try Syscall.call("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode)) }
        defer { Syscall.close(fd) }
        try setMode(fd, mode, path: path)
        try writeAll(fd, bytes, path: path)
        // fsync(2): returns once the file's data and metadata are on the device.
        _ = try Syscall.call("fsync \(path)") { fsync(fd) }
        try syncDirectory(dir)
    }

    /// Renames `dir/temporary` to `dir/name`, `fsync`s the folder, then (with `marker`) writes the
    /// empty marker file `dir/marker` durably.
    /// - Throws: ``SystemError`` naming the call and the path.
    public static func publish(temporary: String, as name: String, dir: String, marker: String? = nil) throws(SystemError) {
        let from = dir + "/" + temporary
        let to = dir + "/" + name
        // rename(2): atomic replacement within one file system; readers see the old name or the new file.
        _ = try Syscall.call("rename \(from) to \(to)") { rename(from, to) }
        try syncDirectory(dir)
        if let marker {
            try writeSynced([], dir: dir, name: marker)
        }
    }

    /// Whether `dir/name` exists (any kind of entry; a link is not followed).
    public static func exists(dir: String, name: String) -> Bool {
        var info = stat()
        return lstat(dir + "/" + name, &info) == 0
    }

    /// Removes `dir/name` if it is there.
    /// - Throws: ``SystemError`` for any failure other than the file being absent.
    public static func remove(dir: String, name: String) throws(SystemError) {
        let path = dir + "/" + name
        if unlink(path) == -1, errno != ENOENT {
            throw SystemError(operation: "unlink \(path)", errorNumber: errno)
        }
    }

    /// The names in `dir` (not `.` and `..`).
    /// - Throws: ``SystemError`` when the folder cannot be read.
    public static func names(in dir: String) throws(SystemError) -> [String] {
        guard let handle = opendir(dir) else { throw SystemError(operation: "opendir \(dir)", errorNumber: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Gives an open file exactly `mode`: open(2) applies the process umask (renkeid's unit has
    /// `UMask=0077`), and the consumer's group must read the file.
    static func setMode(_ fd: Int32, _ mode: UInt32, path: String) throws(SystemError) {
        // fchmod(2) on the descriptor: no window in which another name could be changed instead.
        _ = try Syscall.call("fchmod \(path)") { fchmod(fd, mode_t(mode)) }
    }

    /// Writes every byte of `bytes` to `fd` (write(2) may write less than asked).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try Syscall.call("write \(path)") {
                bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + offset, raw.count - offset) }
            }
            offset += written
        }
    }

    /// `fsync`s a folder, so the entries created or renamed in it are on the device.
    /// - Throws: ``SystemError`` naming the call and the folder.
    public static func syncDirectory(_ dir: String) throws(SystemError) {
        // open(2) O_DIRECTORY|O_RDONLY, then fsync(2): the documented way to persist directory entries.
        let fd = try Syscall.call("open \(dir)") { open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { Syscall.close(fd) }
        _ = try Syscall.call("fsync \(dir)") { fsync(fd) }
    }
}

/// A file being filled row by row (a file subscription's file in progress), under a temporary name.
/// Not shared between threads.
public final class AppendingFile {
    /// The folder.
    public let dir: String
    /// The file's name in it.
    public let name: String
    private let fd: Int32
    /// Bytes written so far.
    public private(set) var size = 0

    /// Creates (or empties) `dir/name`.
    /// - Throws: ``SystemError`` naming the call and the path.
    public init(dir: String, name: String, mode: UInt32 = 0o640) throws(SystemError) {
        self.dir = dir
        self.name = name
        let path = dir + "/" + name
        let fd = try Syscall.call("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode)) }
        do {
            try DurableFile.setMode(fd, mode, path: path)
        } catch {
            Syscall.close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { Syscall.close(fd) }

    /// Appends `bytes` (not yet synced).
    /// - Throws: ``SystemError`` naming the call and the path.
    public func append(_ bytes: [UInt8]) throws(SystemError) {
        try DurableFile.writeAll(fd, bytes, path: dir + "/" + name)
        size += bytes.count
    }

    /// `fsync`s the file and then its folder: the bytes and the temporary entry are on the device.
    /// - Throws: ``SystemError`` naming the call and the path.
    public func sync() throws(SystemError) {
        // fsync(2): returns once the file's data and metadata are on the device.
        _ = try Syscall.call("fsync \(dir)/\(name)") { fsync(fd) }
        try DurableFile.syncDirectory(dir)
    }
}
