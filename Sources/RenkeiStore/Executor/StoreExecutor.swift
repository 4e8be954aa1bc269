import Foundation

/// The store's own threads for blocking work: SQLite reads (a delivery lane's outbox reads, the
/// status routes, `verify`) and other blocking store calls (a backup) run here, never on Swift's
/// cooperative pool, whose one thread per core (two on a small VM) a blocking call would take from
/// every task — including the ones that would answer it.
///
/// A fixed set of threads, started on first use, takes jobs in the order they came. Each thread
/// keeps its own read-only connection to ``path``, opened on its first ``read(_:)`` (a `Database`
/// never leaves the thread that opened it). Writes go through ``LogWriter``, the single writer.
public final class StoreExecutor: Sendable {
    /// The database ``read(_:)`` connects to.
    public let path: String
    /// How many threads run jobs at most.
    public let threadCount: Int
    private let name: String
    private let queue = JobQueue()

    /// Creates an executor; no thread starts before the first job.
    /// - Parameters:
    ///   - path: the database that ``read(_:)`` reads (read-only connections).
    ///   - threads: how many jobs run at once at most (each a thread of its own).
    ///   - name: the threads' name, as `top -H` and debuggers show it.
    public init(path: String, threads: Int = 4, name: String = "renkei-store") {
        precondition(threads > 0, "a StoreExecutor needs at least one thread")
        self.path = path
        self.threadCount = threads
        self.name = name
    }

    deinit {
        queue.close()
    }

    /// Runs blocking `body` on one of the executor's threads and returns its result.
    /// - Throws: what `body` throws.
    public func run<Value: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            submit { _ in continuation.resume(returning: Result { () throws(Failure) in try body() }) }
        }
        return try result.get()
    }

    /// Runs `body` with this thread's read-only connection to ``path`` (opened on first use) and
    /// returns its result. Any transaction `body` leaves open is rolled back.
    /// - Throws: a ``StoreError`` when the connection cannot be opened, or what `body` throws.
    public func read<Value: Sendable>(_ body: @escaping @Sendable (Database) throws -> Value) async throws -> Value {
        let path = self.path
        let result: Result<Value, any Error> = await withCheckedContinuation { continuation in
            submit { worker in
                continuation.resume(
                    returning: Result {
                        let db = try worker.connection(path: path)
                        defer { db.rollbackIfNeeded() }
                        return try body(db)
                    })
            }
        }
        return try result.get()
    }

    /// Runs `body` with a thread's read-only connection like ``read(_:)``, without waiting for it:
    /// for work nobody awaits (counting the log for `/v1/status` after start-up).
    /// - Parameter onError: called on that thread with the error, when the connection cannot be
    ///   opened or `body` throws.
    public func readDetached(
        _ body: @escaping @Sendable (Database) throws -> Void, onError: @escaping @Sendable (any Error) -> Void
    ) {
        let path = self.path
        submit { worker in
            do {
                let db = try worker.connection(path: path)
                defer { db.rollbackIfNeeded() }
                try body(db)
            } catch {
                onError(error)
            }
        }
    }

    /// The `name` of the executor whose thread runs the caller, or `nil` off the store's threads
    /// (on Linux, `Thread.current.name` does not tell: a thread there carries its creator's name).
    public static var currentName: String? {
        Thread.current.threadDictionary[threadMarker] as? String
    }

    private static let threadMarker = "renkei.StoreExecutor"

    private func submit(_ job: @escaping @Sendable (Worker) -> Void) {
        if queue.push(job, threadLimit: threadCount) {
            let queue = self.queue
            let name = self.name
            let thread = Thread {
                Thread.current.threadDictionary[Self.threadMarker] = name
                Worker().loop(queue)
            }
            thread.name = name
            thread.start()
        }
    }

    /// One thread's state: its read-only connection, if opened.
    final class Worker {
        private var database: Database?

        func connection(path: String) throws(StoreError) -> Database {
            if let database { return database }
            let opened = try Database(path: path, readOnly: true)
            database = opened
            return opened
        }

        func loop(_ queue: JobQueue) {
            while let job = queue.pop() { job(self) }
        }
    }

    /// Jobs waiting for a thread; starts threads up to the limit as jobs come in.
    final class JobQueue: @unchecked Sendable {
        // @unchecked: `state` is only read or written with `condition` locked.
        private struct State {
            var jobs: [@Sendable (Worker) -> Void] = []
            var head = 0
            var threads = 0
            var idle = 0
            var closed = false
        }
        // NSCondition: a job queue needs wait/signal, which Mutex lacks.
        private let condition = NSCondition()
        private var state = State()

        /// Queues `job`; returns whether the caller must start a new thread for it.
        func push(_ job: @escaping @Sendable (Worker) -> Void, threadLimit: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            state.jobs.append(job)
            if state.idle > 0 { condition.signal() }
            // Enough idle threads for every waiting job, or no room for another thread.
            guard state.idle < state.jobs.count - state.head, state.threads < threadLimit else { return false }
            state.threads += 1
            return true
        }

        /// The next job, waiting for one; `nil` once closed and drained (the thread then ends).
        func pop() -> (@Sendable (Worker) -> Void)? {
            condition.lock()
            defer { condition.unlock() }
            while state.head == state.jobs.count {
                if state.closed {
                    state.threads -= 1
                    return nil
                }
                state.idle += 1
                condition.wait()
                state.idle -= 1
            }
            let job = state.jobs[state.head]
            state.head += 1
            if state.head > 64, state.head * 2 > state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return job
        }

        /// Lets the threads end once the queued jobs are done.
        func close() {
            condition.lock()
            state.closed = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
