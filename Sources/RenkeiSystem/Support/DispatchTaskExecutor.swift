import Dispatch

/// A task executor whose jobs run on a Dispatch queue of their own, never on Swift's cooperative
/// pool (as wide as the machine has cores: two here).
///
/// For a server whose requests must be answered even while every pool thread is busy with blocking
/// work: test receivers above all, which otherwise time out when other test suites' synchronous
/// tests hold the pool (`HTTPServer`'s `handlerExecutor`). A task started with
/// `Task(executorPreference:)` runs its nonisolated async code here, also after it resumes.
public final class DispatchTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: the queue is immutable and Dispatch queues are thread-safe.
    private let queue: DispatchQueue
    private let marker = DispatchSpecificKey<Bool>()

    /// Creates an executor backed by a concurrent queue (Dispatch adds threads as jobs block).
    /// - Parameter label: the queue's label, seen in debuggers.
    public init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
        queue.setSpecific(key: marker, value: true)
    }

    /// Whether the calling code runs on this executor's queue.
    public var isCurrent: Bool { DispatchQueue.getSpecific(key: marker) == true }

    /// Runs `job` on the queue.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.async { unowned.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
