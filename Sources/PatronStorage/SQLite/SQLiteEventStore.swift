import Foundation
import GRDB
import PatronDomain

/// The journal and the customer records in SQLite: one batch is one transaction (``IngestBatch``).
public struct SQLiteEventStore: EventStore, RecordStore {
    private let database: PatronDatabase
    private let applier: RecordApplier
    private let reactor: (any EventReactor)?

    /// - Parameter reactor: runs after each applied event, in its transaction (dispatch rules).
    public init(database: PatronDatabase, applier: RecordApplier, reactor: (any EventReactor)? = nil) {
        self.database = database
        self.applier = applier
        self.reactor = reactor
    }

    public func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome {
        try await record(events, dryRun: false)
    }

    public func record(_ events: [AcceptedEvent], dryRun: Bool) async throws -> RecordOutcome {
        guard !events.isEmpty else { return RecordOutcome() }
        let outcome: IngestBatch.Outcome
        do {
            outcome = try await record(events, isolatingEvents: false, dryRun: dryRun)
        } catch is IngestBatch.EventFailure {
            outcome = try await record(events, isolatingEvents: true, dryRun: dryRun)
        }
        if outcome.erased, !dryRun {
            // With secure_delete the erased values are zeroed in the database pages; their old
            // copies live on in the WAL until a checkpoint copies the pages back and truncates it.
            try await database.checkpoint()
        }
        return outcome.recorded
    }

    private func record(_ events: [AcceptedEvent], isolatingEvents: Bool, dryRun: Bool) async throws -> IngestBatch.Outcome {
        let applier = self.applier
        // A dry run (import preview) queues no messages.
        let reactor = dryRun ? nil : self.reactor
        return try await database.write(rollingBack: dryRun) { db in
            try IngestBatch.record(events, keys: BatchKeys(accepted: events), isolatingEvents: isolatingEvents, applier: applier,
                                   reactor: reactor, transaction: Transaction(db: db))
        }
    }

    public func change<T: Sendable>(rollingBack: Bool, _ body: @escaping @Sendable (RecordApplier, any DispatchTransaction) throws -> T) async throws -> T {
        let applier = self.applier
        return try await database.write(rollingBack: rollingBack) { db in try body(applier, SQLiteRecordTransaction(db: db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any DispatchTransaction) throws -> T) async throws -> T {
        try await database.read { db in try body(SQLiteRecordTransaction(db: db)) }
    }

    /// SQLite's side of ``IngestBatch``.
    private struct Transaction: IngestTransaction {
        let db: Database
        var statements: SQLiteStatements { SQLiteStatements(db: db) }

        func inSavepoint(_ body: () throws -> Void) throws {
            try db.inSavepoint {
                try body()
                return .commit
            }
        }

        /// Failures that say nothing about the event (disk full, I/O, locks): the batch is retried
        /// rather than the event dead-lettered.
        func isTransactions(_ error: any Error) -> Bool {
            guard let error = error as? DatabaseError else { return false }
            return [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_NOMEM, .SQLITE_READONLY, .SQLITE_CANTOPEN,
                    .SQLITE_CORRUPT, .SQLITE_INTERRUPT, .SQLITE_PROTOCOL].contains(error.resultCode)
        }

        func waitForWrites() {}

        func finish(_ outcome: RecordOutcome, lastReceived: Int64?, lastOccurred: Int64?, erased: Bool) throws {
            try db.execute(sql: "UPDATE ingest_state SET recorded = recorded + ?, duplicates = duplicates + ?, failed = failed + ? WHERE id = 1",
                           arguments: [outcome.recorded, outcome.duplicates, outcome.failed.count])
            if let lastReceived, let lastOccurred {
                try db.execute(sql: """
                    UPDATE ingest_state SET last_received_at = max(coalesce(last_received_at, ?1), ?1),
                        last_occurred_at = max(coalesce(last_occurred_at, ?2), ?2)
                    WHERE id = 1
                    """, arguments: [lastReceived, lastOccurred])
            }
            // In the erasing transaction, so no commit leaves the erased words in the index's old
            // segments; the queued deletions first, so that the merge drops them.
            if erased {
                try SearchWordsQueueSchema.flush(db)
                try SearchWordsSchema.optimize(db)
            }
        }
    }

    public func journalStatus() async throws -> JournalStatus {
        try await database.pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT recorded, duplicates, suppressed, last_received_at, last_occurred_at FROM ingest_state WHERE id = 1")!
            return JournalStatus(recorded: row["recorded"], duplicates: row["duplicates"], suppressed: row["suppressed"],
                                 lastReceivedAt: (row["last_received_at"] as Int64?).map(Timestamp.init(microseconds:)),
                                 lastOccurredAt: (row["last_occurred_at"] as Int64?).map(Timestamp.init(microseconds:)))
        }
    }
}
