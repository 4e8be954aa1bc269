import Foundation
import RenkeiCore
import RenkeiStore

/// Reads and parses the log in chunks on a thread of its own, at most ``ahead`` chunks ahead of
/// the thread that takes them, so a rebuild applies chunk N while chunk N+1 is being parsed.
///
/// The thread opens its own read-only connection and reads inside one read transaction, so every
/// chunk comes from the same snapshot. It ends after the chunk that reaches the target lsn, at the
/// first error (which ``next()`` then throws), or when ``stop()`` is called.
///
/// Memory stays bounded: the thread waits for room before it reads a chunk, so at most ``ahead``
/// parsed chunks exist beside the one being applied.
final class LogChunkReader: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `done` and `stopped` are read and written only with `condition`
    // locked (a condition variable needs its own lock, which `Mutex` does not offer).
    private let condition = NSCondition()
    /// Parsed chunks (never empty) not taken yet, and at most one error, last.
    private var queue: [Result<[LoggedEvent], StoreError>] = []
    /// The thread has ended: nothing more will be queued, and its connection is closed.
    private var done = false
    /// The taker is gone (``stop()``): the thread ends at its next turn and queues nothing more.
    private var stopped = false

    /// How many parsed chunks may wait for the taker.
    let ahead: Int

    /// Starts reading at once.
    /// - Parameters:
    ///   - databasePath: the database file; opened read-only on the reading thread.
    ///   - lsn: read the events after this lsn…
    ///   - target: …up to and including this one (later events are left out).
    ///   - chunkSize: events per chunk.
    ///   - ahead: how many parsed chunks may wait for ``next()`` (at least 1).
    init(databasePath: String, after lsn: Int64, through target: Int64, chunkSize: Int = 10_000, ahead: Int = 2) {
        self.ahead = max(1, ahead)
        let thread = Thread { [self] in
            read(databasePath: databasePath, after: lsn, through: target, chunkSize: max(1, chunkSize))
        }
        thread.name = "renkei-log-reader"
        thread.start()
    }

    /// The next chunk in log order, waiting for it if it is not parsed yet; `nil` once the target
    /// lsn (or the end of the log) has been reached.
    /// - Throws: the ``StoreError`` that stopped the reading thread (the database could not be
    ///   opened or read, or an event is not a valid envelope: `renkeictl verify` tells which).
    func next() throws(StoreError) -> [LoggedEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !done && !stopped { condition.wait() }
        guard !stopped, !queue.isEmpty else { return nil }
        let item = queue.removeFirst()
        condition.broadcast()
        return try item.get()
    }

    /// How many parsed chunks wait for ``next()`` now (tests see the reader fill its places with it).
    var queuedChunks: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Ends the reading early (or confirms it ended): drops what is queued, and returns once the
    /// reading thread has ended and closed its connection — at most the time it takes to parse
    /// one chunk. Call it when done taking chunks, whether or not the end was reached.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        queue.removeAll()
        condition.broadcast()
        while !done { condition.wait() }
    }

    // MARK: - The reading thread

    private func read(databasePath: String, after lsn: Int64, through target: Int64, chunkSize: Int) {
        defer {
            condition.lock()
            done = true
            condition.broadcast()
            condition.unlock()
        }
        do throws(StoreError) {
            let db = try Database(path: databasePath, readOnly: true)
            // One read transaction: every chunk comes from the same snapshot of the log.
            // https://www.sqlite.org/isolation.html
            try db.execute("BEGIN")
            defer { try? db.execute("COMMIT") }
            var after = lsn
            while after < target, waitForRoom() {
                let chunk = try EventLog.read(in: db, after: after, limit: chunkSize).filter { $0.lsn <= target }
                guard let last = chunk.last else { return }
                after = last.lsn
                put(.success(chunk))
            }
        } catch {
            put(.failure(error))
        }
    }

    /// Waits until fewer than ``ahead`` chunks are queued; `false` when the taker has stopped.
    private func waitForRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= ahead && !stopped { condition.wait() }
        return !stopped
    }

    private func put(_ item: Result<[LoggedEvent], StoreError>) {
        condition.lock()
        defer { condition.unlock() }
        if !stopped { queue.append(item) }
        condition.broadcast()
    }
}
