import Foundation
import GRDB
import PatronDomain

/// The journal and processed-event ids in SQLite. The journal's unique `event_id` is the
/// idempotency key: an id already present is counted as a duplicate and has no other effect.
public struct SQLiteEventStore: EventStore {
    private let database: PatronDatabase

    public init(database: PatronDatabase) {
        self.database = database
    }

    public func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome {
        guard !events.isEmpty else { return RecordOutcome() }
        return try await database.pool.write { db in
            var outcome = RecordOutcome()
            let insert = try db.cachedStatement(sql: """
                INSERT INTO event_journal (event_id, type, occurred_at, source, routing_key, received_at, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(event_id) DO NOTHING
                """)
            var lastReceived = Int64.min
            var lastOccurred = Int64.min
            for event in events {
                try insert.execute(arguments: [
                    event.envelope.id, event.envelope.type.rawValue, event.envelope.occurredAt.microseconds,
                    event.envelope.source, event.routingKey, event.receivedAt.microseconds, Data(event.body),
                ])
                if db.changesCount > 0 {
                    outcome.recorded += 1
                    lastReceived = max(lastReceived, event.receivedAt.microseconds)
                    lastOccurred = max(lastOccurred, event.envelope.occurredAt.microseconds)
                } else {
                    outcome.duplicates += 1
                }
            }
            try db.execute(sql: "UPDATE ingest_state SET recorded = recorded + ?, duplicates = duplicates + ? WHERE id = 1",
                           arguments: [outcome.recorded, outcome.duplicates])
            if outcome.recorded > 0 {
                try db.execute(sql: """
                    UPDATE ingest_state SET last_received_at = max(coalesce(last_received_at, ?1), ?1),
                        last_occurred_at = max(coalesce(last_occurred_at, ?2), ?2)
                    WHERE id = 1
                    """, arguments: [lastReceived, lastOccurred])
            }
            return outcome
        }
    }

    public func journalStatus() async throws -> JournalStatus {
        try await database.pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT recorded, duplicates, last_received_at, last_occurred_at FROM ingest_state WHERE id = 1")!
            return JournalStatus(recorded: row["recorded"], duplicates: row["duplicates"],
                                 lastReceivedAt: (row["last_received_at"] as Int64?).map(Timestamp.init(microseconds:)),
                                 lastOccurredAt: (row["last_occurred_at"] as Int64?).map(Timestamp.init(microseconds:)))
        }
    }
}
