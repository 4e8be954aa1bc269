import RenkeiSystem

/// The console's stylesheet and script, embedded: nothing is fetched from anywhere else (the LGWAN
/// has no internet), and the CSP allows nothing else.
enum ConsoleAssets {
    static func response(for path: String) -> HTTPResponse {
        switch path {
        case "/assets/console.css":
            return HTTPResponse(
                status: 200, headers: ["Content-Type": "text/css; charset=utf-8", "Cache-Control": "private, max-age=3600"],
                body: Array(css.utf8))
        case "/assets/console.js":
            return HTTPResponse(
                status: 200,
                headers: ["Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "private, max-age=3600"],
                body: Array(script.utf8))
        default:
            return HTTPResponse(status: 404, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array("not found".utf8))
        }
    }

    /// Contrast: body text #1b1b1b on white (16:1); links #0b57a4 (7:1); badges pair a colour with a word.
    /// Tables stay `display: table` (a block table loses its table semantics in some screen readers);
    /// `main` scrolls sideways instead when a wide table does not fit at 125 %.
    static let css = """
        :root{font-family:"BIZ UDPGothic","Noto Sans CJK JP","Hiragino Sans",Meiryo,sans-serif;font-size:100%;color:#1b1b1b;background:#fff;line-height:1.6}
        body{margin:0}
        .skip{position:absolute;left:-999rem}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:9}
        .top{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.5rem 1rem;background:#0b3d6e;color:#fff}
        .top a,.top .link{color:#fff}.brand{font-weight:bold;margin:0}
        nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
        .who{margin-left:auto;display:flex;gap:.5rem;align-items:center}.who form{margin:0}
        main{padding:1rem;max-width:75rem;overflow-x:auto}
        h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.5rem}
        a{color:#0b57a4}
        :focus-visible{outline:3px solid #f5a300;outline-offset:2px}
        button{font:inherit;padding:.4rem 1rem;border:2px solid #0b57a4;background:#0b57a4;color:#fff;border-radius:4px;cursor:pointer}
        button.secondary{background:#fff;color:#0b57a4}button.danger{background:#a4161a;border-color:#a4161a}
        button.link{background:none;border:none;text-decoration:underline;padding:0}
        input,select,textarea{font:inherit;padding:.3rem;border:2px solid #595959;border-radius:4px;max-width:100%}
        .stack{display:flex;flex-direction:column;gap:.3rem;max-width:40rem}.stack button{align-self:flex-start;margin-top:.5rem}
        .inline{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
        .actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.5rem}
        table{border-collapse:collapse;margin:.5rem 0}
        th,td{border:1px solid #8c8c8c;padding:.3rem .5rem;text-align:left;vertical-align:top}
        thead th{background:#eef2f6}
        .sr{position:absolute;left:-999rem}
        .notice{background:#e8f1fb;border-left:6px solid #0b57a4;padding:.5rem}
        .error{background:#fdecea;border-left:6px solid #a4161a;padding:.5rem}
        .hint{color:#4a4a4a;font-size:.9rem;margin:0}
        .badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-weight:bold;border:1px solid}
        .badge.agree{background:#e3f4e8;color:#14532d}.badge.near{background:#fff3d6;color:#6b4500}
        .badge.disagree{background:#fde2e1;color:#8a1010}.badge.missing,.badge.withheld{background:#eee;color:#333}
        tr.agree td:first-of-type{border-left:6px solid #2e7d32}tr.near td:first-of-type{border-left:6px solid #b26a00}
        tr.disagree td:first-of-type{border-left:6px solid #a4161a}
        .en{color:#4a4a4a;font-size:.85rem}
        .candidate{border-top:2px solid #ccc;margin-top:1rem}
        fieldset{border:1px solid #8c8c8c;padding:.5rem}
        """

    /// Keyboard shortcuts on a review page (1–9 pick, L link, N not the same, H defer); nothing else.
    static let script = """
        document.addEventListener('keydown', function (e) {
          var form = document.getElementById('decide');
          if (!form || e.ctrlKey || e.metaKey || e.altKey) return;
          var t = e.target.tagName;
          if (t === 'TEXTAREA' || t === 'INPUT' && e.target.type !== 'radio' || t === 'SELECT') return;
          var k = e.key.toLowerCase();
          if (k >= '1' && k <= '9') { var r = document.getElementById('pick' + k); if (r) { r.checked = true; r.focus(); e.preventDefault(); } }
          else if (k === 'l') { document.getElementById('do-link').click(); e.preventDefault(); }
          else if (k === 'n') { document.getElementById('do-reject').click(); e.preventDefault(); }
          else if (k === 'h') { document.getElementById('note').focus(); e.preventDefault(); }
        });
        """
}
