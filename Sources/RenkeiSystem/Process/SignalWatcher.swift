import Foundation
import Glibc
import Synchronization

/// The signals a daemon reacts to.
public enum Signal: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// SIGTERM: stop gracefully (systemd's stop).
    case terminate
    /// SIGINT: stop gracefully (Ctrl-C).
    case interrupt
    /// SIGHUP: reload configuration.
    case hangUp

    var number: Int32 {
        switch self {
        case .terminate: return SIGTERM
        case .interrupt: return SIGINT
        case .hangUp: return SIGHUP
        }
    }

    /// `SIGTERM`, `SIGINT` or `SIGHUP`.
    public var description: String {
        switch self {
        case .terminate: return "SIGTERM"
        case .interrupt: return "SIGINT"
        case .hangUp: return "SIGHUP"
        }
    }
}

/// Delivers signals to a `@Sendable` handler on a background thread.
///
/// Why not `SIG_IGN` + `DispatchSource.makeSignalSource` (STYLE.md's suggestion): on Linux,
/// libdispatch observes signals through a signalfd and blocks them only in the thread that created
/// the source. A process-directed signal is delivered to any thread that does not block it, and
/// with `SIG_IGN` there it is discarded — the test for this lost SIGHUP about one run in two. So the
/// signal gets a minimal async-signal-safe handler (sigaction(2)) that writes the signal number to
/// a self-pipe (the classic self-pipe trick; write(2) is on signal-safety(7)'s list), and one
/// reader thread hands it to the watchers. The default action (terminate) never runs.
public final class SignalWatcher: Sendable {
    private let id: Int
    private let signals: Set<Signal>

    /// Starts watching.
    /// - Parameters:
    ///   - signals: the signals to watch.
    ///   - handler: called once per delivery, on the signal thread; keep it short.
    public init(signals: [Signal], handler: @escaping @Sendable (Signal) -> Void) {
        self.signals = Set(signals)
        id = SignalRelay.shared.add(signals: self.signals, handler: handler)
    }

    /// Stops delivering to this watcher; the signals stay caught (their default action does not return).
    public func cancel() {
        SignalRelay.shared.remove(id)
    }

    deinit { cancel() }
}

/// The process-wide self-pipe and the watchers it feeds.
final class SignalRelay: Sendable {
    static let shared = SignalRelay()

    private struct State {
        var nextID = 0
        var watchers: [Int: (Set<Signal>, @Sendable (Signal) -> Void)] = [:]
        var installed: Set<Int32> = []
    }

    private let state = Mutex(State())
    private let readDescriptor: Int32

    private init() {
        var descriptors: [Int32] = [-1, -1]
        // pipe(2); the write end is non-blocking so the signal handler can never block.
        let made = pipe(&descriptors)
        precondition(made == 0, "pipe() failed: cannot watch signals")
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(descriptors[1], F_SETFL, fcntl(descriptors[1], F_GETFL) | O_NONBLOCK)
        readDescriptor = descriptors[0]
        signalPipeWriteDescriptor.store(descriptors[1], ordering: .sequentiallyConsistent)
        let thread = Thread { [readDescriptor] in SignalRelay.readLoop(readDescriptor) }
        thread.name = "renkei-signals"
        thread.start()
    }

    func add(signals: Set<Signal>, handler: @escaping @Sendable (Signal) -> Void) -> Int {
        state.withLock { state in
            for signal in signals where !state.installed.contains(signal.number) {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = relaySignal
                // SA_RESTART: interrupted slow calls restart; the rest go through Syscall's EINTR retry.
                action.sa_flags = SA_RESTART
                sigemptyset(&action.sa_mask)
                _ = sigaction(signal.number, &action, nil)
                state.installed.insert(signal.number)
            }
            let id = state.nextID
            state.nextID += 1
            state.watchers[id] = (signals, handler)
            return id
        }
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    private static func readLoop(_ descriptor: Int32) {
        var byte: UInt8 = 0
        while true {
            guard let count = try? Syscall.call("read(signal pipe)", { read(descriptor, &byte, 1) }), count == 1 else {
                return
            }
            guard let signal = Signal.allCases.first(where: { $0.number == Int32(byte) }) else { continue }
            let handlers = shared.state.withLock { state in
                state.watchers.sorted { $0.key < $1.key }.filter { $0.value.0.contains(signal) }.map(\.value.1)
            }
            for handler in handlers { handler(signal) }
        }
    }
}

/// The self-pipe's write end, read by the signal handler (an atomic: no locks in a handler).
private let signalPipeWriteDescriptor = Atomic<Int32>(-1)

/// The signal handler: async-signal-safe, it only writes one byte (signal-safety(7)).
private func relaySignal(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteDescriptor.load(ordering: .relaxed), &byte, 1)
    errno = saved
}
