import Foundation
import RenkeiCore
import RenkeiCrypto
@testable import RenkeiDaemon
import RenkeiStore
import RenkeiSystem
import Testing

/// `my_number` at rest (issue 13): the key store, the vault's three steps, and the views a rebuild
/// makes from a log holding tokens (and plain numbers of events logged before sealing existed).
@Suite struct AtRestTests {
    static let numbers = ["314159265301", "314159265310", "314159265328", "314159265336"]
    /// A number in an event appended without the ingest step, as an old log holds it.
    static let legacyNumber = "314159265344"

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// Every stored person row (record and view), by uid.
    static func persons(_ service: RenkeiService) throws -> [String: [UInt8]] {
        let rows = try service.reader().prepare("SELECT uid, record, view FROM persons")
            .rows([]) { ($0.string(0) ?? "", ($0.blob(1) ?? []) + [0] + ($0.blob(2) ?? [])) }
        return Dictionary(uniqueKeysWithValues: rows)
    }

    @Test func keyStoreCreatesUnwrapsRotatesAndRefusesOtherKeys() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-atrest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = try Database(path: folder.appendingPathComponent("renkei.db").path)
        try StateSchema.migrate(db)
        let first = KeyEncryptionKey(bytes: SecureRandom.bytes(32))
        let created = try AtRestKeyStore.open(kek: first, keyFile: "k", in: db)
        let token = created.cipher.seal(Self.numbers[0], field: "my_number")
        let reopened = try AtRestKeyStore.open(kek: first, keyFile: "k", in: db)
        #expect(reopened.cipher.keyID == created.cipher.keyID)
        #expect(reopened.cipher.seal(Self.numbers[0], field: "my_number") == token, "the same data key after a restart")

        let stranger = KeyEncryptionKey(bytes: SecureRandom.bytes(32))
        #expect { try AtRestKeyStore.open(kek: stranger, keyFile: "k", in: db) } throws: { error in
            (error as? RenkeiError)?.code == .invalidConfiguration
        }

        // Rotation: both keys open the data key until the new one is used; then only the new one.
        let second = KeyEncryptionKey(bytes: SecureRandom.bytes(32))
        #expect(try AtRestKeyStore.rotate(reopened, to: second, in: db) == 2)
        let stillOld = try AtRestKeyStore.open(kek: first, keyFile: "k", in: db)
        #expect(stillOld.notes.contains { $0.contains("pending") })
        let rotated = try AtRestKeyStore.open(kek: second, keyFile: "k", in: db)
        #expect(rotated.notes.contains { $0.contains("rotation finished") })
        #expect(try rotated.cipher.open(token, field: "my_number") == Self.numbers[0])
        #expect { try AtRestKeyStore.open(kek: first, keyFile: "k", in: db) } throws: { error in
            (error as? RenkeiError)?.message.contains("is not a key this database's data key is wrapped under") == true
        }
        // A wrapping altered in the database does not unwrap.
        try db.execute("UPDATE at_rest_keys SET wrapped = zeroblob(60)")
        #expect { try AtRestKeyStore.open(kek: second, keyFile: "k", in: db) } throws: { error in
            (error as? RenkeiError)?.message.contains("does not unwrap") == true
        }
    }

    @Test func keyFileOthersMayReadIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("renkei-atrest-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("at-rest.key").path
        try TestKeyFile.write(to: path)
        _ = try AtRestKeyStore.loadKeyFile(path)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        _ = try AtRestKeyStore.loadKeyFile(path)  // root:renkei 0640, as the other secrets
        for mode in [0o644, 0o660, 0o604] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            #expect(throws: RenkeiError.self, "mode \(String(mode, radix: 8))") { try AtRestKeyStore.loadKeyFile(path) }
        }
        #expect(throws: RenkeiError.self) { try AtRestKeyStore.loadKeyFile(path + ".missing") }
    }

    @Test func vaultSealsEventsAndOpensOnlyForEntitledSubscriptions() throws {
        let vault = TestKeyFile.vault()
        let line = IngestEvents.registered("R-1", subject: "000000001", myNumber: Self.numbers[0])
        let event = try Event(envelope: try #require(try JSONParser.parse(Array(line.utf8)).objectValue))
        let sealed = vault.sealed(event)
        let token = try #require(sealed.data["my_number"]?.stringValue)
        #expect(AtRestCipher.isToken(token))
        #expect(sealed.envelope["data"]?["my_number"]?.stringValue == token, "the envelope (what is logged) holds the token")
        #expect(!Self.contains(sealed.contentBytes, Self.numbers[0]))
        #expect(vault.sealed(event).contentBytes == sealed.contentBytes, "deterministic: a resent event is a duplicate")
        #expect(vault.sealed(sealed) == sealed, "a token is never sealed twice")

        let body: JSONValue = [
            "kind": "person.changed", "view": ["uid": "U0000000001", "my_number": .string(token)],
            "changes": ["my_number": ["old": .string(vault.cipher.seal(Self.numbers[1], field: "my_number")), "new": .string(token)]],
        ]
        let entitled = SubscriptionPolicy(name: "benefits", fields: ["uid", "my_number"], legalBasis: "番号法")
        let opened = try JSONParser.parse(try vault.revealedForSend(body.serializedBytes, policy: entitled))
        #expect(opened["view"]?["my_number"]?.stringValue == Self.numbers[0])
        #expect(opened["changes"]?["my_number"]?["old"]?.stringValue == Self.numbers[1])
        #expect(opened["changes"]?["my_number"]?["new"]?.stringValue == Self.numbers[0])
        // Without a legal basis, or without the field, the token stays a token.
        for policy in [
            SubscriptionPolicy(name: "lapsed", fields: ["uid", "my_number"]),
            SubscriptionPolicy(name: "mirror", fields: ["uid", "name"]),
        ] {
            #expect(try vault.revealedForSend(body.serializedBytes, policy: policy) == body.serializedBytes, "\(policy.name)")
        }
        // A token another data key sealed is not sent.
        #expect(throws: AtRestKeyError.self) { try TestKeyFile.vault().revealedForSend(body.serializedBytes, policy: entitled) }
    }

    @Test(.timeLimit(.minutes(2)))
    func viewsHoldTokensAndRebuildIsByteIdentical() async throws {
        let fixture = try await IngestFixture(push: false)
        let lines = Self.numbers.enumerated().map { index, number in
            IngestEvents.registered("AR-\(index)", subject: String(format: "%09d", index + 1), myNumber: number)
        }
        try await StartupTests.replay(fixture.service, lines)
        // The same events again are duplicates: the token of a number does not change.
        let again = await fixture.service.replay(body: Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(try JSONParser.parse(again.body)["duplicates"]?.integerValue == Int64(lines.count))
        // An event logged before numbers were sealed (appended past the ingest step): its plain number
        // stays in the log, but the views get its token.
        let legacy = IngestEvents.registered("AR-legacy", subject: "000000099", myNumber: Self.legacyNumber)
        let legacyEvent = try Event(envelope: try #require(try JSONParser.parse(Array(legacy.utf8)).objectValue))
        _ = try await fixture.service.writer.append([legacyEvent])
        // The source sends that event again after the upgrade: a duplicate, as before (not a conflict).
        let resent = await fixture.service.replay(body: Array((legacy + "\n").utf8))
        #expect(try JSONParser.parse(resent.body)["duplicates"]?.integerValue == 1, "\(String(decoding: resent.body, as: UTF8.self))")

        let before = try Self.persons(fixture.service)
        #expect(before.count == Self.numbers.count + 1)
        for (uid, bytes) in before {
            #expect(Self.contains(bytes, "enc:v1:"), "\(uid) holds no token")
            for number in Self.numbers + [Self.legacyNumber] {
                #expect(!Self.contains(bytes, number), "\(uid)'s stored view holds a my_number in plain text")
            }
        }
        #expect(await RebuildTests.rebuild(fixture))
        #expect(try Self.persons(fixture.service) == before, "a rebuild gives the same bytes")
        #expect(try EventLog.verify(in: fixture.service.reader()).ok)
    }
}
