import RenkeiCore
import RenkeiSystem

// MARK: - Search and person

extension ConsolePages {
    static func search(
        staff: ConsoleServer.Staff, q: String, birthDate: String, hits: ([PersonSearch.Hit], String?)?, error: String?
    ) -> HTTPResponse {
        page(staff: staff, title: "住民検索", status: error == nil ? 200 : 400) {
            var body = """
                <form method="get" action="/search" class="stack" role="search">
                <label for="q">氏名・フリガナ・住所・宛名番号・連携元の番号</label>
                <input id="q" name="q" value="\(HTML.escape(q))" aria-describedby="q-hint">
                <p class="hint" id="q-hint">ひらがな・半角カナ・旧字体（髙・﨑など）のままでも探せます。</p>
                <label for="birth_date">生年月日</label>
                <input id="birth_date" name="birth_date" value="\(HTML.escape(birthDate))" aria-describedby="bd-hint">
                <p class="hint" id="bd-hint">例: 1985-06-12、S60.6.12、昭和60年6月12日</p>
                <button type="submit">検索する</button></form>
                """
            if let error { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(error))</p>" }
            guard let (found, date) = hits else { return body }
            body += "<h2>検索結果</h2><p role=\"status\">\(found.count)件"
                + (date.map { "（生年月日 \(HTML.escape($0))）" } ?? "") + "</p>"
            guard !found.isEmpty else { return body + "<p>該当する人は見つかりませんでした。</p>" }
            body += """
                <table class="list"><caption class="sr">検索結果</caption><thead><tr><th scope="col">統合宛名番号</th>
                <th scope="col">氏名</th><th scope="col">フリガナ</th><th scope="col">生年月日</th><th scope="col">一致度</th>
                </tr></thead><tbody>
                """
            for hit in found {
                body += """
                    <tr><td><a href="/persons/\(HTML.escape(hit.uid))">\(HTML.escape(hit.uid))</a></td>
                    <td>\(HTML.escape(hit.name ?? ""))</td><td>\(HTML.escape(hit.nameKana ?? ""))</td>
                    <td>\(HTML.escape(hit.birthDate ?? ""))</td><td>\(score(hit.score))</td></tr>
                    """
            }
            return body + "</tbody></table>"
        }
    }

    static let personLabels: [(String, String)] = [
        ("uid", "統合宛名番号"), ("status", "状態"), ("name", "氏名"), ("name_kana", "フリガナ"), ("birth_date", "生年月日"),
        ("sex", "性別"), ("address", "住所"), ("postal_code", "郵便番号"), ("household_no", "世帯番号"),
        ("relationship", "続柄"), ("my_number_on_file", "個人番号の登録"), ("version", "版"),
    ]

    static let statusLabels = ["active": "住民", "moved_out": "転出", "deceased": "死亡", "unregistered": "住登外・未登録"]
    static let methodLabels = ["key": "宛名番号で連携", "match": "照合で連携", "operator": "職員の判定で連携"]

    static func person(
        staff: ConsoleServer.Staff, reply: JSONObject, revealed: Bool, history: [JSONValue], disclosures: [JSONValue]
    ) -> HTTPResponse {
        let uid = HTML.text(reply["uid"])
        return page(staff: staff, title: "\(HTML.text(reply["name"]))（\(uid)）") {
            var body = ""
            let isProtected = reply["protected"]?.boolValue == true
            if isProtected {
                body += revealed
                    ? "<p class=\"error\" role=\"alert\">支援措置の対象者です。住所を表示しています。この表示は理由とともに記録されています。第三者に伝えないでください。</p>"
                    : "<p class=\"notice\" role=\"status\">支援措置（DV・ストーカー等）の対象者です。住所・郵便番号・世帯番号は表示していません。</p>"
            }
            body += "<h2>基本情報</h2><table class=\"facts\"><tbody>"
            for (key, label) in personLabels where reply[key] != nil || (isProtected && !revealed && ["address", "postal_code", "household_no"].contains(key)) {
                var text = HTML.text(reply[key])
                if key == "status" { text = statusLabels[text] ?? text }
                if key == "sex" { text = ["male": "男", "female": "女", "unknown": "不明"][text] ?? text }
                if isProtected && !revealed && ["address", "postal_code", "household_no"].contains(key) { text = "（支援措置のため非表示）" }
                body += "<tr><th scope=\"row\">\(label)</th><td>\(HTML.escape(text))</td></tr>"
            }
            body += "<tr><th scope=\"row\">支援措置</th><td>\(isProtected ? "対象" : "対象外")</td></tr></tbody></table>"
            if isProtected && !revealed {
                if staff.role.mayReveal {
                    body += """
                        <form method="post" action="/persons/\(HTML.escape(uid))/reveal" class="stack reveal">
                        <input type="hidden" name="csrf" value="\(staff.session.csrf)">
                        <label for="reason">住所を表示する理由（必須。記録されます）</label>
                        <input id="reason" name="reason" required minlength="4" maxlength="500">
                        <button type="submit" class="danger">理由を記録して住所を表示する</button></form>
                        """
                } else {
                    body += "<p class=\"hint\">住所の表示は管理の役割の職員だけができます。</p>"
                }
            }
            body += "<h2>連携している記録</h2>"
            let links = reply["links"]?.arrayValue ?? []
            if links.isEmpty {
                body += "<p>ありません。</p>"
            } else {
                body += "<table class=\"list\"><thead><tr><th scope=\"col\">連携元</th><th scope=\"col\">記録番号</th>"
                    + "<th scope=\"col\">方法</th><th scope=\"col\">スコア</th></tr></thead><tbody>"
                for link in links {
                    let object = link.objectValue ?? [:]
                    let method = HTML.text(object["method"])
                    body += "<tr><td>\(HTML.escape(HTML.text(object["source"])))</td><td>\(HTML.escape(HTML.text(object["subject"])))</td>"
                        + "<td>\(HTML.escape(methodLabels[method] ?? method))</td>"
                        + "<td>\(object["score"].flatMap { if case .double(let d) = $0 { return score(d) } else { return nil } } ?? "")</td></tr>"
                }
                body += "</tbody></table>"
            }
            body += "<h2>履歴（届いた経路つき）</h2>"
            if history.isEmpty {
                body += "<p>ありません。</p>"
            } else {
                body += "<table class=\"list\"><thead><tr><th scope=\"col\">番号</th><th scope=\"col\">記録日時</th>"
                    + "<th scope=\"col\">連携元</th><th scope=\"col\">種類</th><th scope=\"col\">経路</th></tr></thead><tbody>"
                for event in history {
                    let object = event.objectValue ?? [:]
                    let provenance = object["provenance"]?.objectValue ?? [:]
                    let via = HTML.text(provenance["via"])
                    let detail = [provenance["file"], provenance["peer"], provenance["url"], provenance["staff"]]
                        .compactMap { $0.map(HTML.text) }.filter { !$0.isEmpty }
                        + (provenance["uid"].map { ["uid \(HTML.text($0))"] } ?? [])
                    body += "<tr><td>\(HTML.escape(HTML.text(object["lsn"])))</td><td>\(HTML.escape(HTML.text(object["recorded_at"])))</td>"
                        + "<td>\(HTML.escape(HTML.text(object["source"])))</td><td>\(HTML.escape(HTML.text(object["type"])))</td>"
                        + "<td>\(HTML.escape(via))\(detail.isEmpty ? "" : "（" + HTML.escape(detail.joined(separator: "、")) + "）")</td></tr>"
                }
                body += "</tbody></table>"
            }
            body += "<h2>提供の記録（誰に何を送ったか）</h2>"
            if disclosures.isEmpty {
                body += "<p>ありません。</p>"
            } else {
                body += "<table class=\"list\"><thead><tr><th scope=\"col\">日時</th><th scope=\"col\">提供先</th>"
                    + "<th scope=\"col\">項目</th><th scope=\"col\">法的根拠</th></tr></thead><tbody>"
                for entry in disclosures {
                    let object = entry.objectValue ?? [:]
                    let fields = (object["fields"]?.arrayValue ?? []).map(HTML.text).joined(separator: "、")
                    body += "<tr><td>\(HTML.escape(HTML.text(object["time"])))</td><td>\(HTML.escape(HTML.text(object["subscription"])))</td>"
                        + "<td>\(HTML.escape(fields))</td><td>\(HTML.escape(HTML.text(object["legal_basis"])))</td></tr>"
                }
                body += "</tbody></table>"
            }
            return body
        }
    }
}
