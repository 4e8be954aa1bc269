import RenkeiCore
import RenkeiStore
import RenkeiSystem

// MARK: - Operations pages

extension ConsolePages {
    static func status(staff: ConsoleServer.Staff, status: JSONValue, deadLetters: [JSONValue], message: String?) -> HTTPResponse {
        page(staff: staff, title: "運用状況", status: message == nil ? 200 : 409) {
            var body = message.map { "<p class=\"error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
            body += "<p>ログの先頭 \(HTML.escape(HTML.text(status["head_lsn"])))、表示の反映 \(HTML.escape(HTML.text(status["projection_lsn"])))"
                + "（\(HTML.escape(HTML.text(status["projection_state"])))）、稼働 \(HTML.escape(HTML.text(status["uptime_s"])))秒</p>"
            body += "<h2>連携元</h2><table class=\"list\"><thead><tr><th scope=\"col\">連携元</th><th scope=\"col\">受付</th>"
                + "<th scope=\"col\">重複</th><th scope=\"col\">拒否</th><th scope=\"col\">最終受付</th><th scope=\"col\">遅れ（秒）</th>"
                + "<th scope=\"col\">最後のエラー</th></tr></thead><tbody>"
            for member in status["sources"]?.objectValue ?? [:] {
                let s = member.value
                body += "<tr><th scope=\"row\">\(HTML.escape(member.key))</th>"
                    + ["events", "duplicates", "rejected", "last_event_at", "lag_s", "last_error"].map {
                        "<td>\(HTML.escape(HTML.text(s[$0])))</td>"
                    }.joined() + "</tr>"
            }
            body += "</tbody></table>"
            let subscriptions = status["subscriptions"]?.objectValue ?? [:]
            body += "<h2>提供先</h2>"
            if subscriptions.isEmpty {
                body += "<p>提供先は設定されていません。</p>"
            } else {
                body += "<table class=\"list\"><thead><tr><th scope=\"col\">提供先</th><th scope=\"col\">状態</th><th scope=\"col\">未配信</th>"
                    + "<th scope=\"col\">送信中</th><th scope=\"col\">配信不能</th><th scope=\"col\">配信済み</th>"
                    + "<th scope=\"col\">最古の未配信（秒）</th><th scope=\"col\">最後のエラー</th>"
                    + (staff.role == .admin ? "<th scope=\"col\">操作</th>" : "") + "</tr></thead><tbody>"
                for member in subscriptions {
                    let s = member.value
                    let running = s["state"]?.stringValue != "paused"
                    body += "<tr><th scope=\"row\">\(HTML.escape(member.key))</th><td>\(running ? "稼働中" : "一時停止")</td>"
                        + ["backlog", "in_flight", "dead_letters", "delivered", "oldest_undelivered_s", "last_error"].map {
                            "<td>\(HTML.escape(HTML.text(s[$0])))</td>"
                        }.joined()
                    if staff.role == .admin {
                        body += "<td>" + button("/subscriptions/\(HTML.escape(member.key))/\(running ? "pause" : "resume")",
                                                running ? "一時停止" : "再開", staff) + "</td>"
                    }
                    body += "</tr>"
                }
                body += "</tbody></table>"
            }
            body += "<h2>配信不能（デッドレター）</h2>"
            if deadLetters.isEmpty { return body + "<p>ありません。</p>" }
            body += "<table class=\"list\"><thead><tr><th scope=\"col\">番号</th><th scope=\"col\">提供先</th><th scope=\"col\">差分</th>"
                + "<th scope=\"col\">状態コード</th><th scope=\"col\">エラー</th><th scope=\"col\">試行</th>"
                + (staff.role == .admin ? "<th scope=\"col\">操作</th>" : "") + "</tr></thead><tbody>"
            for letter in deadLetters {
                let id = HTML.escape(HTML.text(letter["id"]))
                body += "<tr><td>\(id)</td>" + ["subscription", "delta_id", "status", "error", "attempts"].map {
                    "<td>\(HTML.escape(HTML.text(letter[$0])))</td>"
                }.joined()
                if staff.role == .admin {
                    body += "<td>" + button("/dead-letters/\(id)/retry", "再送", staff) + button("/dead-letters/\(id)/skip", "スキップ", staff) + "</td>"
                }
                body += "</tr>"
            }
            return body + "</tbody></table>"
        }
    }

    /// A one-button form with the session's CSRF token.
    static func button(_ action: String, _ label: String, _ staff: ConsoleServer.Staff) -> String {
        "<form method=\"post\" action=\"\(action)\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"\(staff.session.csrf)\">"
            + "<button type=\"submit\" class=\"secondary\">\(label)</button></form>"
    }

    static func accessLog(staff: ConsoleServer.Staff, records: [AccessLog.Record], who: String?, uid: String?) -> HTTPResponse {
        page(staff: staff, title: "アクセス記録") {
            var body = """
                <form method="get" action="/access-log" class="inline">
                <label for="staff">職員</label><input id="staff" name="staff" value="\(HTML.escape(who ?? ""))">
                <label for="uid">統合宛名番号</label><input id="uid" name="uid" value="\(HTML.escape(uid ?? ""))">
                <button type="submit">絞り込む</button></form>
                <p>新しい順に最大500件。コンソールの操作は職員名で、状態ソケットの操作は端末利用者の uid で記録されます。</p>
                """
            guard !records.isEmpty else { return body + "<p>該当する記録はありません。</p>" }
            body += "<table class=\"list\"><thead><tr><th scope=\"col\">日時</th><th scope=\"col\">職員／uid</th><th scope=\"col\">操作</th>"
                + "<th scope=\"col\">対象</th><th scope=\"col\">結果</th><th scope=\"col\">区分</th><th scope=\"col\">統合宛名番号</th>"
                + "<th scope=\"col\">メモ・理由</th></tr></thead><tbody>"
            for record in records {
                let e = record.entry
                let who = e.staff ?? e.callerUID.map { "uid \($0)" } ?? ""
                body += "<tr><td>\(HTML.escape(e.at))</td><td>\(HTML.escape(who))</td><td>\(HTML.escape(e.method))</td>"
                    + "<td>\(HTML.escape(e.target))</td><td>\(e.status)</td><td>\(HTML.escape(e.action ?? ""))</td>"
                    + "<td>\(HTML.escape(e.uid ?? ""))</td><td>\(HTML.escape(e.note ?? ""))</td></tr>"
            }
            return body + "</tbody></table>"
        }
    }
}
