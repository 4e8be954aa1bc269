import CMalloc
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// This process's memory as the kernel counts it (`/proc/self/status`), for benchmarks and the
/// daemon's metrics: resident set now and its high-water mark, in bytes.
public enum ProcessMemory {
    /// `VmRSS`: resident now, in bytes (`nil` where /proc is unavailable).
    public static var residentBytes: Int? { field("VmRSS:") }

    /// `VmHWM`: the peak resident set since start or since ``resetPeak()``, in bytes.
    public static var peakBytes: Int? { field("VmHWM:") }

    /// Resets the high-water mark to the current resident set (Linux `clear_refs` 5), so a
    /// benchmark can measure one phase's peak. Returns whether the kernel accepted it.
    @discardableResult
    public static func resetPeak() -> Bool {
        (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    /// Hands memory that was freed back to the kernel (glibc `malloc_trim`), so that the
    /// resident set shows what is still in use after a large structure is dropped.
    public static func releaseFreed() {
        _ = malloc_trim(0)
    }

    private static func field(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            // "VmRSS:	  123456 kB"
            let digits = line.dropFirst(key.count).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
}

/// CPU time the calling thread has used, for benchmarks on shared machines: wall-clock rates
/// swing with other load, CPU time much less.
public enum ThreadCPUTime {
    /// Seconds of CPU (user + system) the calling thread has used since it started.
    public static var seconds: Double {
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return 0 }
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
