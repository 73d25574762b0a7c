import PatronDomain

/// What an engine does differently around one batch of events: its savepoints, which errors
/// belong to the transaction rather than to an event, and its counters. ``IngestBatch`` does the
/// rest, the same way on both engines.
protocol IngestTransaction {
    associatedtype Statements: SQLStatements

    var statements: Statements { get }

    /// Runs `body` inside a savepoint: kept when it returns, undone when it throws. Writes `body`
    /// sent without waiting have surfaced their errors by the time this returns.
    func inSavepoint(_ body: () throws -> Void) throws
    /// The error is the transaction's (the environment, a conflict with another transaction), to
    /// be retried as a whole, rather than the event's.
    func isTransactions(_ error: any Error) -> Bool
    /// Waits for the writes sent without waiting for their results; an error among them surfaces here.
    func waitForWrites() throws
    /// Adds the batch to the journal's counters; `erased`: some event of it erased a customer.
    func finish(_ outcome: RecordOutcome, lastReceived: Int64?, lastOccurred: Int64?, erased: Bool) throws
}

/// One batch of accepted events recorded in one transaction, on either engine: the events whose
/// ids the journal lacks applied in order by ``RecordApplier`` on the loaded state of
/// ``BatchRecords``, and every changed row written once at the end, the events' journal rows
/// (each with its customer) among them. The journal's unique `event_id` is the idempotency key:
/// an id it holds is counted as a duplicate and has no other effect. (On PostgreSQL the events'
/// ids are among the keys a transaction locks first, so a replica given an event that another
/// is applying waits for it and then finds its row.)
///
/// An event that cannot be applied must leave no trace and go to the dead-letter queue while
/// the rest commit. A savepoint per event would give that, but costs on the path every event
/// takes (SQLite copies every page an event first touches into its statement journal); so a
/// batch first runs without them (`isolatingEvents` false) and throws ``EventFailure`` if an
/// event fails. Its caller rolls back and runs the batch again with a savepoint per event, each
/// event's writes inside its own.
enum IngestBatch {
    /// An event of a batch run without savepoints could not be applied.
    struct EventFailure: Error {}

    struct Outcome {
        var recorded = RecordOutcome()
        /// Some event erased a customer.
        var erased = false
    }

    /// `keys`: the events' (``BatchKeys``), loaded before the first event applies and again after
    /// an erasure drops the loaded state.
    static func record<Transaction: IngestTransaction>(_ events: [AcceptedEvent], keys: BatchKeys, isolatingEvents: Bool,
                                                       applier: RecordApplier, reactor: (any EventReactor)?,
                                                       transaction: Transaction) throws -> Outcome {
        var batch = Outcome()
        let statements = transaction.statements
        let records = BatchRecords(SQLRecordTransaction(statements))
        var checkErasures = try statements.first("SELECT 1 FROM erased_identities LIMIT 1", []) { _ in true } ?? false
        var createdInBatch = Set<CustomerID>()
        var lastReceived: Int64?
        var lastOccurred: Int64?
        // Looked up together, except when each event has a savepoint: then an event's row is
        // written in its savepoint, and a failed event's is undone with its effects.
        var unjournaled = isolatingEvents ? [] : try self.unjournaled(keys.eventIDs, statements: statements)
        for (index, event) in events.enumerated() {
            let envelope = event.envelope
            var applied = false
            var suppressed = false
            var created: CustomerID?
            /// Applies and journals the event, unless the journal (or an earlier event of the batch) has its id.
            func apply() throws {
                let isNew = isolatingEvents ? try !self.unjournaled([envelope.id], statements: statements).isEmpty
                    : unjournaled.remove(envelope.id) != nil
                guard isNew else { return }
                if records.needsLoading { try records.load(keys) }
                let decoded = DecodedEvent(envelope: envelope, payload: event.payload)
                var customer: CustomerID?
                switch try applier.apply(decoded, in: records, checkErasures: checkErasures) {
                case .applied(let id):
                    customer = id
                    try reactor?.react(to: decoded, customer: id, in: records)
                    if let id, records.created.contains(id) { created = id }
                case .suppressed:
                    suppressed = true
                }
                // The payload is not kept when it asks for an erasure or predates one.
                let keepsPayload = !suppressed && envelope.type != .customerErasureRequested
                records.append([.text(envelope.id), .text(envelope.type.rawValue), .of(envelope.occurredAt), .of(envelope.source),
                                .text(event.routingKey), .of(event.receivedAt), .blob(keepsPayload ? event.body : []), .of(customer)],
                               into: journalRows)
                // With a savepoint per event, its writes go before the savepoint is released, so
                // that a failing write is this event's.
                if isolatingEvents { try records.flush() }
                applied = true
            }
            do {
                if isolatingEvents {
                    do {
                        try transaction.inSavepoint(apply)
                    } catch {
                        records.forget()
                        throw error
                    }
                } else {
                    try apply()
                }
            } catch where transaction.isTransactions(error) {
                throw error
            } catch {
                guard isolatingEvents else { throw EventFailure() }
                batch.recorded.failed[index] = Rejection(.unprocessable, field: "data", "could not be applied: \(error)")
                continue
            }
            guard applied else {
                batch.recorded.duplicates += 1
                continue
            }
            if let created, createdInBatch.insert(created).inserted { batch.recorded.created += 1 }
            if suppressed { batch.recorded.suppressed += 1 }
            if envelope.type == .customerErasureRequested {
                checkErasures = true
                batch.erased = true
            }
            batch.recorded.recorded += 1
            lastReceived = max(lastReceived ?? .min, event.receivedAt.microseconds)
            lastOccurred = max(lastOccurred ?? .min, envelope.occurredAt.microseconds)
        }
        do {
            try records.flush()
            try transaction.waitForWrites()
        } catch where transaction.isTransactions(error) {
            throw error
        } catch {
            // A write of some event's failed; which one, only a savepoint per event can tell.
            guard isolatingEvents else { throw EventFailure() }
            throw error
        }
        try transaction.finish(batch.recorded, lastReceived: lastReceived, lastOccurred: lastOccurred, erased: batch.erased)
        return batch
    }

    private static let journalRows = RowInsert(
        head: "INSERT INTO event_journal (event_id, type, occurred_at, source, routing_key, received_at, payload, customer_id)",
        template: numberedParameters(8))

    /// Those of `ids` the journal does not hold, in one statement.
    private static func unjournaled(_ ids: Set<String>, statements: some SQLStatements) throws -> Set<String> {
        let list = try statements.isOneOf("event_id", ids.map(SQLValue.text))
        let journaled = try statements.all("SELECT event_id FROM event_journal WHERE \(list.sql)", [list.parameter]) { $0.text(0) }
        return ids.subtracting(journaled)
    }
}
