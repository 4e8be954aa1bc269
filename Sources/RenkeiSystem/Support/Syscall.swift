import Glibc

/// The one door to the kernel: every system call Renkei makes goes through ``call(_:_:)``, which
/// retries on `EINTR` and turns `-1` into a ``SystemError`` that keeps errno.
///
/// Modelled on swift-nio's `Sources/NIOPosix/System.swift` (`syscall(blocking:_:)`) and
/// swift-system's `valueOrErrno`. A signal arriving mid-call (we ignore SIGTERM/SIGHUP and read them
/// through Dispatch, but the runtime and debuggers still send others) must never surface as a failure.
enum Syscall {
    /// Runs `body` until it returns something other than `-1` with `errno == EINTR`.
    /// - Parameters:
    ///   - operation: names the call in the error, evaluated only on failure.
    ///   - body: the raw call; it returns `-1` and sets errno on failure (the POSIX convention).
    /// - Throws: ``SystemError`` with the errno of the failed call.
    @inline(__always)
    static func call<Result: FixedWidthInteger>(
        _ operation: @autoclosure () -> String, _ body: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = body()
            if result == -1 {
                let number = errno
                if number == EINTR { continue }
                throw SystemError(operation: operation(), errorNumber: number)
            }
            return result
        }
    }

    /// Closes a descriptor exactly once.
    ///
    /// close(2): "close() should not be retried after an EINTR since this may cause a reused file
    /// descriptor from another thread to be closed" — Linux always releases the descriptor, so this
    /// deliberately does not go through the retrying ``call(_:_:)``.
    static func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }
}
