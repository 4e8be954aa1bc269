/// The bytes of one server connection: straight from the socket, or through a TLS session over it.
///
/// Either way the socket stays blocking, it is read only after `poll(2)` reported it readable, and
/// writes are bounded by `SO_SNDTIMEO`; TLS only transforms the bytes in between (``TLSContext/Session``
/// works on memory buffers).
struct ConnectionStream {
    let socket: Socket
    let tls: TLSContext.Session?

    /// What one ``receive()`` got.
    enum Received {
        /// Bytes for the parser (decrypted under TLS).
        case bytes([UInt8])
        /// Bytes arrived but no whole TLS record yet: wait again.
        case nothingYet
        /// The peer closed (TCP end of stream, or TLS close_notify).
        case endOfStream
    }

    /// How a TLS handshake ended.
    enum Handshake {
        /// Done; `early` holds request bytes that arrived with the client's last handshake message.
        case ready(early: [UInt8])
        /// The client spoke plain HTTP to the TLS listener (its first byte is a letter, not a TLS record).
        case plainHTTP
        case failed(String)
    }

    /// Completes the TLS handshake before `deadline` (plain connections are ready at once).
    func handshake(until deadline: ContinuousClock.Instant, clock: ContinuousClock) -> Handshake {
        guard let tls else { return .ready(early: []) }
        var first = true
        do {
            while true {
                let done = try tls.handshake()
                try flush()
                if done {
                    // The client's Finished and its first request often share a segment: decrypt
                    // that now, since poll(2) will not report those bytes again.
                    let (early, _) = try decryptAll()
                    return .ready(early: early)
                }
                let remaining = clock.now.duration(to: deadline)
                guard remaining > .zero else { return .failed("no TLS handshake within the header timeout") }
                guard try socket.waitReadable(timeout: remaining) else { continue }
                var raw: [UInt8] = []
                guard try socket.read(appendingTo: &raw) > 0 else {
                    return .failed("the client closed the connection during the TLS handshake")
                }
                // RFC 8446 §5.1: a TLS record starts with its content type (22 for a handshake);
                // an ASCII capital letter is a request line ("POST /…").
                if first, let byte = raw.first, byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") {
                    return .plainHTTP
                }
                first = false
                tls.feed(raw)
            }
        } catch {
            return .failed(error.message)
        }
    }

    /// Reads what the socket has (call after it polled readable) and decrypts every whole record.
    /// - Throws: ``SystemError`` for a socket error or a broken TLS record.
    func receive() throws(SystemError) -> Received {
        var raw: [UInt8] = []
        guard try socket.read(appendingTo: &raw, maximum: 65536) > 0 else { return .endOfStream }
        guard let tls else { return .bytes(raw) }
        tls.feed(raw)
        let (plain, closed) = try decryptAll()
        if !plain.isEmpty { return .bytes(plain) }
        return closed ? .endOfStream : .nothingYet
    }

    /// Decrypts until only a partial record is left, so nothing decrypted waits unseen behind poll(2).
    /// - Returns: the plaintext, and whether the peer sent close_notify.
    private func decryptAll() throws(SystemError) -> (plain: [UInt8], closed: Bool) {
        guard let tls else { return ([], false) }
        var plain: [UInt8] = []
        var closed = false
        reading: while true {
            switch try tls.read() {
            case .bytes(let bytes): plain.append(contentsOf: bytes)
            case .needsInput: break reading
            case .closed:
                closed = true
                break reading
            }
        }
        try flush()  // e.g. a TLS 1.3 KeyUpdate answer
        return (plain, closed)
    }

    /// Sends every byte (encrypted under TLS), or throws.
    func send(_ bytes: [UInt8]) throws(SystemError) {
        guard let tls else { return try socket.write(bytes) }
        try tls.write(bytes)
        try flush()
    }

    /// Ends our side: TLS close_notify, then shutdown(2) of the write side.
    func closeWrite() {
        if let tls {
            tls.close()
            try? flush()
        }
        socket.shutdown(reading: false, writing: true)
    }

    private func flush() throws(SystemError) {
        guard let tls else { return }
        let output = tls.takeOutput()
        if !output.isEmpty { try socket.write(output) }
    }
}
