import Foundation
import RenkeiCore
import RenkeiCrypto
import RenkeiStore
import RenkeiSystem
import Synchronization

extension StatusRoutes {
    /// `POST /v1/keys/rotate` {`key_file`}: wraps the at-rest data key of `my_number` under the new
    /// key-encryption key in `key_file` (beside the wrapping in use; the log is not touched). The new
    /// key is used from the next start with that file at `secrets.at_rest_key_file`, which also removes
    /// the old wrapping. Answers {`key_id`, `kek_id`, `previous_kek_id`, `generation`, `next`}.
    func keys(_ request: HTTPRequest, _ rest: [String]) async throws -> Answer {
        guard request.method == "POST", rest == ["rotate"] else { return nil }
        guard let body = try? JSONParser.parse(request.body).objectValue, let file = body["key_file"]?.stringValue,
            body.keys.allSatisfy({ $0 == "key_file" })
        else {
            return .error(400, "key_file: body must be {\"key_file\": \"/absolute/path/of/the/new/key\"}")
        }
        guard file.hasPrefix("/") else {
            return .error(400, "key_file: must be an absolute path (renkeictl keys rotate resolves a relative name for you)")
        }
        let newKEK: KeyEncryptionKey
        do {
            newKEK = try AtRestKeyStore.loadKeyFile(file, setting: "key_file")
        } catch {
            return .error(400, error.message)
        }
        let current = service.atRest.withLock { $0 }
        guard newKEK.id != current.kek.id else {
            return .error(409, "key_file: \(file) holds the key already in use (kek id \(newKEK.id)); write a new one first")
        }
        let generation = try await service.writer.perform { db in try AtRestKeyStore.rotate(current, to: newKEK, in: db) }
        let configured = service.configuration.atRestKeyFile
        service.logger.notice(
            "at rest: data key \(current.cipher.keyID) wrapped under kek id \(newKEK.id) (generation \(generation)); "
                + "it takes over when \(configured) holds that key at the next start")
        return .json(200, [
            "key_id": .string(current.cipher.keyID), "kek_id": .string(newKEK.id),
            "previous_kek_id": .string(current.kek.id), "generation": .integer(generation),
            "next": .string(
                "move \(file) to \(configured) (mode 0400, owner renkei), restart renkeid (systemctl restart renkeid), "
                    + "then destroy the old key file"),
        ])
    }
}
