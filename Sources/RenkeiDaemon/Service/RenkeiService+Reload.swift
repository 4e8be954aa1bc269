import Foundation
public import RenkeiCore
import RenkeiCrypto

extension RenkeiService {
    /// Reads and checks the configuration for a SIGHUP reload without touching the running service:
    /// the JSON and its rules, the schemas, the at-rest key file, every subscription secret and every source
    /// token file.
    ///
    /// renkeid applies an accepted configuration by stopping the running service (ingest first,
    /// in-flight deliveries finish up to a deadline) and starting a new one on the same state; if the new
    /// one still fails to start, the previous configuration is started again.
    /// - Parameters:
    ///   - path: the configuration file (`--config`).
    ///   - current: the configuration running now.
    /// - Returns: the new configuration.
    /// - Throws: ``RenkeiError`` naming the key or file to fix; the running service is left as it is.
    public static func loadForReload(path: String, current: Configuration) throws(RenkeiError) -> Configuration {
        let next = try Configuration.load(path: path)
        if next.stateDirectory != current.stateDirectory {
            throw RenkeiError(
                .invalidConfiguration,
                "state_dir changed from \(current.stateDirectory) to \(next.stateDirectory): a reload cannot move the state; "
                    + "stop renkeid, move the folder, then start it (systemctl restart renkeid)")
        }
        try check(next)
        return next
    }

    /// Checks everything about `configuration` that can be checked without the state: the schemas,
    /// the push certificate, the at-rest key file, every subscription secret, every source token
    /// file and every source's mapping file (`Configuration.load` has already checked the JSON and its rules). Reads files, writes
    /// nothing, creates no folder: what `renkeid --check-config` and a reload run.
    /// - Throws: ``RenkeiError`` naming the key or file to fix.
    public static func check(_ next: Configuration) throws(RenkeiError) {
        let schemas = try loadSchemas(from: next.schemasDirectory)
        // Issue 16: every mapping file, read and checked (errors name its line and column).
        _ = try SpoolIngest.loadMappings(Array(next.sources.values), schemas: schemas)
        // Issue 13: a renewed certificate is loaded on reload; a broken one is refused before anything stops.
        if let tls = next.ingestTLS { _ = try PushIngest.loadTLS(tls) }
        // Issue 18: the console's certificate, likewise.
        if let tls = next.console?.tls { try ConsoleServer.checkTLS(tls) }
        // Readable and well-formed; whether it unwraps the data key is checked when the new service opens.
        _ = try AtRestKeyStore.loadKeyFile(next.atRestKeyFile)
        for name in next.subscriptions.keys.sorted() {
            guard let file = next.subscriptions[name]?.secretFile else { continue }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw RenkeiError(
                    .invalidConfiguration,
                    "subscriptions.\(name).secret_file: cannot read \(file) (does it exist, and may the renkei user read it?)")
            }
            do {
                _ = try WebhookSigner(secretFileText: text, fileName: file)
            } catch {
                throw RenkeiError(.invalidConfiguration, "subscriptions.\(name).secret_file: \(error.message)")
            }
        }
        for name in next.sources.keys.sorted() {
            guard let file = next.sources[name]?.tokenFile else { continue }
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else {
                throw RenkeiError(
                    .invalidConfiguration,
                    "sources.\(name).token_file: cannot read \(file), or it is empty (write the token there, readable by renkei)")
            }
        }
    }
}
