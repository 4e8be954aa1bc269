// MARK: - Person view (contract §3)
//
// Shape decisions, so every view has the same keys in the same order:
// - identity fields (`name` … `my_number`) are always present, `null` when no source gives them;
// - `tax`, `childcare`, `library` are `null` when no such record is linked; inside `childcare`
//   unknown values are `null`;
// - `links` and `guardian_of` are arrays, empty when there are none;
// - `household_no` keeps the last registered household after `moved_out`/`deceased` (the person
//   is no longer counted as a member of it).

extension PersonRecord {
    /// The identity fields every source may give; the registry's value wins, others fill gaps.
    public static let identityFields = ["name", "name_kana", "birth_date", "sex", "address", "postal_code"]
    /// Fields only the resident registry gives.
    public static let residentOnlyFields = ["household_no", "relationship", "my_number"]
    /// The fields withheld while a person is protected (支援措置).
    public static let protectedFields = ["address", "postal_code", "household_no"]
    /// Every key of a person view, in order.
    public static let viewFields = [
        "uid", "municipality", "status", "protected", "name", "name_kana", "birth_date", "sex", "address", "postal_code",
        "household_no", "relationship", "my_number", "links", "tax", "childcare", "library", "guardian_of",
        "version", "lsn",
    ]

    /// The full internal person view, `my_number` included: what subscriptions are planned from.
    public var view: JSONObject {
        var object = viewWithoutVersion
        object.appendUnique("version", .integer(version))
        object.appendUnique("lsn", .integer(lsn))
        return object
    }

    /// The view without `version` and `lsn`, built from ``PersonViewParts``.
    var viewWithoutVersion: JSONObject { PersonViewParts(self).json }
}
