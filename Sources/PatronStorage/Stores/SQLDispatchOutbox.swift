import PatronDomain

/// Dispatch jobs queued with the records (`dispatch_outbox`) and the rules' timers. Marking a
/// job published empties its body, which held personal data only the gateway needs.
///
/// On PostgreSQL several replicas' relays read the same outbox: each claims the jobs it reads
/// (`FOR UPDATE SKIP LOCKED`, then a lease in `claimed_until`), so a job is published by one of
/// them. A replica that dies holding a claim leaves it to run out, and another publishes the
/// job then. On SQLite one patrond owns the file, and reading is enough.
struct SQLDispatchOutbox<Engine: SQLEngine>: DispatchOutbox, FileDeliveryQueue {
    let engine: Engine
    /// How long a claim holds: far longer than publishing a batch and marking it takes.
    static var leaseSeconds: Int64 { 60 }

    func pending(channel: DispatchChannel, readyAt: Timestamp, after sequence: Int64, limit: Int) async throws -> [PendingDispatch] {
        guard Engine.Statements.dialect == .postgres else {
            return try await engine.read { statements in
                try statements.all("""
                    SELECT id, job_id, body FROM dispatch_outbox INDEXED BY dispatch_outbox_pending
                    WHERE channel = ? AND published_at IS NULL AND id > ? AND not_before <= ? ORDER BY id LIMIT ?
                    """, .text(channel.rawValue), .integer(sequence), .of(readyAt), .integer(Int64(limit))) {
                    PendingDispatch(sequence: $0.integer(0), jobID: $0.text(1), channel: channel, body: $0.bytesOrNil(2) ?? [])
                }
            }
        }
        return try await engine.write { statements in
            try statements.all("""
                UPDATE dispatch_outbox SET claimed_until = ?1
                WHERE id IN (SELECT id FROM dispatch_outbox
                             WHERE channel = ?2 AND published_at IS NULL AND id > ?3 AND not_before <= ?4
                                 AND (claimed_until IS NULL OR claimed_until < ?4)
                             ORDER BY id LIMIT ?5 FOR UPDATE SKIP LOCKED)
                RETURNING id, job_id, body
                """, [.of(readyAt.adding(seconds: Self.leaseSeconds)), .text(channel.rawValue), .integer(sequence), .of(readyAt),
                      .integer(Int64(limit))]) {
                PendingDispatch(sequence: $0.integer(0), jobID: $0.text(1), channel: channel, body: $0.bytesOrNil(2) ?? [])
            }.sorted { $0.sequence < $1.sequence }
        }
    }

    func markPublished(_ sequences: [Int64], at time: Timestamp) async throws {
        guard !sequences.isEmpty else { return }
        try await engine.write { statements in
            try statements.run("UPDATE dispatch_outbox SET published_at = ?, body = ? WHERE id IN (\(parameterList(sequences.count)))",
                               [.of(time), .blob([])] + sequences.map(SQLValue.integer))
        }
    }

    func dueTimers(at time: Timestamp, limit: Int) async throws -> [RuleFiring] {
        try await engine.read { statements in
            try statements.all("""
                SELECT key, rule, subject_kind, subject_id, subject_date, reply_event_id, due_at FROM dispatch_timers
                WHERE due_at <= ? ORDER BY due_at LIMIT ?
                """, .of(time), .integer(Int64(limit))) { row -> RuleFiring? in
                let id = row.text(3)
                let subject: DispatchSubject
                switch row.text(2) {
                case "booking": subject = .booking(ref: id, date: row.textOrNil(4))
                case "cart": subject = .cart(id: id)
                case "thread": subject = .thread(id: id, replyEventID: row.textOrNil(5) ?? "")
                default: return nil
                }
                return RuleFiring(rule: row.text(1), subject: subject, due: Timestamp(microseconds: row.integer(6)), key: row.text(0))
            }.compactMap { $0 }
        }
    }

    func earliestTimer() async throws -> Timestamp? {
        try await engine.read { statements in
            try statements.first("SELECT min(due_at) FROM dispatch_timers") { $0.integerOrNil(0) }?.map(Timestamp.init(microseconds:))
        }
    }

    func backlog() async throws -> [DispatchChannel: Int] {
        try await engine.read { statements in
            var counts: [DispatchChannel: Int] = [:]
            for (channel, count) in try statements.all("SELECT channel, count(*) FROM dispatch_outbox WHERE published_at IS NULL GROUP BY channel",
                                                       read: { ($0.text(0), Int($0.integer(1))) }) {
                if let channel = DispatchChannel(rawValue: channel) { counts[channel] = count }
            }
            return counts
        }
    }

    func enqueue(_ jobs: [DispatchJob], trigger: String, at time: Timestamp) async throws -> Int {
        try await engine.write { statements in
            try jobs.reduce(0) { queued, job in
                let body = try JSONOutput.encode(job.json)
                return queued + (try statements.changes("""
                    INSERT INTO dispatch_outbox (job_id, channel, customer_id, template, purpose, trigger, body, created_at, not_before)
                    VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING
                    """, [.text(job.jobID), .text(job.channel.rawValue), .text(job.template), .text(job.purpose.rawValue), .text(trigger),
                          .blob([UInt8](body)), .of(job.createdAt), .of(time)]))
            }
        }
    }
}
