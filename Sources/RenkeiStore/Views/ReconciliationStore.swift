public import RenkeiCore

/// The reconciliation findings (突合, issue 17) and their record: derived from the log like every
/// view (written with the projection's checkpoint, replaced by a rebuild), read by the status socket.
///
/// `reconciliation_findings` holds one row per finding id ever opened, in its latest state (open,
/// explained or resolved); `reconciliation_history` one row per opening, explanation and resolution.
public enum ReconciliationStore {
    /// Migration 4's DDL.
    static let schema = """
        CREATE TABLE IF NOT EXISTS reconciliation_findings(
            id TEXT PRIMARY KEY, check_name TEXT NOT NULL, uid TEXT NOT NULL, state TEXT NOT NULL, finding BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS reconciliation_findings_by_check ON reconciliation_findings(check_name, state, id);
        CREATE INDEX IF NOT EXISTS reconciliation_findings_by_uid ON reconciliation_findings(uid);
        CREATE TABLE IF NOT EXISTS reconciliation_history(
            finding_id TEXT NOT NULL, lsn INTEGER NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL, note TEXT,
            PRIMARY KEY (finding_id, lsn, kind)) WITHOUT ROWID;
        """

    /// Writes what changed in `ledger` since its last save (inside the projection's transaction).
    public static func saveDirty(_ ledger: ReconciliationLedger, in db: Database) throws {
        guard !ledger.dirty.isEmpty || !ledger.pendingHistory.isEmpty else { return }
        let put = try db.prepare(
            "INSERT OR REPLACE INTO reconciliation_findings(id, check_name, uid, state, finding) VALUES (?, ?, ?, ?, ?)")
        for id in ledger.dirty.sorted() {
            guard let finding = ledger.stored(id) else { continue }
            try put.run([
                .text(id), .text(finding.check), .text(finding.uid), .text(finding.state.rawValue),
                .blob(JSONValue.object(finding.json).serializedBytes),
            ])
        }
        let history = try db.prepare(
            "INSERT OR REPLACE INTO reconciliation_history(finding_id, lsn, kind, at, note) VALUES (?, ?, ?, ?, ?)")
        for entry in ledger.pendingHistory {
            try history.run([
                .text(entry.findingID), .integer(entry.lsn), .text(entry.kind.rawValue), .text(entry.at),
                entry.note.map { .text($0) } ?? .null,
            ])
        }
    }

    /// The open and explained findings, for loading the projection.
    public static func current(in db: Database) throws -> [ReconciliationFinding] {
        try db.prepare("SELECT finding FROM reconciliation_findings WHERE state != 'resolved' ORDER BY id").rows([]) {
            try ReconciliationFinding(decoding: $0.blob(0) ?? [])
        }
    }

    /// Removes every finding and history row (before a rebuild writes them anew).
    public static func clear(in db: Database) throws {
        try db.execute("DELETE FROM reconciliation_findings; DELETE FROM reconciliation_history;")
    }

    // MARK: - Reads for the status socket

    /// Findings per check name and state.
    public static func counts(in db: Database) throws -> [String: [String: Int64]] {
        var counts: [String: [String: Int64]] = [:]
        try db.prepare("SELECT check_name, state, COUNT(*) FROM reconciliation_findings GROUP BY check_name, state")
            .rows([]) { row in counts[row.string(0) ?? "", default: [:]][row.string(1) ?? ""] = row.int64(2) }
        return counts
    }

    /// One page of `check`'s findings in the given states, in id order, after id `after`.
    public static func findings(
        check: String, states: [ReconciliationFinding.State], after: String?, limit: Int, in db: Database
    ) throws -> [ReconciliationFinding] {
        let marks = states.map { _ in "?" }.joined(separator: ", ")
        let values: [DatabaseValue] = [.text(check), .text(after ?? "")] + states.map { .text($0.rawValue) } + [.integer(Int64(limit))]
        return try db.prepare(
            "SELECT finding FROM reconciliation_findings WHERE check_name = ? AND id > ? AND state IN (\(marks)) ORDER BY id LIMIT ?"
        ).rows(values) { try ReconciliationFinding(decoding: $0.blob(0) ?? []) }
    }

    /// The finding `id`, in any state, or `nil`.
    public static func finding(_ id: String, in db: Database) throws -> ReconciliationFinding? {
        try db.prepare("SELECT finding FROM reconciliation_findings WHERE id = ?").rows([.text(id)]) {
            try ReconciliationFinding(decoding: $0.blob(0) ?? [])
        }.first
    }

    /// The record of finding `id`, oldest first.
    public static func history(_ id: String, in db: Database) throws -> [ReconciliationHistoryEntry] {
        try db.prepare("SELECT kind, lsn, at, note FROM reconciliation_history WHERE finding_id = ? ORDER BY lsn, kind").rows([.text(id)]) {
            row in
            ReconciliationHistoryEntry(
                findingID: id, kind: ReconciliationHistoryEntry.Kind(rawValue: row.string(0) ?? "") ?? .opened,
                lsn: row.int64(1), at: row.string(2) ?? "", note: row.string(3))
        }
    }
}
