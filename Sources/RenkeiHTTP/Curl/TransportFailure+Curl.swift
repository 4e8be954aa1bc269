internal import CCurl

// MARK: - CURLcode → TransportFailure

extension TransportFailure {
    /// Classifies a libcurl result code and says what to do about it.
    ///
    /// Codes are libcurl's `CURLcode` values (https://curl.se/libcurl/c/libcurl-errors.html).
    /// - Parameters:
    ///   - curlCode: The `CURLcode` a transfer finished with; must not be `CURLE_OK`.
    ///   - detail: curl's `CURLOPT_ERRORBUFFER` text, or empty.
    init(curlCode: Int, detail: String) {
        let kind = Self.kind(ofCurlCode: curlCode)
        // curl_easy_strerror returns a static string for any code, known or not.
        let summary = detail.isEmpty ? String(cString: curl_easy_strerror(CURLcode(rawValue: .init(truncatingIfNeeded: curlCode)))) : detail
        self.init(kind: kind, message: "\(summary); \(Self.advice(for: kind))", curlCode: curlCode)
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
