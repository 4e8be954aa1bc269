/// The idle easy handles of one multi handle, kept for the next requests (loop thread only).
///
/// A request takes a handle already configured for its ``EasyHandle/Profile`` if there is one, so
/// that only its per-request options are set; otherwise any idle handle (which `prepare` resets), or
/// none, and the loop creates one. Only handles whose transfer completed go back; one that failed,
/// was cancelled or could not be configured is dropped, so an odd state never reaches a later request.
struct EasyHandlePool {
    private var idle: [EasyHandle] = []
    /// The most idle handles kept; more are freed. The loop uses the connection limit: more handles
    /// than connections would only wait in the multi handle's queue.
    let capacity: Int

    /// Creates an empty pool.
    /// - Parameter capacity: The most idle handles to keep.
    init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// An idle handle, preferably one configured for `profile`; `nil` when none is idle.
    mutating func take(for profile: EasyHandle.Profile) -> EasyHandle? {
        // The most recently used first: it is the likeliest to match and to be warm in the cache.
        if let index = idle.lastIndex(where: { $0.profile == profile }) {
            return idle.remove(at: index)
        }
        return idle.popLast()
    }

    /// Keeps `handle` for a later request (it must be out of the multi handle), or frees it when the
    /// pool is full.
    mutating func put(_ handle: EasyHandle) {
        guard idle.count < capacity else { return }
        idle.append(handle)
    }

    /// Frees every idle handle.
    mutating func removeAll() {
        idle.removeAll()
    }
}
