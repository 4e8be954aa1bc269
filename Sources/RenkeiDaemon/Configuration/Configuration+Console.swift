import RenkeiCore
import RenkeiSystem

// MARK: - The web console (issue 18)

extension Configuration {
    /// `console`: the staff web console served by renkeid (contract §7 "Console").
    public struct Console: Sendable, Hashable {
        /// `listen`: `host:port`, default `127.0.0.1:8443`.
        public var listen: String
        /// `tls`: certificate and key (PEM files), as `ingest_tls`.
        public var tls: IngestTLS?
        /// `allow_plaintext`: serve plain HTTP on a loopback address (behind a TLS-terminating proxy on
        /// the same host). Default false: without `tls` the daemon refuses to start.
        public var allowPlaintext: Bool
        /// `allow_remote`: listen on an address other hosts can reach (the LGWAN terminals), with TLS only.
        /// Default false: the console listens on loopback only.
        public var allowRemote: Bool
        /// `idle_timeout_s`: a session unused this long ends (default 900).
        public var idleTimeout: Int
        /// `max_failed_logins`: failures in a row that lock an account (default 5).
        public var maxFailedLogins: Int
        /// `lockout_s`: how long a locked account stays locked (default 900).
        public var lockoutSeconds: Int
    }

    /// Reads `console` and refuses a console that other hosts could reach, or that would serve plain HTTP,
    /// unless the file says so explicitly.
    mutating func readConsole(_ root: JSONObject, reader: ConfigReader) throws(RenkeiError) {
        guard let object = try reader.optionalObject(root, "console", path: "") else { return }
        try reader.allowOnly(
            object, path: "console",
            ["listen", "tls", "allow_plaintext", "allow_remote", "idle_timeout_s", "max_failed_logins", "lockout_s"])
        let listen = try reader.optionalString(object, "listen", path: "console") ?? "127.0.0.1:8443"
        guard let address = ListenAddress.parse(listen), case .tcp = address else {
            throw reader.error("console.listen", "\(listen) is not host:port (e.g. 127.0.0.1:8443)")
        }
        var tls: IngestTLS?
        if let settings = try reader.optionalObject(object, "tls", path: "console") {
            try reader.allowOnly(settings, path: "console.tls", ["cert_file", "key_file"])
            tls = IngestTLS(
                certificateFile: try reader.string(settings, "cert_file", path: "console.tls"),
                keyFile: try reader.string(settings, "key_file", path: "console.tls"))
        }
        func flag(_ key: String) throws(RenkeiError) -> Bool {
            guard let value = object[key], !value.isNull else { return false }
            guard case .bool(let on) = value else { throw reader.error("console.\(key)", "must be true or false") }
            return on
        }
        let allowPlaintext = try flag("allow_plaintext")
        let allowRemote = try flag("allow_remote")
        if !address.isLoopback && !allowRemote {
            throw reader.error(
                "console.listen",
                "\(listen) can be reached from other hosts; the console listens on loopback (127.0.0.1:8443) unless "
                    + "\"allow_remote\": true is set (with \"tls\"), for LGWAN terminals")
        }
        if tls == nil && !allowPlaintext {
            throw reader.error(
                "console.tls",
                "is required: the console carries personal data and passwords; set \"tls\": {\"cert_file\": "
                    + "\"/etc/renkei/tls/console.pem\", \"key_file\": \"/etc/renkei/tls/console.key\"}, or, only behind a "
                    + "TLS-terminating proxy on this host, \"allow_plaintext\": true")
        }
        if tls == nil && !address.isLoopback {
            throw reader.error("console.allow_plaintext", "applies to a loopback listen address only; set \"tls\" for \(listen)")
        }
        console = Console(
            listen: listen, tls: tls, allowPlaintext: allowPlaintext, allowRemote: allowRemote,
            idleTimeout: try reader.optionalInt(object, "idle_timeout_s", path: "console", range: 60...86_400) ?? 900,
            maxFailedLogins: try reader.optionalInt(object, "max_failed_logins", path: "console", range: 1...100) ?? 5,
            lockoutSeconds: try reader.optionalInt(object, "lockout_s", path: "console", range: 1...86_400) ?? 900)
    }
}
