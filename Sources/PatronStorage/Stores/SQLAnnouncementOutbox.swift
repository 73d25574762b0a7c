import PatronDomain

/// The announcements queued with the records (`outbox`), for the relay to publish. Claimed on
/// PostgreSQL as ``SQLDispatchOutbox`` claims its jobs, and removed by id: a row committed late
/// with a smaller id than one already published is never removed unpublished.
struct SQLAnnouncementOutbox<Engine: SQLEngine>: AnnouncementOutbox {
    let engine: Engine

    func pending(limit: Int, at now: Timestamp) async throws -> [PendingAnnouncement] {
        guard Engine.Statements.dialect == .postgres else {
            return try await engine.read { statements in
                try statements.all("SELECT id, message_id, routing_key, body FROM outbox ORDER BY id LIMIT ?", .integer(Int64(limit)), read: Self.announcement)
            }
        }
        return try await engine.write { statements in
            try statements.all("""
                UPDATE outbox SET claimed_until = ?1
                WHERE id IN (SELECT id FROM outbox WHERE claimed_until IS NULL OR claimed_until < ?2 ORDER BY id LIMIT ?3 FOR UPDATE SKIP LOCKED)
                RETURNING id, message_id, routing_key, body
                """, [.of(now.adding(seconds: SQLDispatchOutbox<Engine>.leaseSeconds)), .of(now), .integer(Int64(limit))],
                read: Self.announcement).sorted { $0.sequence < $1.sequence }
        }
    }

    func remove(_ sequences: [Int64]) async throws {
        guard !sequences.isEmpty else { return }
        try await engine.write { try $0.run("DELETE FROM outbox WHERE id IN (\(parameterList(sequences.count)))", sequences.map(SQLValue.integer)) }
    }

    private static func announcement(_ row: Engine.Statements.Row) -> PendingAnnouncement {
        PendingAnnouncement(sequence: row.integer(0), messageID: row.text(1), routingKey: row.text(2), body: row.bytesOrNil(3) ?? [])
    }
}
