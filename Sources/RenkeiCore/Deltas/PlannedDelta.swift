/// One delta ready for the outbox (contract §4).
public struct PlannedDelta: Sendable, Hashable {
    /// `{subscription}:{uid}:{version}`: also the `webhook-id`.
    public var deltaID: String
    /// The subscription's name.
    public var subscription: String
    /// `person.created`, `person.changed`, `person.merged` or `person.unlinked`.
    public var kind: String
    /// The person.
    public var uid: String
    /// The person's version this delta brings the receiver to.
    public var version: Int64
    /// The version of the last delta sent to this subscription for the uid; `nil` on the first.
    public var prevVersion: Int64?
    /// The lsn of the event behind it.
    public var lsn: Int64
    /// The compact JSON body to POST.
    public var body: [UInt8]
    /// The field names disclosed (the keys of `view`), for the disclosure log.
    public var disclosedFields: [String]
    /// The state to store for (subscription, uid) once the delta is in the outbox.
    public var newState: SentState

    /// Creates a planned delta.
    public init(
        deltaID: String, subscription: String, kind: String, uid: String, version: Int64, prevVersion: Int64?,
        lsn: Int64, body: [UInt8], disclosedFields: [String], newState: SentState
    ) {
        self.deltaID = deltaID
        self.subscription = subscription
        self.kind = kind
        self.uid = uid
        self.version = version
        self.prevVersion = prevVersion
        self.lsn = lsn
        self.body = body
        self.disclosedFields = disclosedFields
        self.newState = newState
    }
}
