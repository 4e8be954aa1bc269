extension ControlCommand {
    /// The arguments of `shadow diff NAME FILE --mapping M` (issue 17).
    public struct ShadowDiffOptions: Sendable, Equatable {
        /// The subscription.
        public var name: String
        /// The legacy export.
        public var file: String
        /// Its mapping file (the format of mapped sources).
        public var mapping: String
        /// The source whose subjects key the file (default: the subscription's `linked_to`).
        public var source: String?
        /// `utf-8` (default), `cp932` or `euc-jp`.
        public var encoding: String
        /// `csv` (default) or `fixed`.
        public var format: String
        /// Entries per list of the report.
        public var limit: Int?

        /// Creates the options.
        public init(
            name: String, file: String, mapping: String, source: String? = nil, encoding: String = "utf-8",
            format: String = "csv", limit: Int? = nil
        ) {
            self.name = name
            self.file = file
            self.mapping = mapping
            self.source = source
            self.encoding = encoding
            self.format = format
            self.limit = limit
        }
    }
}

extension ControlInvocation {
    /// Parses `shadow diff NAME FILE --mapping M [--source S] [--encoding E] [--format F] [--limit N]`.
    static func parseShadow(_ rest: [String], _ options: [String: String]) -> Result<ControlCommand, ControlUsageError> {
        let usage = "shadow takes diff NAME FILE --mapping M [--source S] [--encoding E] [--format csv|fixed] [--limit N]; see `renkeictl shadow --help`"
        guard rest.count == 3, rest[0] == "diff" else { return .failure(ControlUsageError(usage)) }
        guard let mapping = options["--mapping"] else {
            return .failure(ControlUsageError("shadow diff needs --mapping M: the mapping file that reads the legacy export"))
        }
        let encoding = (options["--encoding"] ?? "utf-8").lowercased()
        guard ["utf-8", "utf8", "cp932", "euc-jp"].contains(encoding) else {
            return .failure(ControlUsageError("--encoding is utf-8, cp932 or euc-jp"))
        }
        let format = options["--format"] ?? "csv"
        guard format == "csv" || format == "fixed" else { return .failure(ControlUsageError("--format is csv or fixed")) }
        var limit: Int?
        if let text = options["--limit"] {
            guard let value = Int(text), (0...100_000).contains(value) else {
                return .failure(ControlUsageError("--limit is a number from 0 to 100000"))
            }
            limit = value
        }
        return .success(.shadowDiff(ControlCommand.ShadowDiffOptions(
            name: rest[1], file: rest[2], mapping: mapping, source: options["--source"], encoding: encoding, format: format,
            limit: limit)))
    }
}
