// MARK: - The findings the projection keeps current

/// The findings of every check, kept by the projection (``Projection/reconciliation``): open and
/// explained ones in memory, and since the last save, what changed and the history lines to store.
public struct ReconciliationLedger: Sendable {
    /// Open and explained findings, by id.
    var current: [String: ReconciliationFinding] = [:]
    /// uid → ids of its open and explained findings.
    var byUID: [String: [String]] = [:]
    /// Findings resolved since ``clearDirty()`` (and not opened again): their stored rows change.
    var resolved: [String: ReconciliationFinding] = [:]
    /// Ids whose stored row must be written.
    public internal(set) var dirty: Set<String> = []
    /// History lines since ``clearDirty()``, in order.
    public internal(set) var pendingHistory: [ReconciliationHistoryEntry] = []

    /// An empty ledger.
    public init() {}

    /// A ledger holding the stored open and explained findings.
    public init(restoring findings: [ReconciliationFinding]) {
        for finding in findings where finding.state != .resolved {
            current[finding.id] = finding
            byUID[finding.uid, default: []].append(finding.id)
        }
    }

    /// The finding to store for a dirty id: the current one, or the resolved one.
    public func stored(_ id: String) -> ReconciliationFinding? { current[id] ?? resolved[id] }

    /// An open or explained finding.
    public func finding(_ id: String) -> ReconciliationFinding? { current[id] }

    /// Every open and explained finding, by id.
    public var openFindings: [ReconciliationFinding] { current.values.sorted { $0.id < $1.id } }

    /// Open and explained counts per check name.
    public var counts: [String: (open: Int, explained: Int)] {
        var counts: [String: (open: Int, explained: Int)] = [:]
        for finding in current.values {
            var count = counts[finding.check] ?? (0, 0)
            if finding.state == .explained { count.explained += 1 } else { count.open += 1 }
            counts[finding.check] = count
        }
        return counts
    }

    /// Forgets what changed, after the daemon has stored it.
    public mutating func clearDirty() {
        dirty.removeAll(keepingCapacity: true)
        pendingHistory.removeAll(keepingCapacity: true)
        resolved.removeAll(keepingCapacity: true)
    }

    /// Replaces `uid`'s findings with `found` (what the checks say now), after the event at `lsn`:
    /// new ones open, vanished ones resolve, lasting ones keep their state and take the new facts.
    mutating func settle(uid: String, found: [ReconciliationFinding], lsn: Int64, at: String) {
        // Nearly every person passes every check, before and after: nothing to allocate or compare.
        guard let before = byUID[uid] else {
            if found.isEmpty { return }
            settle(uid: uid, before: [], found: found, lsn: lsn, at: at)
            return
        }
        settle(uid: uid, before: before, found: found, lsn: lsn, at: at)
    }

    private mutating func settle(uid: String, before: [String], found: [ReconciliationFinding], lsn: Int64, at: String) {
        for id in before where !found.contains(where: { $0.id == id }) {
            guard var finding = current.removeValue(forKey: id) else { continue }
            finding.state = .resolved
            finding.resolvedLSN = lsn
            finding.resolvedAt = at
            resolved[id] = finding
            dirty.insert(id)
            pendingHistory.append(.init(findingID: id, kind: .resolved, lsn: lsn, at: at))
        }
        for new in found {
            if var existing = current[new.id] {
                guard existing.facts != new.facts else { continue }
                existing.facts = new.facts
                current[new.id] = existing
            } else {
                resolved[new.id] = nil
                current[new.id] = new
                pendingHistory.append(.init(findingID: new.id, kind: .opened, lsn: lsn, at: at))
            }
            dirty.insert(new.id)
        }
        if found.isEmpty { byUID[uid] = nil } else { byUID[uid] = found.map(\.id) }
    }

    /// Marks an open finding of `check` explained; anything else (unknown, resolved, explained
    /// already, another check's id) changes nothing.
    mutating func explain(check: String, id: String, note: String, lsn: Int64, at: String) {
        guard var finding = current[id], finding.check == check, finding.state == .open else { return }
        finding.state = .explained
        finding.explanation = .init(note: note, lsn: lsn, at: at)
        current[id] = finding
        dirty.insert(id)
        pendingHistory.append(.init(findingID: id, kind: .explained, lsn: lsn, at: at, note: note))
    }
}
