/// A multimap from blocking key to record numbers. Most keys (a folded name, a kana reading) have
/// one record, held in the key's dictionary entry itself; a key with more (a birth date) has a
/// small contiguous list, so gathering a block costs a cache miss or two, not one per record. A
/// million profiles cost tens of megabytes here, where a set per key cost hundreds.
struct BlockTable: Sendable {
    /// One record (`count` 1, `value` the record) or a list (`value` its index in ``lists``).
    private struct Entry: Sendable {
        var count: UInt32
        var value: UInt32
    }

    private var entries: [UInt64: Entry] = [:]
    private var lists: [[UInt32]] = []
    /// Indices of emptied lists, for reuse.
    private var freeLists: [UInt32] = []

    mutating func reserveCapacity(keys: Int) {
        entries.reserveCapacity(keys)
    }

    mutating func insert(_ record: UInt32, into key: UInt64) {
        guard let entry = entries[key] else {
            entries[key] = Entry(count: 1, value: record)
            return
        }
        if entry.count == 1 {
            let list: UInt32
            if let reused = freeLists.popLast() {
                list = reused
                lists[Int(list)] = [entry.value, record]
            } else {
                list = UInt32(lists.count)
                lists.append([entry.value, record])
            }
            entries[key] = Entry(count: 2, value: list)
        } else {
            lists[Int(entry.value)].append(record)
            entries[key] = Entry(count: entry.count + 1, value: entry.value)
        }
    }

    mutating func remove(_ record: UInt32, from key: UInt64) {
        guard let entry = entries[key] else { return }
        if entry.count == 1 {
            if entry.value == record { entries[key] = nil }
            return
        }
        let list = Int(entry.value)
        guard let position = lists[list].firstIndex(of: record) else { return }
        lists[list].remove(at: position)
        if entry.count == 2 {
            entries[key] = Entry(count: 1, value: lists[list][0])
            lists[list] = []
            freeLists.append(entry.value)
        } else {
            entries[key] = Entry(count: entry.count - 1, value: entry.value)
        }
    }

    /// Calls `body` with every record under `key`, unless there are more than `limit`.
    @inline(__always)
    func forEach(in key: UInt64, ifAtMost limit: Int, _ body: (UInt32) -> Void) {
        guard let entry = entries[key], entry.count <= limit else { return }
        if entry.count == 1 {
            body(entry.value)
        } else {
            lists[Int(entry.value)].withUnsafeBufferPointer { records in
                for record in records { body(record) }
            }
        }
    }
}
