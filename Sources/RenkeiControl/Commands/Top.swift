import Foundation
import Glibc
import RenkeiCore
import RenkeiSystem

/// `renkeictl top`: `GET /v1/status` every second, shown as a live view of ingest lag and throughput
/// and delivery backlog. On a terminal the screen is redrawn in place and `q` or Ctrl-C quits (the
/// terminal is put in non-canonical mode without signals, so Ctrl-C arrives as a byte and the terminal
/// is always restored); otherwise a plain block is printed each second.
struct Top {
    let runner: Runner
    /// Stop after this many refreshes (`--count`); forever when `nil`.
    let count: Int?

    func run() throws(SystemError) -> Int32 {
        let interactive = isatty(1) == 1 && isatty(0) == 1
        var saved = termios()
        if interactive {
            tcgetattr(0, &saved)
            var raw = saved
            // termios(3): no line buffering, no echo, and ^C/^Z as plain bytes (ISIG off).
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            tcsetattr(0, TCSANOW, &raw)
            print("\u{1B}[?25l", terminator: "")
        }
        defer {
            if interactive {
                tcsetattr(0, TCSANOW, &saved)
                print("\u{1B}[?25h")
            }
        }
        var previous: (at: Date, status: JSONValue)?
        var refreshes = 0
        while count.map({ refreshes < $0 }) ?? true {
            let (code, reply) = try runner.call(ControlCommand.status.request)
            guard code < 400, let reply else { return runner.fail(code, reply) }
            let now = Date()
            let screen = Self.render(reply, previous: previous, now: now)
            if interactive {
                print("\u{1B}[H\u{1B}[2J" + screen.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n\r\nq: quit", terminator: "")
            } else {
                print(screen + "\n")
            }
            fflush(nil)  // fflush(3): NULL flushes every output stream (stdout is not concurrency-safe to name)
            previous = (now, reply)
            refreshes += 1
            if count.map({ refreshes >= $0 }) == true { break }
            if interactive {
                if Self.waitForQuit(seconds: 1) { return 0 }
            } else {
                Thread.sleep(forTimeInterval: 1)
            }
        }
        return 0
    }

    /// Waits up to `seconds` for a key; `true` for q, Q or Ctrl-C (0x03).
    static func waitForQuit(seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(1, end.timeIntervalSinceNow * 1000))
            guard poll(&descriptor, 1, wait) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(0, &byte, 1) == 1 else { return false }
            if byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 3 { return true }
        }
        return false
    }

    /// The view: a header line, then a sources table and a subscriptions table.
    static func render(_ status: JSONValue, previous: (at: Date, status: JSONValue)?, now: Date) -> String {
        let head = status["head_lsn"]?.integerValue ?? 0
        let elapsed = previous.map { now.timeIntervalSince($0.at) } ?? 0
        func rate(_ value: Int64?, _ old: Int64?) -> String {
            guard let value, let old, elapsed > 0 else { return "–" }
            return String(format: "%.1f/s", Double(value - old) / elapsed)
        }
        var lines: [String] = []
        let oldHead = previous?.status["head_lsn"]?.integerValue
        lines.append(
            "renkeid \(status["version"]?.stringValue ?? "?")  up \(status["uptime_s"]?.integerValue ?? 0) s  "
                + "head lsn \(head)  projection lsn \(status["projection_lsn"]?.integerValue ?? 0)  "
                + "log \(rate(head, oldHead))")
        if let rebuild = status["rebuild"]?.objectValue {
            lines.append("rebuilding: \(rebuild["done_lsn"]?.integerValue ?? 0)/\(rebuild["target_lsn"]?.integerValue ?? 0)")
        }
        var sourceRows: [[String]] = [["source", "events", "rate", "rejected", "lag", "last error"]]
        for member in status["sources"]?.objectValue ?? JSONObject() {
            let value = member.value
            let old = previous?.status["sources"]?[member.key]?["events"]?.integerValue
            sourceRows.append([
                member.key, String(value["events"]?.integerValue ?? 0), rate(value["events"]?.integerValue, old),
                String(value["rejected"]?.integerValue ?? 0), seconds(value["lag_s"]), value["last_error"]?.stringValue ?? "",
            ])
        }
        var subscriptionRows: [[String]] = [
            ["subscription", "state", "backlog", "in flight", "delivered", "rate", "dead", "skipped", "oldest", "last error"]
        ]
        for member in status["subscriptions"]?.objectValue ?? JSONObject() {
            let value = member.value
            let old = previous?.status["subscriptions"]?[member.key]?["delivered"]?.integerValue
            subscriptionRows.append([
                // Issue 17: a shadow subscription records but sends nothing; say so beside its state.
                member.key, (value["state"]?.stringValue ?? "") + (value["mode"] == "shadow" ? " (shadow)" : ""),
                String(value["backlog"]?.integerValue ?? 0),
                String(value["in_flight"]?.integerValue ?? 0), String(value["delivered"]?.integerValue ?? 0),
                rate(value["delivered"]?.integerValue, old), String(value["dead_letters"]?.integerValue ?? 0),
                String(value["skipped"]?.integerValue ?? 0), seconds(value["oldest_undelivered_s"]), value["last_error"]?.stringValue ?? "",
            ])
        }
        lines.append("")
        lines += table(sourceRows)
        lines.append("")
        lines += table(subscriptionRows)
        return lines.joined(separator: "\n")
    }

    static func seconds(_ value: JSONValue?) -> String {
        switch value {
        case .integer(let i): return "\(i) s"
        case .double(let d): return String(format: "%.1f s", d)
        default: return "–"
        }
    }

    /// Columns padded by display width (East Asian wide characters count two).
    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], TextWidth.columns(cell)) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : TextWidth.padded(cell, to: widths[i]) }
                .joined(separator: "  ")
        }
    }
}
