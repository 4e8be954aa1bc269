public import RenkeiCore

/// How an event came into the log (contract §7, issue 13): the way in and what identifies it there.
///
/// Stored beside the event (column `provenance`, canonical JSON), never inside the envelope, so the
/// event's canonical bytes — what duplicate detection compares — are the same whichever way it came:
/// a duplicate from another path is still a duplicate and the first provenance stays. The hash chain
/// covers it: a row with a provenance hashes its record with a `"provenance"` member added (see
/// ``EventLog``); rows written before provenance existed have none and hash as they always did.
public struct Provenance: Sendable, Hashable {
    /// The way in.
    public enum Via: String, Sendable, Hashable, CaseIterable {
        case spool, push, pull, replay, `operator`
    }

    /// The way in.
    public var via: Via
    /// `spool`: the spool file's name (no folder).
    public var file: String?
    /// `push`: the peer's `address:port`.
    public var peer: String?
    /// `push`, `spool`, `pull`: the source the token, folder or feed belongs to.
    public var source: String?
    /// `pull`: the feed URL without credentials, query or fragment.
    public var url: String?
    /// `replay`, `operator`: the caller's uid on the status socket (`SO_PEERCRED`).
    public var uid: Int64?
    /// `operator`: the console's staff account that decided (issue 18).
    public var staff: String?

    /// Creates a provenance.
    public init(
        via: Via, file: String? = nil, peer: String? = nil, source: String? = nil, url: String? = nil, uid: Int64? = nil,
        staff: String? = nil
    ) {
        self.via = via
        self.file = file
        self.peer = peer
        self.source = source
        self.url = url
        self.uid = uid
        self.staff = staff
    }

    /// `{"via": …, "file"?, "peer"?, "source"?, "url"?, "uid"?}`, only the members that are set.
    public var json: JSONValue {
        var object: JSONObject = ["via": .string(via.rawValue)]
        if let file { object["file"] = .string(file) }
        if let peer { object["peer"] = .string(peer) }
        if let source { object["source"] = .string(source) }
        if let url { object["url"] = .string(url) }
        if let uid { object["uid"] = .integer(uid) }
        if let staff { object["staff"] = .string(staff) }
        return .object(object)
    }

    /// `url` without user information, query and fragment (`https://u:p@host/feed?key=s` →
    /// `https://host/feed`): what a pull's provenance keeps, so no secret reaches the log.
    public static func redacted(url: String) -> String {
        var text = Substring(url)
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return String(text) }
        let authorityStart = text.index(colon, offsetBy: 3)
        let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
        if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
            return String(text[..<authorityStart]) + String(text[text.index(after: at)...])
        }
        return String(text)
    }
}
