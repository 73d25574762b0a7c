import Foundation
import GRDB
import PatronDomain

/// The journal and the customer records in SQLite. One batch is one transaction, and the
/// journal's unique `event_id` is the idempotency key: an id already present is counted as a
/// duplicate and has no other effect.
///
/// An event that cannot be applied must leave no trace and go to the dead-letter queue while the
/// rest commit. A savepoint per event would give that, but SQLite then copies every page an event
/// first touches into its statement journal, on the path every event takes; so a batch first
/// runs without them, and only if one of its events fails is it rolled back and run again with a
/// savepoint per event.
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
        let outcome: BatchOutcome
        do {
            outcome = try await record(events, isolatingEvents: false, dryRun: dryRun)
        } catch is EventFailure {
            outcome = try await record(events, isolatingEvents: true, dryRun: dryRun)
        }
        if outcome.erased, !dryRun {
            // With secure_delete the erased values are zeroed in the database pages; their old
            // copies live on in the WAL until a checkpoint copies the pages back and truncates it.
            try await database.checkpoint()
        }
        return outcome.recordOutcome
    }

    /// An event of a batch run without savepoints could not be applied.
    private struct EventFailure: Error {}

    private struct BatchOutcome {
        var recordOutcome = RecordOutcome()
        var erased = false
    }

    private func record(_ events: [AcceptedEvent], isolatingEvents: Bool, dryRun: Bool) async throws -> BatchOutcome {
        let applier = self.applier
        // A dry run (import preview) queues no messages.
        let reactor = dryRun ? nil : self.reactor
        return try await database.write(rollingBack: dryRun) { db in
            try Self.record(events, isolatingEvents: isolatingEvents, applier: applier, reactor: reactor, db: db)
        }
    }

    private static func record(_ events: [AcceptedEvent], isolatingEvents: Bool, applier: RecordApplier, reactor: (any EventReactor)?,
                               db: Database) throws -> BatchOutcome {
        var batch = BatchOutcome()
        let records = BatchRecords(SQLiteRecordTransaction(db: db))
        // Customers are never deleted, so ids above this one were made by this batch.
        let lastCustomerBefore = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM customers") ?? 0
        var createdInBatch = Set<CustomerID>()
        var checkErasures = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM erased_identities)") ?? false
        let journaled = try journaledIDs(of: events, db: db)
        // After an erasure drops the loaded state, the batch's keys are loaded again (those of
        // events already applied too, which costs a few rows).
        let keys = BatchKeys(accepted: events)
        var recorded = Set<String>()
        var lastReceived = Int64.min
        var lastOccurred = Int64.min
        for (index, event) in events.enumerated() {
            let envelope = event.envelope
            if journaled.contains(envelope.id) || recorded.contains(envelope.id) {
                batch.recordOutcome.duplicates += 1
                continue
            }
            if records.needsLoading {
                try records.load(keys)
            }
            /// Applies the event and journals it, linked to its customer; the payload is not
            /// kept when it asks for an erasure or predates one.
            func applyAndJournal() throws {
                var customer: CustomerID?
                var keepsPayload = envelope.type != .customerErasureRequested
                let decoded = DecodedEvent(envelope: envelope, payload: event.payload)
                switch try applier.apply(decoded, in: records, checkErasures: checkErasures) {
                case .applied(let id):
                    customer = id
                    try reactor?.react(to: decoded, customer: id, in: records)
                case .suppressed:
                    keepsPayload = false
                    batch.recordOutcome.suppressed += 1
                }
                let row: [SQLValue] = [.text(envelope.id), .text(envelope.type.rawValue), .of(envelope.occurredAt), .of(envelope.source),
                                       .text(event.routingKey), .of(event.receivedAt), .blob(keepsPayload ? event.body : []), .of(customer)]
                records.append(row, into: Self.journalRows)
                // With a savepoint per event, its writes go before the savepoint is released, so
                // that a failing write is this event's.
                if isolatingEvents { try records.flush() }
                if let customer, customer > lastCustomerBefore, createdInBatch.insert(customer).inserted { batch.recordOutcome.created += 1 }
            }
            do {
                if isolatingEvents {
                    do {
                        try db.inSavepoint {
                            try applyAndJournal()
                            return .commit
                        }
                    } catch {
                        records.forget()
                        throw error
                    }
                } else {
                    try applyAndJournal()
                }
            } catch let error as DatabaseError where Self.isEnvironmental(error) {
                throw error
            } catch {
                guard isolatingEvents else { throw EventFailure() }
                batch.recordOutcome.failed[index] = Rejection(.unprocessable, field: "data", "could not be applied: \(error)")
                continue
            }
            recorded.insert(envelope.id)
            if envelope.type == .customerErasureRequested {
                checkErasures = true
                batch.erased = true
            }
            batch.recordOutcome.recorded += 1
            lastReceived = max(lastReceived, event.receivedAt.microseconds)
            lastOccurred = max(lastOccurred, envelope.occurredAt.microseconds)
        }
        do {
            try records.flush()
        } catch let error as DatabaseError where Self.isEnvironmental(error) {
            throw error
        } catch {
            // A write of some event's failed; which one, only a savepoint per event can tell.
            guard isolatingEvents else { throw EventFailure() }
            throw error
        }
        let outcome = batch.recordOutcome
        try db.execute(sql: "UPDATE ingest_state SET recorded = recorded + ?, duplicates = duplicates + ?, failed = failed + ? WHERE id = 1",
                       arguments: [outcome.recorded, outcome.duplicates, outcome.failed.count])
        if outcome.recorded > 0 {
            try db.execute(sql: """
                UPDATE ingest_state SET last_received_at = max(coalesce(last_received_at, ?1), ?1),
                    last_occurred_at = max(coalesce(last_occurred_at, ?2), ?2)
                WHERE id = 1
                """, arguments: [lastReceived, lastOccurred])
        }
        // In the erasing transaction, so no commit leaves the erased words in the index's old
        // segments; the queued deletions first, so that the merge drops them.
        if batch.erased {
            try SearchWordsQueueSchema.flush(db)
            try SearchWordsSchema.optimize(db)
        }
        return batch
    }

    public func change<T: Sendable>(rollingBack: Bool, _ body: @escaping @Sendable (RecordApplier, any DispatchTransaction) throws -> T) async throws -> T {
        let applier = self.applier
        return try await database.write(rollingBack: rollingBack) { db in try body(applier, SQLiteRecordTransaction(db: db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any DispatchTransaction) throws -> T) async throws -> T {
        try await database.read { db in try body(SQLiteRecordTransaction(db: db)) }
    }

    private static let journalRows = RowInsert(
        head: "INSERT INTO event_journal (event_id, type, occurred_at, source, routing_key, received_at, payload, customer_id)",
        template: numberedParameters(8))

    /// The batch's event ids that the journal already holds, in one statement.
    private static func journaledIDs(of events: [AcceptedEvent], db: Database) throws -> Set<String> {
        let statements = SQLiteStatements(db: db)
        let list = try statements.isOneOf("event_id", Set(events.map(\.envelope.id)).map(SQLValue.text))
        return Set(try statements.all("SELECT event_id FROM event_journal WHERE \(list.sql)", [list.parameter]) { $0.text(0) })
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
