import Foundation

/// Signs deltas the Standard Webhooks way (https://www.standardwebhooks.com/):
/// `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
public struct WebhookSigner: Sendable {
    /// One decoded signing key.
    public struct Key: Sendable, Hashable {
        /// The raw key bytes (the base64 part of `whsec_…`, decoded).
        public var bytes: [UInt8]
        /// Creates a key from raw bytes.
        public init(bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Why a secret file could not be used.
    public struct SecretError: Error, Sendable, CustomStringConvertible {
        /// What is wrong and what to do.
        public var message: String
        public var description: String { message }
    }

    /// The keys, in file order; every one signs (two during a rotation).
    public let keys: [Key]

    /// Creates a signer from keys.
    public init(keys: [Key]) { self.keys = keys }

    /// Parses the text of a secret file: one `whsec_<base64>` a line, one or two lines.
    /// - Throws: ``SecretError`` naming the bad line.
    public init(secretFileText text: String, fileName: String) throws(SecretError) {
        var keys: [Key] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard line.hasPrefix("whsec_") else {
                throw SecretError(message: "\(fileName):\(number + 1): a secret must start with 'whsec_' followed by base64")
            }
            guard let data = Data(base64Encoded: String(line.dropFirst(6))), !data.isEmpty else {
                throw SecretError(message: "\(fileName):\(number + 1): the text after 'whsec_' is not valid base64")
            }
            keys.append(Key(bytes: Array(data)))
        }
        guard !keys.isEmpty else {
            throw SecretError(message: "\(fileName): no secret found; write one line 'whsec_<base64 key>'")
        }
        guard keys.count <= 2 else {
            throw SecretError(message: "\(fileName): \(keys.count) secrets; keep at most two (old and new) while rotating")
        }
        self.keys = keys
    }

    /// The `webhook-signature` header value for a message.
    public func signature(id: String, timestamp: Int64, body: some Collection<UInt8>) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return keys.map { key in
            "v1," + Data(HMACSHA256.authenticationCode(key: key.bytes, message: message)).base64EncodedString()
        }.joined(separator: " ")
    }

    /// Whether `header` carries at least one valid `v1` signature for the message under any key.
    public func verify(id: String, timestamp: Int64, body: some Collection<UInt8>, header: String) -> Bool {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let expected = keys.map { HMACSHA256.authenticationCode(key: $0.bytes, message: message) }
        for part in header.split(separator: " ") where part.hasPrefix("v1,") {
            guard let given = Data(base64Encoded: String(part.dropFirst(3))) else { continue }
            if expected.contains(where: { constantTimeEquals($0, given) }) { return true }
        }
        return false
    }
}
