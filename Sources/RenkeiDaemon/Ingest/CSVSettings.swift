import RenkeiCore
import RenkeiSystem

/// A source's `csv` settings (contract §5): `encoding` (`utf-8` or `cp932`) and `columns`, a rename map
/// from the vendor's header names to envelope and `data` keys.
struct CSVSettings: Sendable {
    var encoding: TextDecoder.Encoding = .utf8
    var columns: [String: String] = [:]

    /// UTF-8, no renames.
    static let `default` = CSVSettings()

    private init() {}

    /// Reads `sources.<name>.csv`.
    /// - Throws: ``RenkeiError`` (`invalidConfiguration`) naming the key and what to write.
    init(_ object: JSONObject?, source: String) throws(RenkeiError) {
        guard let object else { return }
        for member in object where !["encoding", "columns"].contains(member.key) {
            throw RenkeiError(.invalidConfiguration, "sources.\(source).csv.\(member.key): unknown key (csv takes encoding and columns)")
        }
        if let value = object["encoding"] {
            guard let name = value.stringValue, let encoding = TextDecoder.Encoding(configured: name) else {
                throw RenkeiError(.invalidConfiguration, "sources.\(source).csv.encoding: must be \"utf-8\" or \"cp932\"")
            }
            self.encoding = encoding
        }
        if let value = object["columns"] {
            guard let map = value.objectValue else {
                throw RenkeiError(.invalidConfiguration, "sources.\(source).csv.columns: must be an object {\"vendor column\": \"key\"}")
            }
            for member in map {
                guard let target = member.value.stringValue, !target.isEmpty else {
                    throw RenkeiError(.invalidConfiguration, "sources.\(source).csv.columns.\(member.key): must be a non-empty key name such as \"subject\" or \"child.name\"")
                }
                columns[member.key] = target
            }
        }
    }
}
