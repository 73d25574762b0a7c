import Foundation
import GRDB
import PatronDomain

/// The journal and the customer records in SQLite. One batch is one transaction: each new event
/// is journaled and applied (``RecordApplier``) inside its own savepoint, so an event that cannot
/// be applied leaves no trace and is reported for the dead-letter queue, while the rest commit.
/// The journal's unique `event_id` is the idempotency key: an id already present is counted as a
/// duplicate and has no other effect.
public struct SQLiteEventStore: EventStore {
    private let database: PatronDatabase
    private let applier: RecordApplier

    public init(database: PatronDatabase, applier: RecordApplier) {
        self.database = database
        self.applier = applier
    }

    public func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome {
        guard !events.isEmpty else { return RecordOutcome() }
        let applier = self.applier
        let (outcome, erased) = try await database.pool.write { db -> (RecordOutcome, Bool) in
            var outcome = RecordOutcome()
            var erased = false
            let records = SQLiteRecordTransaction(db: db)
            var checkErasures = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM erased_identities)") ?? false
            let insert = try db.cachedStatement(sql: """
                INSERT INTO event_journal (event_id, type, occurred_at, source, routing_key, received_at, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(event_id) DO NOTHING
                """)
            let link = try db.cachedStatement(sql: "UPDATE event_journal SET customer_id = ? WHERE seq = ?")
            let redact = try db.cachedStatement(sql: "UPDATE event_journal SET payload = X'' WHERE seq = ?")
            var lastReceived = Int64.min
            var lastOccurred = Int64.min
            for (index, event) in events.enumerated() {
                var isNew = false
                do {
                    try db.inSavepoint {
                        try insert.execute(arguments: [
                            event.envelope.id, event.envelope.type.rawValue, event.envelope.occurredAt.microseconds,
                            event.envelope.source, event.routingKey, event.receivedAt.microseconds, Data(event.body),
                        ])
                        isNew = db.changesCount > 0
                        guard isNew else { return .commit }
                        let seq = db.lastInsertedRowID
                        switch try applier.apply(DecodedEvent(envelope: event.envelope, payload: event.payload), in: records,
                                                 checkErasures: checkErasures) {
                        case .applied(let customer?):
                            try link.execute(arguments: [customer, seq])
                        case .applied(nil):
                            break
                        case .suppressed:
                            // Dropped because it predates an erasure: its personal data is not kept either.
                            try redact.execute(arguments: [seq])
                            outcome.suppressed += 1
                        }
                        if event.envelope.type == .customerErasureRequested {
                            try redact.execute(arguments: [seq])
                            checkErasures = true
                            erased = true
                        }
                        return .commit
                    }
                } catch let error as DatabaseError where Self.isEnvironmental(error) {
                    throw error
                } catch {
                    outcome.failed[index] = Rejection(.unprocessable, field: "data", "could not be applied: \(error)")
                    continue
                }
                if isNew {
                    outcome.recorded += 1
                    lastReceived = max(lastReceived, event.receivedAt.microseconds)
                    lastOccurred = max(lastOccurred, event.envelope.occurredAt.microseconds)
                } else {
                    outcome.duplicates += 1
                }
            }
            try db.execute(sql: "UPDATE ingest_state SET recorded = recorded + ?, duplicates = duplicates + ?, failed = failed + ? WHERE id = 1",
                           arguments: [outcome.recorded, outcome.duplicates, outcome.failed.count])
            if outcome.recorded > 0 {
                try db.execute(sql: """
                    UPDATE ingest_state SET last_received_at = max(coalesce(last_received_at, ?1), ?1),
                        last_occurred_at = max(coalesce(last_occurred_at, ?2), ?2)
                    WHERE id = 1
                    """, arguments: [lastReceived, lastOccurred])
            }
            return (outcome, erased)
        }
        if erased {
            // With secure_delete the erased values are zeroed in the database pages; their old
            // copies live on in the WAL until a checkpoint copies the pages back and truncates it.
            try await database.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        return outcome
    }

    /// Splits a merged-away customer number back out (`customers.unmerge`).
    public func unmerge(customerNo: String, at time: Timestamp) async throws -> (survivor: CustomerRecord, restored: CustomerRecord) {
        let applier = self.applier
        return try await database.pool.write { db in
            try applier.unmerge(customerNo: customerNo, at: time, store: SQLiteRecordTransaction(db: db))
        }
    }

    /// Failures that say nothing about the event (disk full, I/O, locks): the batch is retried
    /// rather than the event dead-lettered.
    private static func isEnvironmental(_ error: DatabaseError) -> Bool {
        [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_NOMEM, .SQLITE_READONLY, .SQLITE_CANTOPEN,
         .SQLITE_CORRUPT, .SQLITE_INTERRUPT, .SQLITE_PROTOCOL].contains(error.resultCode)
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
