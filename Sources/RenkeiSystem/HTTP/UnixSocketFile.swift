import Glibc

/// Creating a listening UNIX socket file: stale-file removal, mode and group.
enum UnixSocketFile {
    static func bindListener(path: String, mode: UInt32, group: String?) throws(SystemError) -> Socket {
        try removeIfStale(path)
        let listener = try Socket.make(family: AF_UNIX)
        try listener.bind(.unix(path))
        // chmod(2) after bind(2): bind creates the file with the umask applied; connecting needs write permission.
        _ = try Syscall.call("chmod(\(path), \(String(mode, radix: 8)))") { chmod(path, mode_t(mode)) }
        if let group {
            let gid = try UserDatabase.groupID(named: group)
            // chown(2): uid -1 leaves the owner alone; changing the group needs membership or CAP_CHOWN.
            _ = try Syscall.call("chown(\(path), group \(group))") { chown(path, uid_t.max, gid) }
        }
        return listener
    }

    /// Removes `path` if it is a socket nobody accepts on; throws if a server is live there or it is not a socket.
    static func removeIfStale(_ path: String) throws(SystemError) {
        var info = stat()
        // lstat(2): ENOENT means there is nothing to remove.
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw SystemError(
                .addressInUse, operation: "bind(\(path))",
                message: "a file that is not a socket is in the way; move it aside or configure another status_socket path")
        }
        let probe = try Socket.make(family: AF_UNIX)
        do throws(SystemError) {
            try probe.connect(.unix(path))
        } catch {
            guard error.code == .connectionRefused else { throw error }
            // connect(2) ECONNREFUSED on a UNIX socket: the file exists but no one listens. It is stale.
            _ = try Syscall.call("unlink(\(path))") { unlink(path) }
            return
        }
        throw SystemError(
            .addressInUse, operation: "bind(\(path))",
            message: "another process is serving this socket; is renkeid already running? see `systemctl status renkeid`")
    }
}
