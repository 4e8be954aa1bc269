/// A multimap from blocking key to record numbers. Most keys (a folded name, a kana reading) have
/// one record, held in the key's dictionary entry itself; a key with more (a birth date) has a
/// small contiguous list, so gathering a block costs a cache miss or two, not one per record. A
/// million profiles cost tens of megabytes here, where a set per key cost hundreds.
///
/// Listed records carry their ``MatchDigest``: a decision reads a birth date's list front to back
/// and dismisses most of the people on it without touching their signatures.
struct BlockTable: Sendable {
    /// A record on a key's list, with its digest (20 bytes).
    struct Member: Sendable {
        var record: UInt32
        var digest: MatchDigest
    }

    /// One record (`count` 1, `value` the record) or a list (`value` its index in ``lists``).
    private struct Entry: Sendable {
        var count: UInt32
        var value: UInt32
    }

    private var entries: [UInt64: Entry] = [:]
    private var lists: [[Member]] = []
    /// Indices of emptied lists, for reuse.
    private var freeLists: [UInt32] = []

    mutating func reserveCapacity(keys: Int) {
        entries.reserveCapacity(keys)
    }

    /// Adds `record` (whose digest is `digest`) under `key`; `digestOf` gives the digest of the
    /// record already alone under the key, when this one joins it and they start a list.
    mutating func insert(_ record: UInt32, _ digest: MatchDigest, into key: UInt64, digestOf: (UInt32) -> MatchDigest) {
        guard let entry = entries[key] else {
            entries[key] = Entry(count: 1, value: record)
            return
        }
        let member = Member(record: record, digest: digest)
        if entry.count == 1 {
            let pair = [Member(record: entry.value, digest: digestOf(entry.value)), member]
            let list: UInt32
            if let reused = freeLists.popLast() {
                list = reused
                lists[Int(list)] = pair
            } else {
                list = UInt32(lists.count)
                lists.append(pair)
            }
            entries[key] = Entry(count: 2, value: list)
        } else {
            lists[Int(entry.value)].append(member)
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
        guard let position = lists[list].firstIndex(where: { $0.record == record }) else { return }
        lists[list].remove(at: position)
        if entry.count == 2 {
            entries[key] = Entry(count: 1, value: lists[list][0].record)
            lists[list] = []
            freeLists.append(entry.value)
        } else {
            entries[key] = Entry(count: entry.count - 1, value: entry.value)
        }
    }

    /// Calls `body` with every record under `key` and its digest (`nil` for a record alone under
    /// the key), unless there are more than `limit`.
    @inline(__always)
    func forEach(in key: UInt64, ifAtMost limit: Int, _ body: (UInt32, MatchDigest?) -> Void) {
        guard let entry = entries[key], entry.count <= limit else { return }
        if entry.count == 1 {
            body(entry.value, nil)
        } else {
            lists[Int(entry.value)].withUnsafeBufferPointer { members in
                for member in members { body(member.record, member.digest) }
            }
        }
    }
}
