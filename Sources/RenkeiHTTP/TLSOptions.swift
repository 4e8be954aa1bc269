/// TLS settings for one outbound request, from a subscription's `tls` object (contract §5).
///
/// Peer verification is always on: the certificate chain is checked against the CA bundle and the
/// host name against the certificate. There is deliberately no switch to turn either off; to trust
/// a private CA, name its bundle in `caFile`.
public struct TLSOptions: Sendable, Hashable {
    /// A PEM file of CA certificates to verify the server with, instead of the system bundle.
    public var caFile: String?
    /// A PEM client certificate for mutual TLS; used together with `clientKey`.
    public var clientCertificate: String?
    /// The PEM private key of `clientCertificate`.
    public var clientKey: String?

    /// Creates TLS settings; every file is optional and `nil` means the system default.
    /// - Parameters:
    ///   - caFile: A PEM CA bundle to trust instead of the system one.
    ///   - clientCertificate: A PEM client certificate for mutual TLS.
    ///   - clientKey: The private key of the client certificate.
    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }
}
