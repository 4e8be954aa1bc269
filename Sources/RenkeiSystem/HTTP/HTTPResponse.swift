public import RenkeiCore

/// An HTTP response: status, headers and a body that is always sent with `Content-Length`.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields; the server adds `Content-Length` and, when closing, `Connection: close`.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response (`Content-Type: application/json`), serialized with a trailing newline.
    /// - Parameters:
    ///   - status: the status code.
    ///   - value: the JSON body.
    public static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "application/json"], body: value.serializedBytes + [0x0A])
    }

    /// A JSON error response: `{"error": message}`.
    /// - Parameters:
    ///   - status: the status code.
    ///   - message: what went wrong and what to do.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, .object(["error": .string(message)]))
    }

    /// A plain-text response (`text/plain; charset=utf-8`, or `contentType`).
    /// - Parameters:
    ///   - status: the status code.
    ///   - text: the body.
    ///   - contentType: the media type, e.g. Prometheus' `text/plain; version=0.0.4`.
    public static func text(
        _ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8"
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }

    /// The standard reason phrase for a status code.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 423: return "Locked"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }

    /// The bytes on the wire: status line, headers, `Content-Length`, blank line and body.
    /// - Parameters:
    ///   - close: add `Connection: close`.
    ///   - includeBody: `false` for answers to `HEAD`.
    func serialized(close: Bool, includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for field in headers where !HTTPHeaders.same(field.name, "Content-Length")
            && !HTTPHeaders.same(field.name, "Connection") && !HTTPHeaders.same(field.name, "Transfer-Encoding")
        {
            // Never let a handler's value split the response (CR/LF injection).
            let value = field.value.filter { $0 != "\r" && $0 != "\n" }
            head += "\(field.name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n"
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}
