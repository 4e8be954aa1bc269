import CTLS
import Glibc

/// A server's TLS settings in OpenSSL terms (an `SSL_CTX`): one certificate chain and its private
/// key, TLS 1.2 or later. The only code in Renkei that calls libssl.
///
/// Sessions (``Session``) never touch a socket: OpenSSL reads ciphertext from one memory BIO and
/// writes ciphertext into another, and ``ConnectionStream`` moves those bytes with the same
/// `poll(2)`-bounded socket calls as plain HTTP (`MSG_NOSIGNAL`, EINTR retried, no SIGPIPE).
public final class TLSContext: @unchecked Sendable {
    // @unchecked: an SSL_CTX is safe to share between threads once configured, which init finishes
    // before anyone sees it (OpenSSL's openssl-threads(7)); it is never changed afterwards.
    private let context: OpaquePointer

    /// Loads a PEM certificate chain and its PEM private key.
    /// - Parameters:
    ///   - certificateFile: the server certificate first, then any intermediates.
    ///   - keyFile: the matching private key, unencrypted (a daemon has nobody to type a passphrase).
    /// - Throws: ``SystemError`` naming the file and saying what is wrong with it.
    public init(certificateFile: String, keyFile: String) throws(SystemError) {
        try Self.checkReadable(certificateFile, what: "TLS certificate")
        try Self.checkReadable(keyFile, what: "TLS private key")
        ERR_clear_error()
        // SSL_CTX_new(3): TLS_server_method negotiates the highest version both sides support.
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw SystemError(.other, operation: "SSL_CTX_new", message: "OpenSSL could not make a TLS context (\(Self.drainErrors()))")
        }
        self.context = context
        guard renkei_tls_require_tls12(context) == 1 else {
            throw SystemError(.other, operation: "SSL_CTX_set_min_proto_version", message: Self.drainErrors())
        }
        renkei_tls_harden(context)
        renkei_tls_refuse_passphrases(context)
        // SSL_CTX_use_certificate_chain_file(3): PEM, the leaf first; returns 1 on success.
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw SystemError(
                .invalidArgument, operation: "load the TLS certificate \(certificateFile)",
                message: "not a usable PEM certificate chain (OpenSSL: \(Self.drainErrors())); "
                    + "write the server certificate, then its intermediates, as -----BEGIN CERTIFICATE----- blocks")
        }
        // SSL_CTX_use_PrivateKey_file(3): returns 1 on success; an encrypted key fails (no passphrase
        // callback), and so does a key that is not the certificate's (X509_check_private_key's
        // "key values mismatch").
        // SSL_CTX_check_private_key(3) then confirms the pair once more.
        let keyLoaded = SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1
        guard keyLoaded, SSL_CTX_check_private_key(context) == 1 else {
            let reasons = Self.drainErrors()
            if keyLoaded || reasons.contains("key values mismatch") {
                throw SystemError(
                    .invalidArgument, operation: "load the TLS private key \(keyFile)",
                    message: "the key does not belong to the certificate \(certificateFile) (OpenSSL: \(reasons)); "
                        + "give the key the certificate was issued for")
            }
            throw SystemError(
                .invalidArgument, operation: "load the TLS private key \(keyFile)",
                message: "not a usable unencrypted PEM private key (OpenSSL: \(reasons)); if it is encrypted, "
                    + "write it out without a passphrase (openssl pkey -in KEY -out KEY.new) readable by renkeid alone")
        }
    }

    deinit { SSL_CTX_free(context) }

    /// The oldest protocol a client may use, as OpenSSL names it: `TLSv1.2`.
    public var minimumProtocolVersion: String {
        switch renkei_tls_minimum_version(context) {
        case 0: return "any"
        case TLS1_VERSION: return "TLSv1"
        case TLS1_1_VERSION: return "TLSv1.1"
        case TLS1_2_VERSION: return "TLSv1.2"
        case TLS1_3_VERSION: return "TLSv1.3"
        case let other: return "0x" + String(other, radix: 16)
        }
    }

    /// A new server-side session for one connection.
    func makeSession() throws(SystemError) -> Session {
        try Session(context: context)
    }

    /// Opens and closes the file, so a missing or unreadable one is reported with its errno.
    private static func checkReadable(_ path: String, what: String) throws(SystemError) {
        let descriptor = try Syscall.call("open the \(what) \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        Syscall.close(descriptor)
    }

    /// Takes every queued OpenSSL error of this thread (ERR_get_error(3)) as text.
    fileprivate static func drainErrors() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "no detail" : reasons.joined(separator: "; ")
    }

    // MARK: - Session

    /// One connection's TLS state over two memory BIOs: ``feed(_:)`` ciphertext received,
    /// ``read(maximum:)`` plaintext, ``write(_:)`` plaintext, ``takeOutput()`` ciphertext to send.
    /// Used by one thread at a time.
    final class Session {
        /// What ``read(maximum:)`` found.
        enum ReadResult {
            /// Decrypted bytes.
            case bytes([UInt8])
            /// No whole record is buffered: feed more ciphertext.
            case needsInput
            /// The peer sent close_notify.
            case closed
        }

        private let ssl: OpaquePointer
        /// Ciphertext from the peer (owned by `ssl` after SSL_set_bio).
        private let input: OpaquePointer
        /// Ciphertext for the peer (owned by `ssl`).
        private let output: OpaquePointer

        fileprivate init(context: OpaquePointer) throws(SystemError) {
            ERR_clear_error()
            guard let ssl = SSL_new(context) else {
                throw SystemError(.other, operation: "SSL_new", message: Self.failure())
            }
            // BIO_s_mem(3): an empty memory BIO reports "retry", which SSL_get_error turns into WANT_READ.
            guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
                SSL_free(ssl)
                throw SystemError(.other, operation: "BIO_new", message: Self.failure())
            }
            // SSL_set_bio(3): the SSL object takes ownership of both BIOs and frees them in SSL_free.
            SSL_set_bio(ssl, input, output)
            SSL_set_accept_state(ssl)
            self.ssl = ssl
            self.input = input
            self.output = output
        }

        deinit { SSL_free(ssl) }

        /// Advances the handshake with the ciphertext fed so far.
        /// - Returns: `true` once it is complete; `false` when it needs more input (send ``takeOutput()`` first).
        /// - Throws: ``SystemError`` (`protocolError`) when the peer's hello or answer is refused.
        func handshake() throws(SystemError) -> Bool {
            ERR_clear_error()
            // SSL_do_handshake(3): 1 done; otherwise SSL_get_error says whether it only waits for input.
            let result = SSL_do_handshake(ssl)
            if result == 1 { return true }
            if SSL_get_error(ssl, result) == SSL_ERROR_WANT_READ { return false }
            throw SystemError(.protocolError, operation: "TLS handshake", message: Self.failure())
        }

        /// The negotiated protocol, e.g. `TLSv1.3` (SSL_get_version(3)).
        var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

        /// Hands ciphertext received from the peer to OpenSSL.
        func feed(_ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return }
            // BIO_write(3) on a memory BIO copies everything (it grows) and returns the count.
            _ = bytes.withUnsafeBytes { BIO_write(input, $0.baseAddress, Int32(clamping: $0.count)) }
        }

        /// Decrypts up to `maximum` bytes from what was fed.
        /// - Throws: ``SystemError`` (`protocolError`) for a bad record or an alert from the peer.
        func read(maximum: Int = 65536) throws(SystemError) -> ReadResult {
            ERR_clear_error()
            var buffer = [UInt8](repeating: 0, count: maximum)
            var count = 0
            // SSL_read_ex(3): 1 and the count on success; else SSL_get_error says why.
            let result = buffer.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &count) }
            if result == 1 {
                buffer.removeLast(maximum - count)
                return .bytes(buffer)
            }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: return .needsInput
            case SSL_ERROR_ZERO_RETURN: return .closed
            default: throw SystemError(.protocolError, operation: "TLS read", message: Self.failure())
            }
        }

        /// Encrypts `bytes`; the ciphertext waits in ``takeOutput()``.
        /// - Throws: ``SystemError`` when the session is broken (after an alert or close).
        func write(_ bytes: [UInt8]) throws(SystemError) {
            guard !bytes.isEmpty else { return }
            ERR_clear_error()
            var written = 0
            // SSL_write_ex(3): into a memory BIO this writes everything or fails.
            let result = bytes.withUnsafeBytes { SSL_write_ex(ssl, $0.baseAddress, $0.count, &written) }
            guard result == 1, written == bytes.count else {
                throw SystemError(.protocolError, operation: "TLS write", message: Self.failure())
            }
        }

        /// Queues close_notify (SSL_shutdown(3)); send ``takeOutput()`` afterwards.
        func close() {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }

        /// The ciphertext produced so far (handshake messages, records, alerts), emptied.
        func takeOutput() -> [UInt8] {
            // BIO_ctrl_pending(3): the bytes waiting in a memory BIO.
            let pending = Int(BIO_ctrl_pending(output))
            guard pending > 0 else { return [] }
            var bytes = [UInt8](repeating: 0, count: pending)
            let count = bytes.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32(clamping: $0.count)) }
            bytes.removeLast(pending - max(0, Int(count)))
            return bytes
        }

        private static func failure() -> String { TLSContext.drainErrors() }
    }
}
