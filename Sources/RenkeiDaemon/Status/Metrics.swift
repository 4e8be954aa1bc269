import Foundation
import RenkeiCore
import RenkeiStore

extension RenkeiService {
    /// `/metrics` in the Prometheus text exposition format (version 0.0.4): the figures of `/v1/status`.
    func metricsText(reader: Database) throws -> String {
        let status = try statusJSON(reader: reader)
        var out = MetricsWriter()
        out.gauge("renkei_uptime_seconds", "Seconds since the daemon started.", status["uptime_s"])
        out.gauge("renkei_head_lsn", "Last log sequence number appended.", status["head_lsn"])
        out.gauge("renkei_projection_lsn", "Last log sequence number applied to the views.", status["projection_lsn"])
        let sources = status["sources"]?.objectValue ?? JSONObject()
        out.family("renkei_source_events_total", "Events accepted per source.", "counter", sources, "events", label: "source")
        out.family("renkei_source_duplicates_total", "Duplicate events per source.", "counter", sources, "duplicates", label: "source")
        out.family("renkei_source_rejected_total", "Rejected events per source.", "counter", sources, "rejected", label: "source")
        out.family("renkei_source_lag_seconds", "Seconds since the last accepted event per source.", "gauge", sources, "lag_s", label: "source")
        if sources.contains(where: { $0.value["gaiji_unmapped"] != nil }) {
            out.family(
                "renkei_source_gaiji_unmapped_total", "Unmapped 外字 (Private Use characters) in accepted events per source.",
                "counter", sources, "gaiji_unmapped", label: "source")
        }
        let subscriptions = status["subscriptions"]?.objectValue ?? JSONObject()
        out.family("renkei_subscription_backlog", "Deltas not yet delivered.", "gauge", subscriptions, "backlog", label: "subscription")
        out.family("renkei_subscription_in_flight", "Deltas being sent now.", "gauge", subscriptions, "in_flight", label: "subscription")
        out.family("renkei_subscription_dead_letters", "Dead-lettered deltas.", "gauge", subscriptions, "dead_letters", label: "subscription")
        out.family("renkei_subscription_delivered_total", "Deltas delivered.", "counter", subscriptions, "delivered", label: "subscription")
        out.family(
            "renkei_subscription_shadowed_total", "Deltas recorded by a shadow subscription, not sent.", "counter", subscriptions,
            "shadowed", label: "subscription")
        out.family(
            "renkei_subscription_oldest_undelivered_seconds", "Age of the oldest undelivered delta.", "gauge", subscriptions,
            "oldest_undelivered_s", label: "subscription")
        // Issue 17: the 突合 lists, per check and state (open, explained), every check listed.
        let checks = try ReconciliationStore.counts(in: reader)
        out.text += "# HELP renkei_reconciliation_findings Reconciliation (突合) findings per check and state.\n"
        out.text += "# TYPE renkei_reconciliation_findings gauge\n"
        for check in ReconciliationChecks.standard {
            for state in ["open", "explained"] {
                let count = checks[check.name]?[state] ?? 0
                out.text += "renkei_reconciliation_findings{check=\"\(MetricsWriter.escape(check.name))\",state=\"\(state)\"} \(count)\n"
            }
        }
        return out.text
    }
}

/// Writes Prometheus text-format families.
struct MetricsWriter {
    var text = ""

    mutating func gauge(_ name: String, _ help: String, _ value: JSONValue?) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(Self.number(value) ?? "0")\n"
    }

    mutating func family(_ name: String, _ help: String, _ type: String, _ objects: JSONObject, _ key: String, label: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for member in objects {
            guard let value = Self.number(member.value[key]) else { continue }
            text += "\(name){\(label)=\"\(Self.escape(member.key))\"} \(value)\n"
        }
    }

    static func number(_ value: JSONValue?) -> String? {
        switch value {
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        default: return nil
        }
    }

    static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
