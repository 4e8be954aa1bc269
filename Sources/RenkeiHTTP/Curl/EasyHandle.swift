internal import CCurl

/// One libcurl easy handle, reused for one request after another.
///
/// Creating a handle and setting its options costs more than a small request's own work on a
/// kept-alive connection (`curl_easy_init` allocates and initialises several KB; each option is a
/// call that may copy a string). So a handle is configured once for a ``Profile`` — the options that
/// are the same for every request of a subscription — and for each later request with that profile
/// only the URL, timeouts, headers and body are set again (see `prepare`). A request with another
/// profile gets the handle after `curl_easy_reset`, configured from scratch, so no TLS file, method
/// or `User-Agent` of an earlier request carries over. The idle handles wait in ``EasyHandlePool``.
///
/// Confined to the loop thread. It owns the `CURL *`, the header `curl_slist`, the request body
/// buffer (`CURLOPT_POSTFIELDS` does not copy) and the error buffer, and frees them in `deinit`, once
/// the loop has removed the handle from the multi handle. Callbacks reach it through an `Unmanaged`
/// pointer that stays valid because the loop keeps the handle (in its table of running transfers or
/// in the pool) as long as the `CURL *` exists.
final class EasyHandle {
    /// The options a handle keeps from one request to the next; a request with another profile
    /// resets the handle.
    struct Profile: Equatable {
        var tls: TLSOptions
        var method: String
        /// The `User-Agent` curl adds, or `nil` when the request's headers name their own.
        var userAgent: String?

        /// The profile `request` needs.
        /// - Parameter userAgent: The client's `User-Agent`, used unless the request names its own.
        init(_ request: OutboundRequest, userAgent: String) {
            tls = request.tls
            method = request.method
            self.userAgent = request.headers.contains(name: "User-Agent") ? nil : userAgent
        }
    }

    /// The `CURL *`.
    let easy: UnsafeMutableRawPointer
    /// The profile the handle is configured for; `nil` until the first `prepare`.
    var profile: Profile?
    /// The request running on the handle and what has come back so far; `nil` while idle.
    var transfer: Transfer?
    /// `CURLOPT_HTTPHEADER` of the current request; replaced (and the old one freed) by the next.
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// `CURLOPT_POSTFIELDS`: the current request's body at its start; grown when a body does not fit.
    var requestBody: UnsafeMutableRawBufferPointer
    /// `CURLOPT_ERRORBUFFER`: at least `CURL_ERROR_SIZE` bytes, alive as long as the handle.
    let errorBuffer: UnsafeMutablePointer<CChar>

    /// Creates an unconfigured easy handle; `prepare` configures it for a request.
    init() throws(TransportFailure) {
        // curl_easy_init returns NULL only when it cannot allocate.
        guard let easy = curl_easy_init() else {
            throw TransportFailure(kind: .other, message: "curl_easy_init failed: out of memory")
        }
        self.easy = easy
        requestBody = .allocate(byteCount: Self.initialBodyCapacity, alignment: 1)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        // curl_easy_cleanup: the handle must already be out of the multi handle; it frees nothing of ours.
        curl_easy_cleanup(easy)
        // curl_slist_free_all accepts NULL; curl no longer reads the list once the handle is gone.
        curl_slist_free_all(headerList)
        requestBody.deallocate()
        errorBuffer.deallocate()
    }

    /// The body buffer a new handle starts with (a delta is well under it).
    static let initialBodyCapacity = 4096

    /// curl's error buffer text: empty unless libcurl wrote a message for the last failed transfer.
    var errorText: String {
        String(cString: errorBuffer)
    }

    /// Ends the current request on the handle (after the loop removed it from the multi handle).
    /// - Returns: The request and its response as received.
    func finish() -> Transfer? {
        defer { transfer = nil }
        return transfer
    }
}

// MARK: - C callbacks

/// `CURLOPT_WRITEFUNCTION`: libcurl hands body bytes; returning anything but `size * nmemb` fails the
/// transfer with `CURLE_WRITE_ERROR` (https://curl.se/libcurl/c/CURLOPT_WRITEFUNCTION.html). `size`
/// is always 1.
let easyHandleWriteCallback: renkei_curl_write_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let userdata, length > 0 else { return length }
    let handle = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    handle.transfer?.receiveBody(UnsafeRawBufferPointer(start: pointer, count: length))
    return length
}

/// `CURLOPT_HEADERFUNCTION`: called once per complete header line, status line and blank line
/// included, not NUL-terminated; a short return fails the transfer
/// (https://curl.se/libcurl/c/CURLOPT_HEADERFUNCTION.html).
let easyHandleHeaderCallback: renkei_curl_write_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let userdata, length > 0 else { return length }
    let handle = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    let keepGoing = handle.transfer?.receiveHeaderLine(UnsafeRawBufferPointer(start: pointer, count: length)) ?? true
    return keepGoing ? length : 0
}
