public import RenkeiCore

/// Renders daemon replies for people: aligned `key: value` lines and tables that stay aligned with
/// Japanese text (see ``TextWidth``).
public enum ReplyFormatter {
    /// Renders any reply: scalars as `key: value`, objects of objects (sources, subscriptions) and
    /// arrays of objects (reviews, dead letters) as tables, other nesting indented.
    public static func render(_ value: JSONValue) -> String {
        lines(value, indent: "").joined(separator: "\n")
    }

    static func lines(_ value: JSONValue, indent: String) -> [String] {
        switch value {
        case .object(let object):
            return objectLines(object, indent: indent)
        case .array(let items):
            if let table = table(items: items) { return table.map { indent + $0 } }
            return items.map { indent + "- " + scalarText($0) }
        default:
            return [indent + scalarText(value)]
        }
    }

    static func objectLines(_ object: JSONObject, indent: String) -> [String] {
        let width = object.keys.map(TextWidth.columns).max() ?? 0
        var out: [String] = []
        for member in object {
            let label = indent + TextWidth.padded(member.key + ":", to: width + 1)
            switch member.value {
            case .object(let inner) where inner.isEmpty:
                out.append(label + " {}")
            case .object(let inner) where inner.allSatisfy({ $0.value.objectValue != nil }):
                out.append(indent + member.key + ":")
                let rows = inner.map { ($0.key, $0.value.objectValue!) }
                out += table(rows: rows, nameHeader: "name").map { indent + "  " + $0 }
            case .object(let inner):
                out.append(indent + member.key + ":")
                out += objectLines(inner, indent: indent + "  ")
            case .array(let items) where !items.isEmpty && items.allSatisfy({ $0.objectValue != nil }):
                out.append(indent + member.key + ":")
                out += (table(items: items) ?? []).map { indent + "  " + $0 }
            default:
                out.append(label + " " + scalarText(member.value))
            }
        }
        return out
    }

    /// A table of an array of objects; columns are the union of keys in first-seen order.
    static func table(items: [JSONValue]) -> [String]? {
        let objects = items.compactMap(\.objectValue)
        guard !objects.isEmpty, objects.count == items.count else { return nil }
        return table(rows: objects.map { (nil as String?, $0) }, nameHeader: nil)
    }

    static func table(rows: [(String?, JSONObject)], nameHeader: String?) -> [String] {
        var columns: [String] = []
        for (_, object) in rows { for key in object.keys where !columns.contains(key) { columns.append(key) } }
        var header = columns
        var cells = rows.map { row in columns.map { row.1[$0].map(scalarText) ?? "" } }
        if let nameHeader {
            header.insert(nameHeader, at: 0)
            for index in cells.indices { cells[index].insert(rows[index].0 ?? "", at: 0) }
        }
        let widths = header.indices.map { column in
            ([header[column]] + cells.map { $0[column] }).map(TextWidth.columns).max() ?? 0
        }
        func line(_ values: [String]) -> String {
            var text = ""
            for (index, value) in values.enumerated() {
                let isLast = index == values.count - 1
                text += isLast ? value : TextWidth.padded(value, to: widths[index]) + "  "
            }
            return text
        }
        return [line(header.map { $0.uppercased() })] + cells.map(line)
    }

    /// A scalar as text: strings bare, `null` as `-`, nested values as compact JSON.
    static func scalarText(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .null: return "-"
        default: return value.serializedString
        }
    }
}
