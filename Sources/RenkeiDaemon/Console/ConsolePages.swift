import RenkeiCore
import RenkeiSystem

/// HTML escaping for the console's pages: every value from the data goes through ``escape(_:)``.
enum HTML {
    /// Escapes `& < > " '`.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A JSON value as display text (strings as they are, numbers, 真偽, empty for null).
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s)?: return s
        case .integer(let i)?: return String(i)
        case .double(let d)?: return String(d)
        case .bool(let b)?: return b ? "はい" : "いいえ"
        case nil, .null?: return ""
        default: return value.map { String(decoding: $0.serializedBytes, as: UTF8.self) } ?? ""
        }
    }

    /// Percent-encodes a query value.
    static func query(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }
}

/// The console's pages, rendered on the server: Japanese first, labelled controls, a skip link,
/// headings in order, visible focus, text beside every colour (WCAG 2.1 AA basics).
enum ConsolePages {
    static let product = "Renkei 統合宛名コンソール"

    static func html(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(body.utf8))
    }

    /// A short page without navigation (errors before sign-in).
    static func plain(_ status: Int, _ message: String) -> HTTPResponse {
        html(status, document(title: "お知らせ", header: "", main: "<h1>お知らせ</h1><p role=\"alert\">\(HTML.escape(message))</p><p><a href=\"/login\">ログイン画面へ</a></p>"))
    }

    /// `303 See Other` to `location` (this site's own paths only).
    static func redirect(_ location: String, clearCookie: Bool = false) -> HTTPResponse {
        var response = HTTPResponse(status: 303, headers: ["Location": location])
        if clearCookie { response.headers.add(name: "Set-Cookie", value: ConsoleServer.clearedCookie) }
        return response
    }

    static func document(title: String, header: String, main: String) -> String {
        """
        <!doctype html>
        <html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title)) — \(product)</title>
        <link rel="stylesheet" href="/assets/console.css"><script src="/assets/console.js" defer></script></head>
        <body><a class="skip" href="#main">本文へ移動</a>\(header)<main id="main" tabindex="-1">\(main)</main></body></html>
        """
    }

    /// A page with the navigation and the staff member's name.
    static func page(staff: ConsoleServer.Staff, title: String, status: Int = 200, _ body: () -> String) -> HTTPResponse {
        let header = """
            <header class="top"><p class="brand">\(product)</p>
            <nav aria-label="メインメニュー"><ul>
            <li><a href="/reviews">確認待ち一覧</a></li><li><a href="/search">住民検索</a></li>
            <li><a href="/status">運用状況</a></li><li><a href="/access-log">アクセス記録</a></li></ul></nav>
            <div class="who"><span>\(HTML.escape(staff.name))（役割: \(staff.role.label)）</span>
            <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(staff.session.csrf)">
            <button type="submit" class="link">ログアウト</button></form></div></header>
            """
        return html(status, document(title: title, header: header, main: "<h1>\(HTML.escape(title))</h1>" + body()))
    }

    static func login(csrf: String, error: String?, notice: String?) -> HTTPResponse {
        var main = "<h1>ログイン</h1>"
        if let notice { main += "<p class=\"notice\" role=\"status\">\(HTML.escape(notice))</p>" }
        if let error { main += "<p class=\"error\" role=\"alert\" id=\"login-error\">\(HTML.escape(error))</p>" }
        main += """
            <form method="post" action="/login" class="stack"\(error == nil ? "" : " aria-describedby=\"login-error\"")>
            <input type="hidden" name="csrf" value="\(csrf)">
            <label for="name">職員アカウント名</label>
            <input id="name" name="name" autocomplete="username" required autofocus>
            <label for="password">パスワード</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">ログイン</button></form>
            <p class="hint">アカウントは管理者が <code>renkeictl console user add</code> で作成します。</p>
            """
        return html(error == nil ? 200 : 401, document(title: "ログイン", header: "<header class=\"top\"><p class=\"brand\">\(product)</p></header>", main: main))
    }

    static func password(staff: ConsoleServer.Staff, error: String?) -> HTTPResponse {
        page(staff: staff, title: "パスワードの変更", status: error == nil ? 200 : 400) {
            var body = ""
            if staff.session.mustChange {
                body += "<p class=\"notice\" role=\"status\">初回のパスワード（一時パスワード）を、自分だけが知るパスワードに変更してください。</p>"
            }
            if let error { body += "<p class=\"error\" role=\"alert\">\(HTML.escape(error))</p>" }
            return body + """
                <form method="post" action="/password" class="stack">
                <input type="hidden" name="csrf" value="\(staff.session.csrf)">
                <label for="current_password">現在のパスワード</label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password" required>
                <label for="new_password">新しいパスワード（12文字以上）</label>
                <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="12" required>
                <label for="confirm_password">新しいパスワード（確認）</label>
                <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="12" required>
                <button type="submit">変更する</button></form>
                """
        }
    }
}
