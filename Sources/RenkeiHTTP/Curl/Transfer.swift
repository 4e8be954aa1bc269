internal import CCurl

/// One request in flight: the easy handle and everything libcurl reads from or writes into while it
/// runs.
///
/// Confined to the loop thread. It owns the `CURL *`, the header `curl_slist`, the request body
/// (`CURLOPT_POSTFIELDS` does not copy) and the error buffer, and frees them in `deinit`, after the
/// loop has removed the handle from the multi handle. Callbacks reach it through an `Unmanaged`
/// pointer that stays valid because the loop's table keeps the transfer alive as long as the handle.
final class Transfer {
    let submission: Submission
    /// The `CURL *`.
    let easy: UnsafeMutableRawPointer
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// The request body, allocated (at least one byte, so never null) and owned here.
    let requestBody: UnsafeMutableRawBufferPointer
    let requestBodyCount: Int
    /// `CURLOPT_ERRORBUFFER`: at least `CURL_ERROR_SIZE` bytes, alive as long as the handle.
    let errorBuffer: UnsafeMutablePointer<CChar>

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

    /// Creates the easy handle; the caller configures it with `configure(userAgent:)`.
    init(submission: Submission) throws(TransportFailure) {
        // curl_easy_init returns NULL only when it cannot allocate.
        guard let easy = curl_easy_init() else {
            throw TransportFailure(kind: .other, message: "curl_easy_init failed: out of memory")
        }
        self.submission = submission
        self.easy = easy
        let body = submission.request.body
        requestBodyCount = body.count
        requestBody = .allocate(byteCount: max(body.count, 1), alignment: 1)
        requestBody.copyBytes(from: body)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        maxBodyBytes = max(submission.request.maxResponseBytes, 0)
    }

    deinit {
        // curl_easy_cleanup: the handle must already be out of the multi handle; it frees nothing of ours.
        curl_easy_cleanup(easy)
        // curl_slist_free_all accepts NULL; curl no longer reads the list once the handle is gone.
        curl_slist_free_all(headerList)
        requestBody.deallocate()
        errorBuffer.deallocate()
    }

    /// curl's error buffer text: empty unless libcurl wrote a message for a failed transfer.
    var errorText: String {
        String(cString: errorBuffer)
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
    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        bodyBytesReceived += bytes.count
        let room = maxBodyBytes - body.count
        if room > 0 {
            body.append(contentsOf: bytes.prefix(room))
        }
    }

    /// Takes one header line (CRLF included); returns false to stop the transfer.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        responseHeaderBytes += bytes.count
        guard responseHeaderBytes <= Self.maxHeaderBytes else {
            abortReason = TransportFailure(
                kind: .other,
                message: "the response headers exceed \(Self.maxHeaderBytes) bytes; the receiver is misbehaving")
            return false
        }
        var line = bytes[...]
        while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
        if line.starts(with: Array("HTTP/".utf8)) {
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

// MARK: - C callbacks

/// `CURLOPT_WRITEFUNCTION`: libcurl hands body bytes; returning anything but `size * nmemb` fails the
/// transfer with `CURLE_WRITE_ERROR` (https://curl.se/libcurl/c/CURLOPT_WRITEFUNCTION.html). `size`
/// is always 1.
let transferWriteCallback: renkei_curl_write_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let userdata, length > 0 else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receiveBody(UnsafeRawBufferPointer(start: pointer, count: length))
    return length
}

/// `CURLOPT_HEADERFUNCTION`: called once per complete header line, status line and blank line
/// included, not NUL-terminated; a short return fails the transfer
/// (https://curl.se/libcurl/c/CURLOPT_HEADERFUNCTION.html).
let transferHeaderCallback: renkei_curl_write_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let userdata, length > 0 else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: pointer, count: length)) ? length : 0
}
