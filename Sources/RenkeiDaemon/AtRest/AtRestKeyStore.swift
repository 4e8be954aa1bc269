import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem

/// The data key of `my_number` at rest, kept in the database wrapped by the key-encryption key
/// (KEK) of `secrets.at_rest_key_file` (envelope encryption): the database alone, or a backup, holds
/// no usable key; the key file alone holds no data.
///
/// Table `at_rest_keys` (RenkeiStore's ``AtRestKeys``): one row per wrapping of the (single) data key. A rotation adds a wrapping
/// under a new KEK with a higher `generation`; the first start with that KEK's file removes the older
/// wrappings. The log is never touched: tokens keep naming the same data key.
enum AtRestKeyStore {
    /// The default `secrets.at_rest_key_file`.
    static let defaultKeyFile = "/etc/renkei/secrets/at-rest.key"

    /// What start-up found and decided.
    struct Opened: Sendable {
        var cipher: AtRestCipher
        var kek: KeyEncryptionKey
        /// The generation of the wrapping in use.
        var generation: Int64
        /// What to tell the operator (a created key, a finished or pending rotation).
        var notes: [String]
    }

    /// Reads a KEK file. It must be one line of base64 of 32 bytes, open to no others and not group-writable.
    /// - Parameter setting: the configuration key named in errors.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) saying what to fix.
    static func loadKeyFile(_ path: String, setting: String = "secrets.at_rest_key_file") throws(RenkeiError) -> KeyEncryptionKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RenkeiError(
                .invalidConfiguration,
                "\(setting): cannot read \(path) (missing, or not readable by this user). Deploy/install creates it; "
                    + "by hand: head -c 32 /dev/urandom | base64 | install -m 0400 -o renkei -g renkei /dev/stdin \(path)")
        }
        // Others may have no access at all, the group no write (root:renkei 0640, as the other secrets, is
        // fine where group renkei holds the daemon alone).
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o027 != 0 {
            throw RenkeiError(
                .invalidConfiguration,
                "\(setting): \(path) may be read or written by others (mode \(String(mode, radix: 8))); "
                    + "only the daemon may read it: chown renkei:renkei \(path) && chmod 0400 \(path)")
        }
        do {
            return try KeyEncryptionKey(fileText: String(decoding: data, as: UTF8.self), fileName: path)
        } catch {
            throw RenkeiError(.invalidConfiguration, "\(setting): \(error.message)")
        }
    }

    /// Unwraps the data key with `kek`, creating the data key on a database that has none, and
    /// removes the wrappings a finished rotation left behind.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) when `kek` is not a key the data key is wrapped
    ///   under, or does not unwrap it.
    static func open(kek: KeyEncryptionKey, keyFile: String, in db: Database) throws -> Opened {
        try db.transaction {
            let rows = try AtRestKeys.wrappings(in: db)
            guard !rows.isEmpty else {
                let cipher = AtRestCipher.generate()
                try insert(cipher, kek: kek, generation: 1, in: db)
                return Opened(
                    cipher: cipher, kek: kek, generation: 1,
                    notes: ["at rest: created data key \(cipher.keyID), wrapped under the key file \(keyFile) (kek id \(kek.id))"])
            }
            guard Set(rows.map(\.keyID)).count == 1 else {
                throw RenkeiError(.internalError, "at_rest_keys holds more than one data key (bug in Renkei)")
            }
            guard let mine = rows.first(where: { $0.kekID == kek.id }) else {
                throw RenkeiError(
                    .invalidConfiguration,
                    "secrets.at_rest_key_file: \(keyFile) (kek id \(kek.id)) is not a key this database's data key is "
                        + "wrapped under (kek id \(rows.map(\.kekID).joined(separator: ", "))). Put back the key file "
                        + "used before, or after `renkeictl keys rotate`, the new file it named (runbook: rotate-at-rest-key)")
            }
            let cipher: AtRestCipher
            do throws(AtRestKeyError) {
                cipher = try AtRestCipher.unwrap(mine.wrapped, keyID: mine.keyID, under: kek)
            } catch {
                throw RenkeiError(.invalidConfiguration, "secrets.at_rest_key_file: \(error.message)")
            }
            var notes: [String] = []
            let older = rows.filter { $0.generation < mine.generation }
            if !older.isEmpty {
                try AtRestKeys.deleteGenerations(below: mine.generation, in: db)
                notes.append(
                    "at rest: key rotation finished: data key \(cipher.keyID) is now wrapped only under kek id \(kek.id); "
                        + "removed the wrapping under kek id \(older.map(\.kekID).joined(separator: ", ")) (destroy that key file)")
            }
            for newer in rows where newer.generation > mine.generation {
                notes.append(
                    "at rest: a rotation to kek id \(newer.kekID) is pending: put that key file at \(keyFile) and restart "
                        + "(systemctl restart renkeid)")
            }
            return Opened(cipher: cipher, kek: kek, generation: mine.generation, notes: notes)
        }
    }

    /// Wraps the data key under `newKEK` as the next generation, beside the wrapping in use (which stays
    /// until the daemon starts with the new key file). An earlier pending rotation is replaced.
    /// - Returns: the new generation.
    static func rotate(_ opened: Opened, to newKEK: KeyEncryptionKey, in db: Database) throws -> Int64 {
        try db.transaction {
            try AtRestKeys.deletePending(above: opened.generation, orKEK: newKEK.id, in: db)
            let generation = opened.generation + 1
            try insert(opened.cipher, kek: newKEK, generation: generation, in: db)
            return generation
        }
    }

    private static func insert(_ cipher: AtRestCipher, kek: KeyEncryptionKey, generation: Int64, in db: Database) throws {
        try AtRestKeys.insert(
            AtRestKeys.Wrapping(keyID: cipher.keyID, kekID: kek.id, generation: generation, wrapped: cipher.wrapped(under: kek)),
            at: Timestamp.rfc3339(Date()), in: db)
    }
}
