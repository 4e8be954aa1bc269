internal import CCurl

// MARK: - CURLcode → TransportFailure

extension TransportFailure {
    /// What a failed transfer had got to, for advice that curl's code and message alone cannot give.
    struct Context: Sendable {
        /// The URL was https.
        var https = false
        /// Any response header byte had arrived.
        var responseStarted = false
        /// The request presented a client certificate.
        var clientCertificate = false
    }

    /// Classifies a libcurl result code and says what to do about it.
    ///
    /// Codes are libcurl's `CURLcode` values (https://curl.se/libcurl/c/libcurl-errors.html).
    ///
    /// A TLS 1.3 server checks the client certificate only after the client has finished its side
    /// of the handshake, so a receiver that requires a certificate (mutual TLS) refuses one that is
    /// missing or untrusted while curl is already sending the request: curl then reports a send or
    /// receive error. When curl's message carries the server's TLS alert, the failure is `tls`;
    /// when the connection broke before the alert could be read, it stays `connectionReset` and the
    /// advice names the client certificate.
    /// - Parameters:
    ///   - curlCode: The `CURLcode` a transfer finished with; must not be `CURLE_OK`.
    ///   - detail: curl's `CURLOPT_ERRORBUFFER` text, or empty.
    ///   - context: What the transfer had got to.
    init(curlCode: Int, detail: String, context: Context = Context()) {
        var kind = Self.kind(ofCurlCode: curlCode)
        // curl_easy_strerror returns a static string for any code, known or not.
        let summary =
            detail.isEmpty ? String(cString: curl_easy_strerror(CURLcode(rawValue: .init(truncatingIfNeeded: curlCode)))) : detail
        var advice = Self.advice(for: kind)
        if kind == .connectionReset, let alert = Self.tlsAlert(in: summary) {
            kind = .tls
            advice = "the server ended the TLS session with alert '\(alert)'; \(Self.advice(for: .tls))"
        } else if kind == .connectionReset, context.https, !context.responseStarted {
            advice +=
                context.clientCertificate
                ? "; a receiver that requires client certificates (mutual TLS) also ends the connection like this"
                    + " when it does not trust ours: check that its CA signed tls.client_cert"
                : "; a receiver that requires a client certificate (mutual TLS) also ends the connection like this"
                    + " when none is sent: set tls.client_cert and tls.client_key"
        }
        self.init(kind: kind, message: "\(summary); \(advice)", curlCode: curlCode)
    }

    /// The description of a TLS alert the peer sent, in OpenSSL's words ("…:tlsv13 alert certificate
    /// required, errno 0" gives "certificate required"), or nil.
    static func tlsAlert(in message: String) -> String? {
        for marker in ["tlsv13 alert ", "tlsv12 alert ", "tlsv11 alert ", "tlsv1 alert ", "sslv3 alert "] {
            guard let range = message.firstRange(of: marker) else { continue }
            let alert = message[range.upperBound...].prefix { $0.isLetter || $0 == " " }
            return alert.isEmpty ? nil : String(alert)
        }
        return nil
    }

    /// The failure kind of a `CURLcode`.
    static func kind(ofCurlCode code: Int) -> Kind {
        func c(_ value: CURLcode) -> Int { Int(value.rawValue) }
        switch code {
        case c(CURLE_OPERATION_TIMEDOUT):
            return .timeout
        case c(CURLE_COULDNT_RESOLVE_HOST), c(CURLE_COULDNT_RESOLVE_PROXY):
            return .couldNotResolve
        case c(CURLE_COULDNT_CONNECT):
            return .couldNotConnect
        case c(CURLE_SSL_CONNECT_ERROR), c(CURLE_PEER_FAILED_VERIFICATION), c(CURLE_SSL_CERTPROBLEM),
            c(CURLE_SSL_CIPHER), c(CURLE_SSL_CACERT_BADFILE), c(CURLE_SSL_CRL_BADFILE), c(CURLE_SSL_ISSUER_ERROR),
            c(CURLE_SSL_ENGINE_NOTFOUND), c(CURLE_SSL_ENGINE_SETFAILED), c(CURLE_SSL_ENGINE_INITFAILED),
            c(CURLE_SSL_SHUTDOWN_FAILED), c(CURLE_SSL_PINNEDPUBKEYNOTMATCH), c(CURLE_SSL_INVALIDCERTSTATUS),
            c(CURLE_SSL_CLIENTCERT), c(CURLE_USE_SSL_FAILED):
            return .tls
        case c(CURLE_RECV_ERROR), c(CURLE_SEND_ERROR), c(CURLE_GOT_NOTHING), c(CURLE_PARTIAL_FILE),
            c(CURLE_HTTP2), c(CURLE_HTTP2_STREAM):
            return .connectionReset
        case c(CURLE_UNSUPPORTED_PROTOCOL), c(CURLE_URL_MALFORMAT), c(CURLE_BAD_FUNCTION_ARGUMENT),
            c(CURLE_SETOPT_OPTION_SYNTAX), c(CURLE_NOT_BUILT_IN):
            return .invalidRequest
        default:
            return .other
        }
    }

    /// What an operator should do about a failure of this kind.
    static func advice(for kind: Kind) -> String {
        switch kind {
        case .timeout:
            return "the server did not answer in time; it will be retried (raise timeout_s if the receiver is slow)"
        case .couldNotResolve:
            return "check the host name in the URL and this machine's DNS settings"
        case .couldNotConnect:
            return "check that the receiver is running and that its address and port are reachable from here"
        case .tls:
            return "check ca_file, client_cert and client_key, and that the server's certificate names this host"
        case .connectionReset:
            return "the connection broke before a complete response; it will be retried"
        case .invalidRequest:
            return "fix the URL, method or headers in the configuration; retrying will not help"
        case .cancelled:
            return "the request was cancelled before it finished"
        default:
            return "see curl's message above"
        }
    }

    /// The failure every unfinished request gets when its task is cancelled or the client stops.
    static func cancelled(_ why: String) -> TransportFailure {
        TransportFailure(kind: .cancelled, message: "\(why); \(advice(for: .cancelled))")
    }

    /// A request refused before it reached libcurl.
    static func invalid(_ why: String) -> TransportFailure {
        TransportFailure(kind: .invalidRequest, message: "\(why); \(advice(for: .invalidRequest))")
    }
}
