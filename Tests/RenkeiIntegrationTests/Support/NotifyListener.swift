import Foundation
import Glibc

/// A bound `AF_UNIX` datagram socket that plays systemd's part for `NOTIFY_SOCKET`
/// (sd_notify(3)): the daemon sends `READY=1`, `STATUS=…`, `STOPPING=1` datagrams to it.
///
/// A thread of its own reads the socket and stamps each datagram as it arrives, so the times are right
/// even while the test's tasks wait for a busy cooperative pool (a watchdog test counted 12 pings in
/// "16 s" when its task woke late and read a queue of datagrams all at once).
final class NotifyListener: @unchecked Sendable {
    /// The socket path to put in `NOTIFY_SOCKET`.
    let path: String
    private let fd: Int32
    private let reader: Reader

    /// Binds a datagram socket at `path` (an existing file there is removed first).
    init(path: String) throws {
        self.path = path
        unlink(path)
        // socket(2): SOCK_NONBLOCK so reads never block the test's threads.
        let fd = socket(
            AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket(AF_UNIX, SOCK_DGRAM): errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw HarnessError("notify socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw HarnessError("bind(\(path)): errno \(code)")
        }
        self.fd = fd
        let reader = Reader(fd: fd)
        self.reader = reader
        let thread = Thread { reader.readUntilStopped() }
        thread.name = "notify-listener"
        thread.start()
    }

    deinit {
        reader.stop()
        close(fd)
        unlink(path)
    }

    /// What the reader thread shares with the listener: the datagrams so far.
    private final class Reader: @unchecked Sendable {
        let fd: Int32
        let lock = NSLock()
        var received: [Datagram] = []
        var stopped = false
        let done = DispatchSemaphore(value: 0)

        init(fd: Int32) { self.fd = fd }

        /// The reader thread: waits for datagrams (poll(2), 20 ms at a time, to see ``stop()``) and
        /// reads them as they arrive.
        func readUntilStopped() {
            defer { done.signal() }
            while !lock.withLock({ stopped }) {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if Glibc.poll(&descriptor, 1, 20) > 0 { drain() }
            }
        }

        /// Reads every datagram waiting now, stamping each with this moment.
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                // recv(2) on a non-blocking socket: -1/EAGAIN once the queue is empty.
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                let datagram = Datagram(at: .now, text: String(decoding: buffer[0..<count], as: UTF8.self))
                lock.withLock { received.append(datagram) }
            }
        }

        /// Ends the reader thread and waits for it (before the socket is closed).
        func stop() {
            lock.withLock { stopped = true }
            done.wait()
        }
    }

    /// One datagram, stamped with the time the listener read it.
    struct Datagram: Sendable {
        /// When it was read: by the reader thread, as it arrived.
        var at: ContinuousClock.Instant
        /// The datagram text: newline-separated assignments such as `READY=1`.
        var text: String
        /// Whether one of its assignment lines is exactly `line`.
        func carries(_ line: String) -> Bool { text.split(separator: "\n").contains { $0 == line } }
    }

    /// Reads whatever the reader thread has not taken yet, and returns every datagram received so far.
    @discardableResult
    func poll() -> [Datagram] {
        reader.drain()
        return reader.lock.withLock { reader.received }
    }

    /// Forgets what was received (before launching the daemon again).
    func reset() {
        poll()
        reader.lock.withLock { reader.received.removeAll() }
    }

    /// Whether any datagram so far carried the assignment `line` (e.g. `READY=1`).
    func hasReceived(_ line: String) -> Bool {
        poll().contains { $0.carries(line) }
    }

    /// Every assignment line received so far, in order.
    func lines() -> [String] {
        poll().flatMap { $0.text.split(separator: "\n").map(String.init) }
    }

    /// When each datagram carrying `line` was read, in order.
    func times(of line: String) -> [ContinuousClock.Instant] {
        poll().filter { $0.carries(line) }.map(\.at)
    }
}

/// A harness failure with a message that says what happened.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
