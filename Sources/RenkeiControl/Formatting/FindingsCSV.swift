public import RenkeiCore
import Foundation
import RenkeiSystem

/// The reconciliation findings as a CSV file for Excel (issue 17): CP932, CRLF line ends, RFC 4180
/// quoting, one finding a row.
///
/// Columns: 突合 (check), 所見ID (id), 統合ID (uid), 状態 (state), 発生日時 (since), 氏名, 氏名カナ,
/// 生年月日, 住民記録 (registry status), 住所 (empty for a protected person), 内容 (the check's own
/// facts as `key=value; …`), 確認メモ (the official's note, when explained), 変換不能文字 (each
/// character CP932 cannot hold, written as 〓 in its cell: `column: 𠮷 (U+20BB7)`; empty when none).
public enum FindingsCSV {
    /// The header row's cells.
    public static let header = [
        "突合", "所見ID", "統合ID", "状態", "発生日時", "氏名", "氏名カナ", "生年月日", "住民記録", "住所", "内容", "確認メモ",
        "変換不能文字",
    ]

    /// The person facts that have their own column.
    static let personKeys: Set<String> = ["name", "name_kana", "birth_date", "status", "address"]

    /// The CSV bytes (CP932) of `findings`, each the JSON form a `GET /v1/reconciliation/{check}` lists,
    /// with `check` the check's name.
    public static func encode(_ findings: [(check: String, finding: JSONObject)]) -> [UInt8] {
        var bytes = row(header.map { ($0, $0) }).bytes
        for (check, finding) in findings {
            let facts = finding["facts"]?.objectValue ?? JSONObject()
            let rest = facts.filter { !personKeys.contains($0.key) }.map { member in
                "\(member.key)=\(text(member.value))"
            }.joined(separator: "; ")
            let cells: [(String, String)] = [
                ("突合", check), ("所見ID", text(finding["id"])), ("統合ID", text(finding["uid"])),
                ("状態", text(finding["state"])), ("発生日時", text(finding["since"])), ("氏名", text(facts["name"])),
                ("氏名カナ", text(facts["name_kana"])), ("生年月日", text(facts["birth_date"])),
                ("住民記録", text(facts["status"])), ("住所", text(facts["address"])), ("内容", rest),
                ("確認メモ", text(finding["explanation"]?["note"])),
            ]
            bytes += row(cells).bytes
        }
        return bytes
    }

    /// One row: each cell quoted as needed and encoded; the last cell lists what could not be.
    static func row(_ cells: [(column: String, value: String)]) -> (bytes: [UInt8], replaced: Int) {
        var out: [UInt8] = []
        var notes: [String] = []
        let encoder = CP932Encoder()
        for (index, cell) in cells.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let marked = encoder.encodeMarking(quoted(cell.value))
            out += marked.bytes
            notes += marked.replaced.map { "\(cell.column): \($0.character) (\($0.codePoints))" }
        }
        // The header row already has its 変換不能文字 cell.
        if cells.count < header.count {
            out.append(UInt8(ascii: ","))
            // The note names the character; the cell itself shows 〓 in place of it.
            out += encoder.encodeMarking(quoted(notes.joined(separator: "; "))).bytes
        }
        out += [0x0D, 0x0A]
        return (out, notes.count)
    }

    /// RFC 4180: a cell holding a comma, quote, CR or LF is quoted, quotes doubled.
    static func quoted(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A JSON value as cell text: strings as they are, null as empty, others in JSON.
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case let other?: return other.serializedString
        }
    }
}
