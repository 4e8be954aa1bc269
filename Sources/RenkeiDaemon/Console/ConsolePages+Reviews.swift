import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

// MARK: - Review queue and one review

extension ConsolePages {
    /// The fields compared side by side, with their Japanese labels.
    static let comparedFields: [(key: String, label: String)] = [
        ("name", "氏名"), ("name_kana", "フリガナ"), ("birth_date", "生年月日"), ("sex", "性別"), ("address", "住所"),
    ]

    /// A reason's agreement level: a class for the colour and the words that say the same (never colour alone).
    static func level(_ text: String) -> (css: String, label: String) {
        if text.hasPrefix("一致") { return ("agree", "一致") }
        if text.contains("不一致") { return ("disagree", "不一致") }
        if text.hasPrefix("記載なし") { return ("missing", "記載なし") }
        if text.contains("非表示") { return ("withheld", "非表示") }
        return ("near", "近い")
    }

    /// `name: 異体字 髙/高 (variant kanji)` → field `name`, Japanese `異体字 髙/高`, English `variant kanji`.
    static func splitReason(_ reason: String) -> (field: String, ja: String, en: String) {
        guard let colon = reason.range(of: ": ") else { return ("", reason, "") }
        let field = String(reason[..<colon.lowerBound])
        var text = String(reason[colon.upperBound...])
        var en = ""
        if text.hasSuffix(")"), let open = text.range(of: " (", options: .backwards) {
            en = String(text[open.upperBound..<text.index(before: text.endIndex)])
            text = String(text[..<open.lowerBound])
        }
        return (field, text, en)
    }

    static func value(_ view: JSONObject?, _ key: String) -> String {
        guard let view else { return "" }
        if key == "address", view["protected"]?.boolValue == true { return "（支援措置のため非表示）" }
        let text = HTML.text(view[key])
        if key == "sex" { return ["male": "男", "female": "女", "unknown": "不明"][text] ?? text }
        return text
    }

    static func reviewQueue(
        staff: ConsoleServer.Staff, items: [ReviewItem], sources: [String], source: String?,
        deferrals: [String: AccessLogEntry], message: String?
    ) -> HTTPResponse {
        page(staff: staff, title: "確認待ち一覧") {
            var body = message.map { "<p class=\"notice\" role=\"status\">\(HTML.escape($0))</p>" } ?? ""
            body += """
                <form method="get" action="/reviews" class="inline"><label for="source">連携元で絞り込み</label>
                <select id="source" name="source"><option value="">すべて</option>
                """
            for name in sources {
                body += "<option value=\"\(HTML.escape(name))\"\(name == source ? " selected" : "")>\(HTML.escape(name))</option>"
            }
            body += "</select><button type=\"submit\">絞り込む</button></form>"
            body += "<p>\(items.count)件（古い順）。番号を選ぶと、記録と候補を項目ごとに比べて判定できます。</p>"
            guard !items.isEmpty else { return body + "<p>確認待ちはありません。</p>" }
            body += """
                <table class="list"><caption class="sr">確認待ちの記録</caption><thead><tr><th scope="col">番号</th>
                <th scope="col">連携元</th><th scope="col">記録番号</th><th scope="col">候補数</th>
                <th scope="col">最高スコア</th><th scope="col">状態</th></tr></thead><tbody>
                """
            for item in items {
                let best = item.candidates.map(\.score).max() ?? 0
                let state = deferrals[item.id].map { "保留（\(HTML.escape($0.staff ?? "?"))）" } ?? "未判定"
                body += """
                    <tr><td><a href="/reviews/\(HTML.escape(item.id))" class="review-link">\(HTML.escape(item.id))</a></td>
                    <td>\(HTML.escape(item.source))</td><td>\(HTML.escape(item.subject))</td><td>\(item.candidates.count)</td>
                    <td>\(score(best))</td><td>\(state)</td></tr>
                    """
            }
            return body + "</tbody></table>"
        }
    }

    static func score(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        let fraction = String(scaled % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    static func review(
        staff: ConsoleServer.Staff, item: ReviewItem, record: JSONObject?, candidates: [JSONObject?],
        history: [AccessLogEntry], message: String?
    ) -> HTTPResponse {
        page(staff: staff, title: "確認 \(item.id)", status: 200) {
            var body = message.map { "<p class=\"error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
            body += "<p>連携元 <strong>\(HTML.escape(item.source))</strong> の記録 <strong>\(HTML.escape(item.subject))</strong> は、"
                + "次の候補と同じ人かもしれません。項目ごとに比べて判定してください。</p>"
            body += "<p class=\"hint\">キーボード: 1〜\(min(9, item.candidates.count)) 候補を選ぶ、L 連携する、N 別人、H 保留（メモ欄へ）</p>"
            for (index, candidate) in item.candidates.enumerated() {
                let view = index < candidates.count ? candidates[index] : nil
                var reasons: [String: (ja: String, en: String)] = [:]
                var notes: [(ja: String, en: String)] = []
                for reason in candidate.reasons {
                    let part = splitReason(reason)
                    if comparedFields.contains(where: { $0.key == part.field }) {
                        reasons[part.field] = (part.ja, part.en)
                    } else {
                        notes.append((part.ja, part.en))
                    }
                }
                body += """
                    <section class="candidate" aria-labelledby="c\(index)"><h2 id="c\(index)">候補\(index + 1):
                    <a href="/persons/\(HTML.escape(candidate.uid))">\(HTML.escape(candidate.uid))</a>（スコア \(score(candidate.score))）</h2>
                    <table class="compare"><caption class="sr">記録と候補\(index + 1)の比較</caption><thead><tr>
                    <th scope="col">項目</th><th scope="col">記録（\(HTML.escape(item.source))）</th><th scope="col">候補</th>
                    <th scope="col">判定</th><th scope="col">理由</th></tr></thead><tbody>
                    """
                for field in comparedFields {
                    let reason = reasons[field.key]
                    let agreement = reason.map { Self.level($0.ja) } ?? (css: "missing", label: "—")
                    let protected = field.key == "address"
                        && (record?["protected"]?.boolValue == true || view?["protected"]?.boolValue == true)
                    let left = protected ? "（支援措置のため非表示）" : value(record, field.key)
                    let right = protected ? "（支援措置のため非表示）" : value(view, field.key)
                    var why = HTML.escape(reason?.ja ?? "")
                    if let english = reason?.en, !english.isEmpty {
                        why += " <span class=\"en\" lang=\"en\">(" + HTML.escape(english) + ")</span>"
                    }
                    let css: String = agreement.css
                    let label: String = agreement.label
                    body += "<tr class=\"" + css + "\"><th scope=\"row\">" + field.label + "</th><td>" + HTML.escape(left)
                        + "</td><td>" + HTML.escape(right) + "</td><td><span class=\"badge " + css + "\">" + label
                        + "</span></td><td>" + why + "</td></tr>"
                }
                body += "</tbody></table>"
                if !notes.isEmpty {
                    body += "<ul class=\"notes\">" + notes.map {
                        "<li>\(HTML.escape($0.ja))\($0.en.isEmpty ? "" : " <span class=\"en\" lang=\"en\">(\(HTML.escape($0.en)))</span>")</li>"
                    }.joined() + "</ul>"
                }
                body += "</section>"
            }
            if !history.isEmpty {
                body += "<h2>これまでの記録</h2><ul>" + history.reversed().map { entry in
                    "<li>\(HTML.escape(entry.at)) \(HTML.escape(entry.staff ?? "uid \(entry.callerUID.map(String.init) ?? "?")")): "
                        + "\(HTML.escape(actionLabel(entry)))\(entry.note.map { " — " + HTML.escape($0) } ?? "")</li>"
                }.joined() + "</ul>"
            }
            guard staff.role.mayDecide else {
                return body + "<p class=\"notice\">閲覧の役割では判定できません。判定は審査・管理の役割の職員が行います。</p>"
            }
            body += """
                <h2>判定</h2><form method="post" action="/reviews/\(HTML.escape(item.id))/decide" class="stack" id="decide">
                <input type="hidden" name="csrf" value="\(staff.session.csrf)">
                <fieldset><legend>連携する候補</legend>
                """
            for (index, candidate) in item.candidates.enumerated() {
                body += """
                    <div><input type="radio" name="uid" id="pick\(index + 1)" value="\(HTML.escape(candidate.uid))"\(index == 0 ? " checked" : "")>
                    <label for="pick\(index + 1)">候補\(index + 1): \(HTML.escape(candidate.uid))（スコア \(score(candidate.score))）</label></div>
                    """
            }
            body += """
                </fieldset><label for="note">メモ（保留のときは必須。アクセス記録に残ります）</label>
                <textarea id="note" name="note" rows="3" maxlength="1000"></textarea>
                <div class="actions"><button type="submit" name="action" value="link" id="do-link">同じ人として連携する (L)</button>
                <button type="submit" name="action" value="reject" id="do-reject" class="secondary">別人とする (N)</button>
                <button type="submit" name="action" value="defer" id="do-defer" class="secondary">保留する (H)</button></div></form>
                """
            return body
        }
    }

    static func actionLabel(_ entry: AccessLogEntry) -> String {
        if entry.target.hasSuffix("/link") { return "連携" }
        if entry.target.hasSuffix("/reject") { return "別人" }
        if entry.target.hasSuffix("/defer") { return "保留" }
        return entry.target
    }

    /// A review no longer open: decided already (by whom, when), never applied twice.
    static func reviewGone(staff: ConsoleServer.Staff, id: String, decided: AccessLogEntry?) -> HTTPResponse {
        page(staff: staff, title: "確認 \(id)", status: 409) {
            var body = "<p role=\"alert\" class=\"notice\">この確認は既に処理済みです。同じ判定が二重に適用されることはありません。</p>"
            if let decided {
                let who = decided.staff ?? "端末の操作者（uid \(decided.callerUID.map(String.init) ?? "?")）"
                body += "<p>\(HTML.escape(decided.at)) に \(HTML.escape(who)) が「\(HTML.escape(actionLabel(decided)))」と判定しました。</p>"
            }
            return body + "<p><a href=\"/reviews\">確認待ち一覧へ戻る</a></p>"
        }
    }
}
