/// `renkeictl`'s help texts.
public enum ControlHelp {
    /// The one-line usage shown after a usage error.
    public static let usage = "usage: renkeictl [--socket PATH] [--config FILE] [--json] COMMAND [ARGS]"

    static let commands: [(String, String, String)] = [
        ("status", "status", "Show the daemon's log head, projection, sources and subscriptions (GET /v1/status)."),
        ("person", "person UID | person --source S --subject X [--reveal-protected]",
         "Show one unified person (GET /v1/persons/...). --reveal-protected shows a protected person's\naddress; it is recorded in the access log as an operator action."),
        ("history", "history UID",
         "List a person's events in log order with how each came in (GET /v1/persons/UID/history):\nlsn, source, event_id, type, times and provenance; no event data. Recorded in the access log."),
        ("household", "household NO", "Show a household's members and 非課税世帯 flag (GET /v1/households/NO)."),
        ("replay", "replay FILE [--chunk-lines N]",
         "Append the JSONL events of FILE in order (POST /v1/replay), N lines a request (default 5000).\nRejected lines are printed as FILE:LINE: error; exit status 1 if any line was rejected."),
        ("verify", "verify",
         "Check the hash chains of the event log and the access log (GET /v1/verify); exit status 1 if\neither is broken."),
        ("rebuild", "rebuild", "Rebuild projections from the log (POST /v1/rebuild) and show progress until done."),
        ("reviews", "reviews | reviews show ID | reviews link ID --uid U | reviews reject ID",
         "List match candidates waiting for an operator (GET /v1/reviews), show one, link its record to\nperson U, or reject the candidates (the record stays a person of its own)."),
        ("linking", "linking estimate | linking report",
         "Estimate the match weights from the population, without labels (POST /v1/linking/estimate;\nthe result is logged as operator.linking_estimated and decides records from then on), or show\nm, u and the weight per field and level, the expected precision, recall and review volume\n(GET /v1/linking/report)."),
        ("links", "links add|remove --uid U --source S --subject X",
         "Link a source's subject to a person, or unlink it (POST / DELETE /v1/links)."),
        ("dead-letters", "dead-letters [--subscription NAME] [--state dead|skipped] | dead-letters retry|skip ID",
         "List deltas that could not be delivered (GET /v1/dead-letters); retry one, or skip it so later\ndeltas of its person flow. --state skipped lists the deltas not sent, each with its reason\n(skipped by an operator, or left with nothing the subscription's policy in force allows)."),
        ("disclosures", "disclosures --uid U", "Show what was sent to whom about a person (GET /v1/disclosures)."),
        ("access-log", "access-log", "Show the status-socket access log (GET /v1/access-log)."),
        ("subscription", "subscription pause|resume NAME | subscription replay NAME --from-lsn N",
         "Pause or resume a subscription's deliveries, or re-send its deltas from a log position."),
        ("export", "export NAME",
         "Write a full export (全件) of file subscription NAME's views into its folder now (POST\n/v1/subscriptions/NAME/export; group status_socket_admin_group): every person it covers, through its\nmapping and encoding, named NAME-SEQ-full.EXT, with a done marker if configured. Prints the file name."),
        ("backup", "backup [FILE]",
         "Take an online backup while renkeid runs (POST /v1/backup; group status_socket_admin_group). FILE is a\nfile name in backup_dir (default /var/lib/renkei/backups), or a path in that folder; it must not exist.\nWithout FILE: renkei-TIME.db. Backups are mode 0600 (the daemon's user); copy them off with sudo."),
        ("keys", "keys rotate FILE",
         "Wrap the at-rest data key of my_number under the new key file FILE (POST /v1/keys/rotate); then\nmove FILE to secrets.at_rest_key_file and restart renkeid. Runbook: rotate-at-rest-key."),
        ("mapping", "mapping check --source S FILE",
         "Show what FILE would become if dropped in source S's spool, through its mapping, without\ningesting anything (POST /v1/mappings/S/check): the events, the refused rows with line, column\nand reason, and for a snapshot source the added, changed and removed counts and whether the\nfile would be held. Exit status 1 if any row is refused."),
        ("snapshot", "snapshot list | snapshot accept|discard ID",
         "List the runs of the snapshot sources (GET /v1/snapshots): file digest, rows, added, changed,\nremoved and state. A held run (it would remove more than max_removed_share of the keys) waits\nuntil it is accepted (its differences are applied) or discarded (nothing is applied)."),
        ("search", "search TEXT [--birth-date D] [--limit N]",
         "Find persons by name or kana (folded as the matcher does: 髙/高, ｶﾅ/カナ, ひらがな), address, uid,\n宛名番号 or a source's subject, optionally born on D (1985-06-12, S60.6.12, 昭和60年6月12日)\n(GET /v1/persons/search). Best first with a score; no addresses. Recorded in the access log."),
        ("console", "console user add|reset NAME --role viewer|reviewer|admin | console user disable NAME | console user list",
         "Manage the staff accounts of the web console (POST /v1/console/users/NAME, …/reset, …/disable;\ngroup status_socket_admin_group). add and reset print a one-time password, which must be changed\nat the first login; disable ends the account's sessions. viewer reads, reviewer also decides\nreviews and links, admin also reveals protected addresses (with a reason)."),
        ("shadow", "shadow diff NAME FILE --mapping M [--source S] [--encoding E] [--format csv|fixed] [--limit N]",
         "Compare what subscription NAME would hold now (its shadowed or delivered deltas, the policy in\nforce applied) with a legacy system's export FILE of the same data, read through mapping M as a\nmapped source's file (POST /v1/subscriptions/NAME/shadow/diff; group status_socket_admin_group).\nPersons are matched by the mapping's subject (the key of source S, default the subscription's\nlinked_to, e.g. 宛名番号) and compared field by field. Prints the cut-over report: matched,\ndiffering (with the fields), only in Renkei, only in the legacy file, refused rows. --encoding\nutf-8 (default), cp932 or euc-jp; --limit N entries per list (default 1000; counts are complete).\nExit status 0 when everything matched, 1 otherwise."),
        ("reconcile", "reconcile [CHECK] [--csv] [--state open|explained|resolved] | reconcile explain CHECK ID --note TEXT",
         "List the reconciliation (突合) checks with their open and explained counts (GET /v1/reconciliation),\nor every finding of CHECK (GET /v1/reconciliation/CHECK, all pages): the person and the facts behind it.\n--csv writes the findings (of CHECK, or of every check) as CSV in CP932 for Excel, to standard output;\na character CP932 cannot hold is written as 〓 and listed in the last column. `explain` records an\nofficial's note on an open finding (POST …/explain; group status_socket_admin_group): it stays listed as\nexplained until the data changes. Runbook: working the 突合 lists."),
        ("metrics", "metrics", "Print the Prometheus metrics (GET /metrics)."),
        ("top", "top [--count N]",
         "Live view of lag, throughput and backlog, refreshed every second; q or Ctrl-C quits.\nNot on a terminal: plain text every second (N refreshes with --count)."),
    ]

    /// The help for `command`, or the overview when `nil` or unknown.
    public static func text(for command: String?) -> String {
        if let command, let entry = commands.first(where: { $0.0 == command }) {
            return "usage: renkeictl [global options] \(entry.1)\n\n\(entry.2)\n\n" + globals
        }
        let width = commands.map { TextWidth.columns($0.0) }.max() ?? 0
        let list = commands.map { "  " + TextWidth.padded($0.0, to: width) + "  " + $0.2.split(separator: "\n")[0] }
        return usage + "\n\nOperate the Renkei daemon through its status socket.\n\nCommands:\n"
            + list.joined(separator: "\n") + "\n\n" + globals
            + "\nRun `renkeictl COMMAND --help` for a command's arguments.\n"
            + "Exit status: 0 ok, 1 the daemon answered an error (or verify failed), 2 usage error,\n"
            + "3 the socket is missing, not answering, or not permitted.\n"
            + "Reading needs the group status_socket_group; deciding and changing (links, reviews, replay,\n"
            + "rebuild, dead letters, subscriptions, --reveal-protected, backup, reconcile explain) status_socket_admin_group:\n"
            + "outside your groups the daemon answers HTTP 403 naming the group.\n"
    }

    static let globals = """
        Global options:
          --socket PATH   the status socket (default: status_socket of the config, else /run/renkei/status.sock)
          --config FILE   the daemon's configuration (default /etc/renkei/renkei.json)
          --json          print the daemon's raw JSON reply
          -h, --help      show help

        """
}
