import RenkeiCore
import RenkeiSystem

// MARK: - Push listener security (issue 13)

extension Configuration {
    /// Reads `ingest_tls`, `ingest_allow_plaintext` and the connection caps, and refuses a push
    /// listener that other hosts could reach over plain HTTP unless the file says so explicitly.
    mutating func readIngestSecurity(_ root: JSONObject, reader: ConfigReader) throws(RenkeiError) {
        if let tls = try reader.optionalObject(root, "ingest_tls", path: "") {
            try reader.allowOnly(tls, path: "ingest_tls", ["cert_file", "key_file"])
            ingestTLS = IngestTLS(
                certificateFile: try reader.string(tls, "cert_file", path: "ingest_tls"),
                keyFile: try reader.string(tls, "key_file", path: "ingest_tls"))
        }
        if let allow = root["ingest_allow_plaintext"], !allow.isNull {
            guard case .bool(let value) = allow else {
                throw reader.error("ingest_allow_plaintext", "must be true or false")
            }
            ingestAllowPlaintext = value
        }
        ingestMaxConnections = try reader.optionalInt(root, "ingest_max_connections", path: "", range: 1...4096) ?? 64
        ingestMaxConnectionsPerPeer =
            try reader.optionalInt(root, "ingest_max_connections_per_peer", path: "", range: 1...4096)
            ?? min(16, ingestMaxConnections)
        guard ingestMaxConnectionsPerPeer <= ingestMaxConnections else {
            throw reader.error(
                "ingest_max_connections_per_peer",
                "\(ingestMaxConnectionsPerPeer) is more than ingest_max_connections (\(ingestMaxConnections)); "
                    + "make it smaller, so one client cannot hold every connection")
        }

        guard let listen = ingestListen else {
            if ingestTLS != nil {
                throw reader.error("ingest_tls", "is set but ingest_listen is not; set ingest_listen (e.g. \"0.0.0.0:8470\") or remove ingest_tls")
            }
            return
        }
        guard let address = ListenAddress.parse(listen) else {
            throw reader.error("ingest_listen", "\(listen) is not host:port (e.g. 127.0.0.1:8470) or a socket path")
        }
        if ingestTLS == nil, !ingestAllowPlaintext, !address.isLoopback {
            throw reader.error(
                "ingest_listen",
                "\(listen) can be reached from other hosts, and push carries personal data and bearer tokens: "
                    + "set \"ingest_tls\": {\"cert_file\": \"/etc/renkei/tls/push.pem\", \"key_file\": \"/etc/renkei/tls/push.key\"} "
                    + "to serve HTTPS (runbook ops/runbooks/en/push-tls.md), or listen on 127.0.0.1; only behind a "
                    + "TLS-terminating proxy on a trusted network, set \"ingest_allow_plaintext\": true")
        }
    }
}
