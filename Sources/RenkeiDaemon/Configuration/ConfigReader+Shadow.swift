import RenkeiCore

extension Configuration.Subscription {
    /// Whether a subscription sends (issue 17, `subscriptions.<name>.mode`).
    public enum Mode: String, Sendable, Hashable {
        /// Deltas are sent and recorded in the disclosure ledger (the default).
        case live
        /// Deltas are planned, filtered by the policy in force and recorded exactly as if sent
        /// (outbox state `shadowed`), but nothing leaves the machine and nothing enters the ledger.
        case shadow
    }
}

extension ConfigReader {
    /// Reads `subscriptions.<name>.mode`: `"live"` (default) or `"shadow"`.
    func subscriptionMode(_ object: JSONObject, path: String) throws(RenkeiError) -> Configuration.Subscription.Mode {
        guard let text = try optionalString(object, "mode", path: path) else { return .live }
        guard let mode = Configuration.Subscription.Mode(rawValue: text) else {
            throw error("\(path).mode", "must be \"live\" or \"shadow\" (a shadow subscription records its deltas but sends nothing)")
        }
        return mode
    }
}
