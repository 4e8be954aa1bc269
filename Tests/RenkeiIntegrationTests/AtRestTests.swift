import Foundation
import RenkeiCore
import RenkeiSystem
import Testing

/// `my_number` at rest (issue 13): the log, views, outbox, WAL and backups hold only tokens; an
/// entitled subscription still receives the number; the key file can be rotated; a wrong key file
/// stops the start.
@Suite("AtRest")
struct AtRestTests {
    /// Valid 個人番号 (check digit included), one per resident, and one correction.
    static let numbers = ["482139076529", "739204661583", "604182739351"]
    static let corrected = "528407193649"

    static func registrations(prefix: String) -> [String] {
        numbers.enumerated().map { index, number in
            envelopeLine(
                source: "resident", eventID: "\(prefix)\(index + 1)", type: "resident.registered",
                subject: "00077000\(index + 1)",
                data: [
                    "reason": "move_in", "name": .string("暗号 \(["一郎", "二郎", "三郎"][index])"), "name_kana": "アンゴウ イチロウ",
                    "birth_date": "1980-01-01", "sex": "unknown", "address": "東京都千代田区九段南1丁目2番1号",
                    "postal_code": "102-0074", "household_no": .string("H77000\(index + 1)"), "relationship": "世帯主",
                    "my_number": .string(number),
                ])
        }
    }

    static func correction(eventID: String, subject: String, number: String) -> String {
        envelopeLine(
            source: "resident", eventID: eventID, type: "resident.corrected", subject: subject,
            occurredAt: "2026-05-01T09:00:00+09:00", data: ["my_number": .string(number)])
    }

    static func subscriptions(_ daemon: DaemonHarness, receiver: WebhookRecorder, mirror: Bool) throws -> JSONObject {
        var result: JSONObject = [
            "benefits": [
                "url": .string(receiver.url + "/benefits"), "kinds": ["person.created", "person.changed"],
                "fields": ["uid", "my_number"], "legal_basis": "番号法 第9条第1項 別表 (test)",
                "secret_file": .string(try daemon.writeSecret(name: "benefits").path), "timeout_s": 5,
            ]
        ]
        if mirror {
            result["mirror"] = [
                "url": .string(receiver.url + "/mirror"), "fields": ["uid", "name"],
                "secret_file": .string(try daemon.writeSecret(name: "mirror").path), "timeout_s": 5,
            ]
        }
        return result
    }

    /// The delivered bodies sent to `path` (`/hook/benefits`, `/hook/mirror`).
    static func bodies(_ receiver: WebhookRecorder, _ name: String) -> [JSONValue] {
        receiver.deliveries.filter { $0.delivered && $0.target.hasSuffix("/" + name) }.map(\.json)
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    static func bytes(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map(Array.init) ?? [] }

    @Test(.timeLimit(.minutes(3)))
    func databaseWALAndBackupHoldNoNumber() async throws {
        let receiver = try WebhookRecorder()
        defer { Task { await receiver.stop() } }
        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.setSubscriptions(try Self.subscriptions(daemon, receiver: receiver, mirror: true))
            try await daemon.start()
            let reply = try await daemon.replay(
                Self.registrations(prefix: "AR-") + [Self.correction(eventID: "AR-9", subject: "000770001", number: Self.corrected)])
            #expect(reply.json["accepted"]?.integerValue == 4, "replay: \(reply.text)")

            // benefits: three person.created and the correction; mirror: three person.created.
            let arrived = try await daemon.waitUntil(timeout: .seconds(60), interval: .milliseconds(100)) {
                Self.bodies(receiver, "benefits").count >= 4 && Self.bodies(receiver, "mirror").count >= 3
            }
            #expect(arrived, "deliveries: \(receiver.deliveries.map(\.target))")

            // The entitled subscription gets the plain numbers, old and new.
            let benefits = Self.bodies(receiver, "benefits")
            let sent = Set(benefits.compactMap { $0["view"]?["my_number"]?.stringValue })
            #expect(sent == Set(Self.numbers + [Self.corrected]), "benefits saw \(sent)")
            let change = benefits.first { $0["kind"]?.stringValue == "person.changed" }?["changes"]?["my_number"]
            #expect(change?["old"]?.stringValue == Self.numbers[0] && change?["new"]?.stringValue == Self.corrected,
                    "correction: \(change?.serializedString ?? "none")")
            // The other one never sees a number nor a token.
            for body in Self.bodies(receiver, "mirror") {
                let text = body.serializedString
                #expect(!text.contains("my_number") && !text.contains("enc:v1:"), "mirror got \(text)")
            }

            let backup = try await daemon.request(
                "POST", "/v1/backup", body: Array("{}".utf8), contentType: "application/json")
            #expect(backup.status == 200, "backup: \(backup.text)")
            let backupPath = backup.json["path"]?.stringValue ?? ""
            let state = daemon.root.appendingPathComponent("state").path
            let database = Self.bytes(state + "/renkei.db")
            let wal = Self.bytes(state + "/renkei.db-wal")
            let copy = Self.bytes(backupPath)
            // The files hold the persons (as tokens): the search below looks where the numbers would be.
            #expect(Self.contains(database + wal, "enc:v1:"), "no token in the database or its WAL")
            #expect(Self.contains(copy, "enc:v1:"), "no token in the backup \(backupPath)")
            #expect(!wal.isEmpty, "the WAL of a running daemon is not empty")
            let replies = await daemon.replyLog.joined()
            for number in Self.numbers + [Self.corrected] {
                #expect(!Self.contains(database, number), "renkei.db holds a my_number in plain text")
                #expect(!Self.contains(wal, number), "renkei.db-wal holds a my_number in plain text")
                #expect(!Self.contains(copy, number), "the backup holds a my_number in plain text")
                #expect(!daemon.stderrText().contains(number), "the daemon's log shows a my_number")
                #expect(!replies.contains(number), "a status reply shows a my_number")
            }
            let person = try await daemon.get("/v1/persons/U0000000001")
            #expect(person.json["my_number_on_file"]?.boolValue == true, "person: \(person.text)")
            let verify = try await daemon.get("/v1/verify")
            #expect(verify.json["ok"]?.boolValue == true, "verify: \(verify.text)")
            #expect(try await daemon.stop() == 0)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func rotatedKeyDecryptsAfterRestartAndOldKeyIsRefused() async throws {
        let receiver = try WebhookRecorder()
        defer { Task { await receiver.stop() } }
        try await withDaemon(sources: ["resident"]) { daemon in
            try await daemon.setSubscriptions(try Self.subscriptions(daemon, receiver: receiver, mirror: false))
            try await daemon.start()
            _ = try await daemon.replay([Self.registrations(prefix: "KR-")[0]])
            #expect(try await daemon.waitUntil(timeout: .seconds(30)) { Self.bodies(receiver, "benefits").count >= 1 })

            // Rotate to a new key file; the daemon keeps running on the old one until it restarts.
            let keyFile = daemon.atRestKeyFile
            let newKey = daemon.root.appendingPathComponent("new.key").path
            let oldKey = daemon.root.appendingPathComponent("old.key").path
            try DaemonHarness.writeKeyFile(newKey)
            let rotated = try await daemon.request(
                "POST", "/v1/keys/rotate", body: Array("{\"key_file\":\"\(newKey)\"}".utf8), contentType: "application/json")
            #expect(rotated.status == 200, "rotate: \(rotated.text)")
            #expect(rotated.json["kek_id"] != rotated.json["previous_kek_id"])
            let same = try await daemon.request(
                "POST", "/v1/keys/rotate", body: Array("{\"key_file\":\"\(keyFile)\"}".utf8), contentType: "application/json")
            #expect(same.status == 409, "rotating to the key in use: \(same.text)")
            #expect(try await daemon.stop() == 0)

            // The new key file in place, the old one gone: the stored token still opens.
            try FileManager.default.moveItem(atPath: keyFile, toPath: oldKey)
            try FileManager.default.moveItem(atPath: newKey, toPath: keyFile)
            try await daemon.start()
            #expect(daemon.stderrText().contains("key rotation finished"), "stderr:\n\(daemon.stderrTail())")
            _ = try await daemon.replay([Self.correction(eventID: "KR-9", subject: "000770001", number: Self.corrected)])
            let changed = try await daemon.waitUntil(timeout: .seconds(30)) { Self.bodies(receiver, "benefits").count >= 2 }
            #expect(changed)
            let change = Self.bodies(receiver, "benefits").last?["changes"]?["my_number"]
            #expect(change?["old"]?.stringValue == Self.numbers[0] && change?["new"]?.stringValue == Self.corrected,
                    "after the rotation: \(change?.serializedString ?? "none")")
            #expect(try await daemon.stop() == 0)

            // The old key no longer opens this database: start-up is refused with EX_CONFIG.
            try FileManager.default.removeItem(atPath: keyFile)
            try FileManager.default.moveItem(atPath: oldKey, toPath: keyFile)
            do {
                try await daemon.start(timeout: .seconds(20))
                Issue.record("renkeid started with the key file the rotation replaced")
            } catch {
                #expect("\(error)".contains("exited with 78"), "\(error)")
            }
            #expect(daemon.stderrText().contains("is not a key this database's data key is wrapped under"),
                    "stderr:\n\(daemon.stderrTail())")
        }
    }
}
