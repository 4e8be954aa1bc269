/// What one applied event changed: the input of delta planning and of checkpointing.
public struct ProjectionEffect: Sendable, Hashable {
    /// A person whose view changed.
    public struct PersonChange: Sendable, Hashable {
        /// The uid.
        public var uid: String
        /// The version before the event; `nil` when the event created the uid.
        public var oldVersion: Int64?
        /// The version after the event.
        public var newVersion: Int64

        /// Creates a person change.
        public init(uid: String, oldVersion: Int64?, newVersion: Int64) {
            self.uid = uid
            self.oldVersion = oldVersion
            self.newVersion = newVersion
        }
    }

    /// A household whose view changed.
    public struct HouseholdChange: Sendable, Hashable {
        /// The 世帯番号.
        public var householdNo: String
        /// The version before the event; `nil` when the event created the household.
        public var oldVersion: Int64?
        /// The version after the event.
        public var newVersion: Int64

        /// Creates a household change.
        public init(householdNo: String, oldVersion: Int64?, newVersion: Int64) {
            self.householdNo = householdNo
            self.oldVersion = oldVersion
            self.newVersion = newVersion
        }
    }

    /// Two uids joined: `retired` now answers with `merged_into` = `kept` (the lower uid).
    public struct Merge: Sendable, Hashable {
        /// The uid that was retired.
        public var retired: String
        /// The uid it was merged into.
        public var kept: String

        /// Creates a merge.
        public init(retired: String, kept: String) {
            self.retired = retired
            self.kept = kept
        }
    }

    /// An operator unlinked a record from `uid`; it now stands alone under `newUID`.
    public struct Unlink: Sendable, Hashable {
        /// The uid the record left.
        public var uid: String
        /// The uid it now has.
        public var newUID: String

        /// Creates an unlink.
        public init(uid: String, newUID: String) {
            self.uid = uid
            self.newUID = newUID
        }
    }

    /// The lsn of the event.
    public var lsn: Int64
    /// Merges the event caused.
    public var merges: [Merge] = []
    /// Splits the event caused.
    public var unlinks: [Unlink] = []
    /// The event that caused the changes.
    public var cause: DeltaCause
    /// Persons whose view changed, in the order the event touched them.
    public var persons: [PersonChange]
    /// Households whose view changed, ascending by number.
    public var households: [HouseholdChange]

    /// Creates an effect.
    public init(lsn: Int64, cause: DeltaCause, persons: [PersonChange] = [], households: [HouseholdChange] = []) {
        self.lsn = lsn
        self.cause = cause
        self.persons = persons
        self.households = households
    }

    /// Whether the event changed no view.
    public var isEmpty: Bool { persons.isEmpty && households.isEmpty }
}
