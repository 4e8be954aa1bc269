import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem
import Synchronization

/// The full exports (全件) of file subscriptions in progress, by folder and subscription: one at a
/// time each, and the lane's recovery leaves their temporary files alone.
private let exportsRunning = Mutex<Set<String>>([])

/// Full exports (全件, issue 17): every person a file subscription covers, written as one file of
/// its views through the same mapping, encoding and checks as its deltas.
extension DeliveryService {
    /// What an export wrote.
    struct ExportResult: Sendable {
        /// The published file's name.
        var name: String
        /// The persons written.
        var rows: Int
        /// The persons left out because the policy in force leaves nothing of them.
        var skipped: Int
    }

    /// Why an export could not be written.
    struct ExportError: Error, CustomStringConvertible {
        /// The HTTP status for `POST /v1/subscriptions/{name}/export`.
        var status: Int
        var description: String
    }

    static func exportKey(_ target: Configuration.FileTarget, _ name: String) -> String { target.directory + "\u{0}" + name }

    /// Whether an export of `name` into `target`'s folder is being written now.
    static func isExporting(_ target: Configuration.FileTarget, _ name: String) -> Bool {
        exportsRunning.withLock { $0.contains(exportKey(target, name)) }
    }

    /// Writes a full export of `subscription`'s views (`renkeictl export NAME`).
    /// - Throws: ``ExportError``: 404 for no such subscription, 409 for one that is not a file
    ///   subscription or an export already running, 422 for a person whose record cannot be written
    ///   (uid, column and field named), 500 for a folder or database failure.
    func export(subscription: String) async throws(ExportError) -> ExportResult {
        guard let lane = lanes[subscription] else { throw ExportError(status: 404, description: "no subscription \(subscription)") }
        guard let target = lane.subscription.file else {
            throw ExportError(status: 409, description: "subscription \(subscription) has a url, not a file: a full export is written only for file subscriptions")
        }
        guard lane.subscription.mode != .shadow else {
            throw ExportError(status: 409, description: "subscription \(subscription) is in shadow mode: it writes no files (switch it to live first)")
        }
        return try await exportFile(lane, target: target)
    }

    func exportFile(_ lane: Lane, target: Configuration.FileTarget) async throws(ExportError) -> ExportResult {
        let name = lane.name
        let key = Self.exportKey(target, name)
        guard exportsRunning.withLock({ $0.insert(key).inserted }) else {
            throw ExportError(status: 409, description: "a full export of \(name) is being written already")
        }
        defer { _ = exportsRunning.withLock { $0.remove(key) } }
        var policy = lane.subscription.policy
        // An export is every person's record as it stands: the kinds filter is about deltas.
        policy.kinds = nil
        let exportPolicy = policy
        let encoder = FileRecordEncoder(target: target)
        let temporary = Self.temporaryName(name, .export)
        var rows: [FileCuts.Row] = []
        var skipped = 0
        do {
            let file = try AppendingFile(dir: target.directory, name: temporary)
            do {
                try file.append(try encoder.header())
                // Page by page in uid order: each person as their view is when their page is read.
                var after = ""
                while true {
                let page: [(uid: String, view: [UInt8], isProtected: Bool)]
                do {
                    let from = after
                    page = try await store.read { db in try FileCuts.exportViews(linkedTo: exportPolicy.linkedTo, after: from, in: db) }
                } catch {
                    throw ExportError(status: 500, description: "cannot read the views: \(error)")
                }
                guard let last = page.last else { break }
                after = last.uid
                for (uid, viewBytes, isProtected) in page {
                    guard let view = (try? JSONParser.parse(viewBytes))?.objectValue else { continue }
                    let body: JSONObject = [
                        "subscription": .string(name), "kind": .string("person.created"), "uid": .string(uid),
                        "version": view["version"] ?? .null, "view": .object(view),
                    ]
                    let decision = SendTimePolicy.decide(
                        kind: "person.created", body: JSONValue.object(body).serializedBytes, plannedFields: view.keys,
                        policy: exportPolicy, facts: SendTimePolicy.Facts(isProtected: isProtected, inScope: true))
                    guard case .send(let decided, let fields, _) = decision else {
                        skipped += 1
                        continue
                    }
                    let wire: [UInt8]
                    do {
                        wire = try vault.revealedForSend(decided, policy: exportPolicy)
                    } catch {
                        throw ExportError(status: 500, description: "uid \(uid): cannot open my_number: \(error.message)")
                    }
                    // Export rows say what they are: `kind` person.exported (map it in the kind code table, if any).
                    guard var object = (try? JSONParser.parse(wire))?.objectValue else { continue }
                    object["kind"] = .string("person.exported")
                    let record: [UInt8]
                    do {
                        if let mapping = target.mapping {
                            record = try encoder.record(object, mapping: mapping)
                        } else {
                            record = try encoder.record(JSONValue.object(object).serializedBytes)
                        }
                    } catch {
                        throw ExportError(status: 422, description: "uid \(uid): \(error.description); nothing was exported")
                    }
                    try file.append(record)
                    rows.append(FileCuts.Row(
                        outboxSeq: nil, uid: uid, deltaID: "", fields: fields.joined(separator: ","), lsn: view["lsn"]?.integerValue ?? 0))
                }
                }
                try file.sync()
            } catch {
                try? DurableFile.remove(dir: target.directory, name: temporary)
                throw error
            }
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError(status: 500, description: "cannot write the export into \(target.directory): \(error)")
        }
        let at = fileStamp()
        let published = rows
        let cut: FileCuts.Cut
        do {
            cut = try await writer.perform { db in
                try FileCuts.begin(
                    subscription: name, temporary: temporary, kind: .export, rows: published, at: at,
                    name: { Self.fileName(name, seq: $0, kind: .export, target: target) }, in: db)
            }
        } catch {
            try? DurableFile.remove(dir: target.directory, name: temporary)
            throw ExportError(status: 500, description: "cannot record the export: \(error)")
        }
        do {
            try DurableFile.publish(
                temporary: temporary, as: cut.name, dir: target.directory, marker: target.doneMarker ? Self.markerName(cut.name) : nil)
            try await writer.perform { db in
                try FileCuts.publish(subscription: name, fileSeq: cut.fileSeq, legalBasis: lane.subscription.policy.legalBasis, at: at, in: db)
            }
        } catch {
            throw ExportError(status: 500, description: "export \(cut.name) not finished: \(error); the lane finishes it at its next recovery (restart)")
        }
        logger.notice("subscription \(name): full export \(cut.name): \(rows.count) persons, \(skipped) left out by the policy in force")
        return ExportResult(name: cut.name, rows: rows.count, skipped: skipped)
    }
}
