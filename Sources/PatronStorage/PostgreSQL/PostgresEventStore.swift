import Logging
import Metrics
import PatronDomain
import Synchronization

/// The journal and the customer records in PostgreSQL, under the same rules as
/// ``SQLiteEventStore``, for several replicas at once.
///
/// A batch is committed in READ COMMITTED transactions of up to `transactionSize` events, each of
/// which first locks every key its events name and then the customers those keys lead to
/// (``PostgresKeyLocks``): two replicas that apply events about the same customer at the same
/// time (both find no customer for a new email and both would create one; both merge
/// overlapping records) take turns, and the second reads what the first committed. The outcome
/// is the one a single replica would reach. What PostgreSQL still refuses (a deadlock, a unique
/// violation between keys that were not locked together) runs again, counted in
/// `patron_postgres_retries_total{reason}`.
public struct PostgresEventStore: EventStore, RecordStore {
    private let database: PatronPostgresDatabase
    private let applier: RecordApplier
    private let reactor: (any EventReactor)?
    /// Attempts of a transaction that keeps meeting conflicts before the error goes up (and the
    /// ingest retries the batch later).
    private let attempts = 20
    /// A unique violation is retried this many times, then taken as the event's own fault (it
    /// goes to the dead-letter queue, as on SQLite).
    private static let uniqueViolationAttempts = 3
    /// Events per transaction: a batch from the ingest is committed in parts of this many. Each
    /// event still commits with its journal row, and the ingest acknowledges the batch after the
    /// last part, so a crash between parts redelivers events that the journal then counts as
    /// duplicates.
    private let transactionSize: Int
    private let retryCount = RetryCount()

    /// Transactions this store ran again after a conflict (as `patron_postgres_retries_total`).
    var retries: Int { retryCount.value.withLock { $0 } }

    private final class RetryCount: Sendable {
        let value = Mutex(0)
    }

    public init(database: PatronPostgresDatabase, applier: RecordApplier, reactor: (any EventReactor)? = nil, transactionSize: Int = 200) {
        self.database = database
        self.applier = applier
        self.reactor = reactor
        self.transactionSize = max(1, transactionSize)
    }

    public func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome {
        try await record(events, dryRun: false)
    }

    public func record(_ events: [AcceptedEvent], dryRun: Bool) async throws -> RecordOutcome {
        guard !events.isEmpty else { return RecordOutcome() }
        // A dry run's outcome must see every event of the batch: one transaction, rolled back.
        guard !dryRun, events.count > transactionSize else { return try await recordInOneTransaction(events, dryRun: dryRun) }
        var outcome = RecordOutcome()
        for start in stride(from: 0, to: events.count, by: transactionSize) {
            let part = try await recordInOneTransaction(Array(events[start..<min(start + transactionSize, events.count)]), dryRun: false)
            outcome.recorded += part.recorded
            outcome.created += part.created
            outcome.duplicates += part.duplicates
            outcome.suppressed += part.suppressed
            for (index, rejection) in part.failed { outcome.failed[start + index] = rejection }
        }
        return outcome
    }

    private func recordInOneTransaction(_ events: [AcceptedEvent], dryRun: Bool) async throws -> RecordOutcome {
        let applier = self.applier
        let reactor = dryRun ? nil : self.reactor
        let keys = BatchKeys(accepted: events)
        return try await transaction(rollingBack: dryRun, sendingWrites: true) { statements, attempt in
            try PostgresKeyLocks.lockForIngest(keys, statements: statements)
            let transaction = Transaction(statements: statements, uniqueViolationIsEvents: attempt >= Self.uniqueViolationAttempts)
            do {
                return try IngestBatch.record(events, keys: keys, isolatingEvents: false, applier: applier, reactor: reactor,
                                             transaction: transaction).recorded
            } catch is IngestBatch.EventFailure {
                try statements.undo("ROLLBACK")
                try statements.run("BEGIN ISOLATION LEVEL READ COMMITTED")
                try PostgresKeyLocks.lockForIngest(keys, statements: statements)
                return try IngestBatch.record(events, keys: keys, isolatingEvents: true, applier: applier, reactor: reactor,
                                             transaction: transaction).recorded
            }
        }
    }

    public func change<T: Sendable>(rollingBack: Bool = false, _ body: @escaping @Sendable (RecordApplier, any DispatchTransaction) throws -> T) async throws -> T {
        let applier = self.applier
        return try await transaction(rollingBack: rollingBack, sendingWrites: false) { statements, _ in
            try PostgresKeyLocks.lockForChange(statements: statements)
            return try body(applier, SQLRecordTransaction(statements))
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any DispatchTransaction) throws -> T) async throws -> T {
        try await PostgresEngine(database: database).read { statements in try body(SQLRecordTransaction(statements)) }
    }

    public func journalStatus() async throws -> JournalStatus {
        try await database.writer.perform { statements in
            try statements.first("""
                SELECT CAST(coalesce(sum(recorded), 0) AS BIGINT), CAST(coalesce(sum(duplicates), 0) AS BIGINT),
                    CAST(coalesce(sum(suppressed), 0) AS BIGINT), max(last_received_at), max(last_occurred_at)
                FROM ingest_counters
                """) { row in
                JournalStatus(recorded: row.integer(0), duplicates: row.integer(1), suppressed: row.integer(2),
                              lastReceivedAt: row.integerOrNil(3).map(Timestamp.init(microseconds:)),
                              lastOccurredAt: row.integerOrNil(4).map(Timestamp.init(microseconds:)))
            }!
        }
    }

    /// What running the transaction again resolves: another transaction got in the way.
    enum Conflict: String {
        case deadlock, serialization, uniqueViolation = "unique_violation"

        init?(_ error: any Error) {
            switch (error as? PostgresFailure)?.sqlState {
            case "40P01": self = .deadlock
            case "40001": self = .serialization
            case "23505": self = .uniqueViolation
            default: return nil
            }
        }
    }

    /// Runs `body` in a READ COMMITTED transaction on the writer, again from the start after a
    /// conflict (``Conflict``); `body` gets the attempt's number, from 1. `sendingWrites`: see
    /// ``PostgresSession/perform(sendingWrites:_:)``.
    private func transaction<T: Sendable>(rollingBack: Bool, sendingWrites: Bool,
                                          _ body: @escaping @Sendable (PostgresStatements, Int) throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await database.writer.perform(sendingWrites: sendingWrites) { [attempt] statements in
                    try statements.run("BEGIN ISOLATION LEVEL READ COMMITTED")
                    do {
                        let result = try body(statements, attempt)
                        try statements.runAndWait(rollingBack ? "ROLLBACK" : "COMMIT")
                        return result
                    } catch {
                        _ = try? statements.undo("ROLLBACK")
                        throw error
                    }
                }
            } catch let error where attempt < attempts && Conflict(error) != nil {
                let conflict = Conflict(error)!
                Counter(label: "patron_postgres_retries_total", dimensions: [("reason", conflict.rawValue)]).increment()
                retryCount.value.withLock { $0 += 1 }
                // After a random pause that grows with the attempts: replicas that met on the same
                // customers would otherwise meet again at once.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
                attempt += 1
                database.logger.debug("transaction retried after a conflict with another transaction",
                                      metadata: ["attempt": "\(attempt)", "reason": "\(conflict.rawValue)"])
            }
        }
    }

    /// PostgreSQL's side of ``IngestBatch``.
    private struct Transaction: IngestTransaction {
        let statements: PostgresStatements
        /// A unique violation is the event's fault (it is isolated and dead-lettered), not a
        /// conflict to run again.
        let uniqueViolationIsEvents: Bool

        /// Released with a wait: an error of the event's writes must surface while it is the one
        /// undone, and before it is counted.
        func inSavepoint(_ body: () throws -> Void) throws {
            try statements.run("SAVEPOINT event")
            do {
                try body()
                try statements.runAndWait("RELEASE SAVEPOINT event")
            } catch {
                try statements.undo("ROLLBACK TO SAVEPOINT event")
                throw error
            }
        }

        func isTransactions(_ error: any Error) -> Bool {
            if let failure = error as? PostgresFailure, failure.isEnvironmental { return true }
            if let conflict = Conflict(error) { return conflict != .uniqueViolation || !uniqueViolationIsEvents }
            return false
        }

        func waitForWrites() throws { try statements.session.waitForSent() }

        func finish(_ outcome: RecordOutcome, lastReceived: Int64?, lastOccurred: Int64?, erased: Bool) throws {
            try statements.run("""
                INSERT INTO ingest_counters (backend, recorded, duplicates, failed, last_received_at, last_occurred_at)
                VALUES (pg_backend_pid(), ?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (backend) DO UPDATE SET recorded = ingest_counters.recorded + excluded.recorded,
                    duplicates = ingest_counters.duplicates + excluded.duplicates, failed = ingest_counters.failed + excluded.failed,
                    last_received_at = greatest(ingest_counters.last_received_at, excluded.last_received_at),
                    last_occurred_at = greatest(ingest_counters.last_occurred_at, excluded.last_occurred_at)
                """, .integer(Int64(outcome.recorded)), .integer(Int64(outcome.duplicates)), .integer(Int64(outcome.failed.count)),
                               .of(lastReceived), .of(lastOccurred))
        }
    }
}
