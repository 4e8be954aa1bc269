internal import CCurl

// MARK: - Easy handle options
//
// Every string option except CURLOPT_POSTFIELDS is copied by libcurl when set ("The application does
// not have to keep the string around after setting this option", curl_easy_setopt(3)), so the
// `withCString` pointers below need not outlive the call.

extension EasyHandle {
    /// Validates `submission`'s request and makes the handle ready to run it: the options of its
    /// ``Profile`` only when the handle was configured for another one (or none), then the options
    /// that change with every request. Starts a fresh ``Transfer``.
    ///
    /// If this throws, the handle may be half configured: drop it rather than pooling it.
    /// - Parameters:
    ///   - submission: The request to run.
    ///   - profile: `Profile(submission.request, userAgent:)`, which the caller has already built to
    ///     choose the handle.
    func prepare(_ submission: Submission, profile: Profile) throws(TransportFailure) {
        let request = submission.request
        try Self.validate(request)
        if profile != self.profile {
            if self.profile != nil {
                // curl_easy_reset: every option back to its default (the connection pool, which
                // belongs to the multi handle, is untouched), so nothing of the old profile remains.
                self.profile = nil
                curl_easy_reset(easy)
            }
            try configureFixedOptions()
            try configure(profile)
            self.profile = profile
        }

        try set(CURLOPT_URL, string: request.url)
        // CURLOPT_TIMEOUT_MS bounds the whole transfer; CURLOPT_CONNECTTIMEOUT_MS only the connect
        // phase (TLS included). 0 would mean "no limit", so both are at least 1 ms.
        try set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        try set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
        if request.method != "GET", request.method != "HEAD" { try setBody(request.body) }
        try setHeaders(request.headers)
        // curl writes the error buffer only on failure: clear what an earlier request left there.
        errorBuffer[0] = 0
        transfer = Transfer(submission: submission)
    }

    /// The options every request has, whatever its profile; set on a new or reset handle.
    private func configureFixedOptions() throws(TransportFailure) {
        // CURLOPT_PROTOCOLS_STR: any other scheme fails with CURLE_UNSUPPORTED_PROTOCOL.
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        // CURLOPT_NOSIGNAL: no SIGALRM for DNS timeouts; required when libcurl runs on a thread.
        try set(CURLOPT_NOSIGNAL, 1)
        // CURLOPT_FOLLOWLOCATION 0: a 3xx comes back as the response; a receiver must not redirect deltas.
        try set(CURLOPT_FOLLOWLOCATION, 0)
        // CURL_HTTP_VERSION_2TLS: HTTP/2 when ALPN offers it over TLS, HTTP/1.1 for plain http.
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // CURLOPT_TCP_KEEPALIVE: probes keep idle pooled connections honest.
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        // CURLOPT_SSL_VERIFYPEER 1 and CURLOPT_SSL_VERIFYHOST 2 are libcurl's defaults; they are set
        // anyway so that no other code path can weaken them.
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        // CURLOPT_SSLVERSION: TLS 1.2 at least.
        try set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))

        // CURLOPT_ERRORBUFFER: curl writes a zero-terminated message of at most CURL_ERROR_SIZE bytes.
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        let box = Unmanaged.passUnretained(self).toOpaque()
        // CURLOPT_WRITEFUNCTION/WRITEDATA and HEADERFUNCTION/HEADERDATA: the data pointer is passed
        // back untouched as the callback's last argument.
        try check(renkei_curl_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, easyHandleWriteCallback))
        try set(CURLOPT_WRITEDATA, pointer: box)
        try check(renkei_curl_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, easyHandleHeaderCallback))
        try set(CURLOPT_HEADERDATA, pointer: box)
    }

    /// The options of `profile`: TLS files, method, `User-Agent`.
    private func configure(_ profile: Profile) throws(TransportFailure) {
        let tls = profile.tls
        if let caFile = tls.caFile { try set(CURLOPT_CAINFO, string: caFile) }
        if let certificate = tls.clientCertificate { try set(CURLOPT_SSLCERT, string: certificate) }
        if let key = tls.clientKey { try set(CURLOPT_SSLKEY, string: key) }
        switch profile.method {
        case "GET":
            // CURLOPT_HTTPGET: a plain GET, no body.
            try set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            // CURLOPT_NOBODY: a HEAD request; no body is read.
            try set(CURLOPT_NOBODY, 1)
        case "POST":
            break  // CURLOPT_POSTFIELDS, set with each body, makes it a POST
        default:
            // CURLOPT_CUSTOMREQUEST: replaces the method word only; the body options still apply.
            try set(CURLOPT_CUSTOMREQUEST, string: profile.method)
        }
        if let userAgent = profile.userAgent { try set(CURLOPT_USERAGENT, string: userAgent) }
    }

    /// Copies `body` into the handle's buffer and points curl at it.
    private func setBody(_ body: [UInt8]) throws(TransportFailure) {
        if body.count > requestBody.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: body.count, alignment: 1)
            requestBody.deallocate()  // curl reads it only while a transfer runs, and none does
            requestBody = grown
        }
        requestBody.copyBytes(from: body)
        // CURLOPT_POSTFIELDSIZE_LARGE: the exact length, so the body may hold NUL bytes.
        // CURLOPT_POSTFIELDS is NOT copied: `requestBody` lives as long as the handle (or until a
        // larger body replaces it, between transfers). It is never NULL, as a NULL pointer would make
        // curl read the body from stdin.
        try check(renkei_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
        try set(CURLOPT_POSTFIELDS, pointer: requestBody.baseAddress!)
    }

    /// Builds the request's header list, hands it to curl and frees the previous request's.
    private func setHeaders(_ headers: OutboundHeaders) throws(TransportFailure) {
        var lines = headers.map { field in
            // "Name;" is curl's spelling of a header with an empty value; "Name:" would delete it.
            field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)"
        }
        // "Expect:" with no value removes the `Expect: 100-continue` curl adds to larger POSTs.
        if !headers.contains(name: "Expect") { lines.append("Expect:") }
        // "Content-Type:" removes the application/x-www-form-urlencoded curl would claim for a POST
        // body; a body of unstated type is more honest than a wrong type.
        if !headers.contains(name: "Content-Type") { lines.append("Content-Type:") }
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            // curl_slist_append copies the string; it returns NULL (leaving the list intact) on failure.
            guard let longer = curl_slist_append(list, line) else {
                curl_slist_free_all(list)
                throw TransportFailure(kind: .other, message: "curl_slist_append failed: out of memory")
            }
            list = longer
        }
        // CURLOPT_HTTPHEADER: the list is not copied; it lives until the next request replaces it (or
        // the handle goes). curl no longer reads the previous list, which belonged to a finished transfer.
        let code = renkei_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
        guard code == CURLE_OK else {
            curl_slist_free_all(list)
            throw TransportFailure(curlCode: Int(code.rawValue), detail: "")
        }
        curl_slist_free_all(headerList)
        headerList = list
    }

    // MARK: - Validation

    /// Refuses what libcurl would send mangled: NUL in the URL, header injection, a bad method.
    static func validate(_ request: OutboundRequest) throws(TransportFailure) {
        guard !request.url.isEmpty, !request.url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .invalid("the URL \(request.url.debugDescription) is empty or holds spaces or control characters")
        }
        guard isToken(request.method) else {
            throw .invalid("the method \(request.method.debugDescription) is not an HTTP token")
        }
        if request.method == "GET" || request.method == "HEAD", !request.body.isEmpty {
            throw .invalid("a \(request.method) request cannot carry a body")
        }
        for field in request.headers {
            guard isToken(field.name) else {
                throw .invalid("the header name \(field.name.debugDescription) is not an HTTP token")
            }
            guard !field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
                throw .invalid("the value of header \(field.name) holds CR, LF or NUL")
            }
        }
    }

    /// RFC 9110 §5.6.2 `token`.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// A duration in whole milliseconds, rounded up, at least 1.
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        guard seconds < Int64(Int32.max) else { return Int(Int32.max) }
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(max(millis, 1))
    }

    // MARK: - setopt helpers

    private func set(_ option: CURLoption, _ value: Int) throws(TransportFailure) {
        try check(renkei_curl_easy_setopt_long(easy, option, value))
    }

    private func set(_ option: CURLoption, string: String) throws(TransportFailure) {
        try check(string.withCString { renkei_curl_easy_setopt_string(easy, option, $0) })
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer) throws(TransportFailure) {
        try check(renkei_curl_easy_setopt_pointer(easy, option, pointer))
    }

    /// curl_easy_setopt returns CURLE_OK, or a code naming why the option was refused.
    private func check(_ code: CURLcode) throws(TransportFailure) {
        guard code == CURLE_OK else {
            throw TransportFailure(curlCode: Int(code.rawValue), detail: "")
        }
    }
}
