import Foundation
import RenkeiCore

extension ConfigReader {
    /// Reads `sources.<name>.pull`: `url` (http or https, no credentials in it), `interval_s` (default
    /// 30) and `headers` (values read from files, as a subscription's).
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the key; a URL with credentials is
    ///   never quoted in the message.
    func pull(_ object: JSONObject, path: String) throws(RenkeiError) -> Configuration.Pull {
        try allowOnly(object, path: path, ["url", "interval_s", "headers"])
        guard let url = object["url"]?.stringValue, url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw error("\(path).url", "must be an http:// or https:// URL of the change feed")
        }
        if Self.hasCredentials(url) {
            throw error(
                "\(path).url",
                "holds credentials (user:password@ before the host): they would show in status and logs; remove "
                    + "them from the URL and send them as a header read from a file, e.g. \"headers\": "
                    + "{\"Authorization\": {\"file\": \"/etc/renkei/secrets/<source>-pull\"}}")
        }
        guard URL(string: url)?.host != nil else {
            throw error("\(path).url", "must be an http:// or https:// URL of the change feed")
        }
        let interval = try optionalNumber(object, "interval_s", path: path) ?? 30
        guard interval > 0, interval <= 86_400 else {
            throw error("\(path).interval_s", "must be between 0 and 86400 seconds")
        }
        return Configuration.Pull(url: url, intervalSeconds: interval, headers: try headerFiles(object, path: path))
    }

    /// Whether the URL's authority (between `//` and the first `/`, `?` or `#`) has a user part.
    static func hasCredentials(_ url: String) -> Bool {
        guard let start = url.range(of: "://")?.upperBound else { return false }
        let authority = url[start...].prefix { !["/", "?", "#"].contains($0) }
        return authority.contains("@")
    }
}
