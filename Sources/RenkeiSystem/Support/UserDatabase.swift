import Glibc

/// Users and groups as the system knows them (NSS: `/etc/passwd`, `/etc/group`, or a directory
/// service), for deciding what a status-socket caller may do.
///
/// The `*_r` look-ups return their error number instead of setting errno and never fail with `EINTR`,
/// so they are called directly rather than through ``Syscall``; `ERANGE` (buffer too small) is
/// answered by retrying with a larger buffer, as getpwnam_r(3) advises.
public enum UserDatabase {
    /// The largest buffer a look-up may use (a group with thousands of members needs a few hundred KiB).
    static let maxBuffer = 1 << 22

    /// The ID of the group `name` (getgrnam_r(3)).
    /// - Throws: ``SystemError`` (`invalidArgument`) when there is no such group, saying how to create it.
    public static func groupID(named name: String) throws(SystemError) -> UInt32 {
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var size = 16384
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getgrnam_r(name, &group, &buffer, buffer.count, &result)
            if status == ERANGE && size < maxBuffer {
                size *= 4
                continue
            }
            if status != 0 { throw SystemError(operation: "getgrnam_r(\(name))", errorNumber: status) }
            guard result != nil else {
                throw SystemError(
                    .invalidArgument, operation: "look up group \(name)",
                    message: "no such group; create it (groupadd \(name)) or fix the configured group")
            }
            return group.gr_gid
        }
    }

    /// A user's name and primary group (getpwuid_r(3)); `nil` when the uid has no entry.
    public static func user(_ uid: UInt32) throws(SystemError) -> (name: String, primaryGroup: UInt32)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            if status == ERANGE && size < maxBuffer {
                size *= 4
                continue
            }
            if status != 0 { throw SystemError(operation: "getpwuid_r(\(uid))", errorNumber: status) }
            guard result != nil, let name = entry.pw_name else { return nil }
            return (String(cString: name), entry.pw_gid)
        }
    }

    /// Every group `uid` is in according to the group database: its primary group and its
    /// supplementary groups (getgrouplist(3)), read afresh on each call so that `usermod -aG` and
    /// `gpasswd -d` take effect on the caller's next request.
    /// - Returns: the group IDs; empty when the uid has no user entry.
    /// - Throws: ``SystemError`` when the user database cannot be read.
    public static func groups(ofUser uid: UInt32) throws(SystemError) -> Set<UInt32> {
        guard let user = try user(uid) else { return [] }
        var count: Int32 = 32
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var found = count
            // getgrouplist(3): returns -1 and sets `found` to the number needed when the array is too small.
            if getgrouplist(user.name, user.primaryGroup, &groups, &found) != -1 {
                return Set(groups.prefix(Int(found)))
            }
            guard found > count, Int(found) <= maxBuffer else {
                throw SystemError(
                    .other, operation: "getgrouplist(\(user.name))",
                    message: "the group database could not be read; check /etc/group and nsswitch.conf")
            }
            count = found
        }
    }

    /// This process's effective user ID (geteuid(2), which cannot fail).
    public static var effectiveUserID: UInt32 { geteuid() }
}

/// The file-creation mask of the process (umask(2)).
public enum FileCreationMask {
    /// Sets the mask to `0077`, so every file and folder the process creates without an explicit
    /// mode (SQLite's database, WAL and shared-memory files, copies, folders) is its owner's alone,
    /// whatever mask the caller left. Returns the mask that was in force.
    @discardableResult
    public static func restrictToOwner() -> UInt32 {
        // umask(2) always succeeds and returns the previous mask.
        UInt32(umask(0o077))
    }
}
