/// One request on an ``EasyHandle``: the submission it answers and the response as the callbacks
/// received it.
///
/// Confined to the loop thread; a new value per request, so nothing of one response can leak into
/// the next on a reused handle.
struct Transfer {
    let submission: Submission

    // MARK: - Response, filled in by the callbacks

    private(set) var responseHeaders: [OutboundHeaders.Field] = []
    private var responseHeaderBytes = 0
    private(set) var body: [UInt8] = []
    private(set) var bodyBytesReceived = 0
    let maxBodyBytes: Int
    /// Set when a callback stopped the transfer; it explains the resulting `CURLE_WRITE_ERROR`.
    private(set) var abortReason: TransportFailure?

    /// The most response header bytes kept; beyond it the transfer is stopped.
    static let maxHeaderBytes = 64 * 1024
    /// How a status line starts.
    private static let statusLinePrefix = Array("HTTP/".utf8)

    init(submission: Submission) {
        self.submission = submission
        maxBodyBytes = max(submission.request.maxResponseBytes, 0)
    }

    /// What the transfer had got to, for the advice of a failure.
    var failureContext: TransportFailure.Context {
        let request = submission.request
        return TransportFailure.Context(
            https: request.url.lowercased().hasPrefix("https:"), responseStarted: responseHeaderBytes > 0,
            clientCertificate: request.tls.clientCertificate != nil)
    }

    // MARK: - Callbacks (loop thread, inside curl_multi_perform)

    /// Keeps body bytes up to the cap and counts the rest.
    mutating func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        bodyBytesReceived += bytes.count
        let room = maxBodyBytes - body.count
        if room > 0 {
            body.append(contentsOf: bytes.prefix(room))
        }
    }

    /// Takes one header line (CRLF included); returns false to stop the transfer.
    mutating func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        responseHeaderBytes += bytes.count
        guard responseHeaderBytes <= Self.maxHeaderBytes else {
            abortReason = TransportFailure(
                kind: .other,
                message: "the response headers exceed \(Self.maxHeaderBytes) bytes; the receiver is misbehaving")
            return false
        }
        var line = bytes[...]
        while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
        if line.starts(with: Self.statusLinePrefix) {
            // A status line starts a new header block: a 1xx, or the final response. Keep only the last.
            responseHeaders.removeAll()
            return true
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return true  // the blank line ending a block, or an obsolete continuation line
        }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        responseHeaders.append(OutboundHeaders.Field(name: name, value: String(decoding: value, as: UTF8.self)))
        return true
    }
}
