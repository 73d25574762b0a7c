/// What each of patrond's metrics means, as the `# HELP` line Prometheus shows beside it.
/// swift-metrics, through which the code records them, has no place for a description, so the
/// exposition gains the lines here; a test scrapes a running patrond and fails on a metric
/// without one.
enum MetricHelp {
    static let texts: [String: String] = [
        "patron_amqp_connected": "1 while this broker connection (label connection: patrond-ingest, patrond-commands, patrond-dispatch) is open, else 0.",
        "patron_amqp_blocked": "1 while the broker blocks this connection's publishing (a memory or disk alarm on the broker), else 0.",
        "patron_amqp_reconnects_total": "Times this broker connection was opened again after it dropped.",
        "patron_command_seconds": "Time to answer a command (label command: its name, or unknown), from receipt to reply.",
        "patron_dead_queue_messages": "Messages waiting in patron.dead: rejected events and undeliverable requests, for patronctl dead list/replay.",
        "patron_dispatch_published_total": "Dispatch jobs published to patron.dispatch with the broker's confirm (label channel).",
        "patron_dispatch_rule_total": "Dispatch rule firings by rule and outcome.",
        "patron_events_accepted_total": "Events recorded: their effects committed and acknowledged.",
        "patron_events_duplicate_total": "Deliveries of an event id already recorded: acknowledged, no second effect.",
        "patron_events_rejected_total": "Deliveries sent to patron.dead (label reason), with the field and reason in x-patron-error.",
        "patron_events_suppressed_total": "Events dropped because they occurred before an erasure of their identity (erased data never comes back).",
        "patron_ingest_batch_size": "Deliveries per ingest batch.",
        "patron_ingest_commit_seconds": "Time to record one ingest batch in the database, commit included.",
        "patron_ingest_event_age_seconds": "Age of an event when recorded: receipt time minus occurred_at.",
        "patron_ingest_queue_messages": "Messages waiting in patron.ingest: the ingest backlog.",
        "patron_postgres_retries_total": "PostgreSQL transactions run again after a conflict with another replica (label reason: deadlock, serialization, unique_violation).",
    ]

    /// The exposition with a `# HELP` line before each `# TYPE` line whose metric has a text and
    /// no HELP line yet.
    static func annotate(_ exposition: [UInt8]) -> [UInt8] {
        var lines: [Substring] = []
        for line in String(decoding: exposition, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !(lines.last?.hasPrefix("# HELP ") ?? false),
               let name = line.dropFirst("# TYPE ".count).split(separator: " ").first, let text = texts[String(name)] {
                lines.append("# HELP \(name) \(text)")
            }
            lines.append(line)
        }
        return Array(lines.joined(separator: "\n").utf8)
    }
}
