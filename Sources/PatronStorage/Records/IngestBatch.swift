import PatronDomain

/// What an engine does differently around one batch of events: how it claims the events' ids
/// and journals them, its savepoints, which errors belong to the transaction rather than to an
/// event, and its counters. ``IngestBatch`` does the rest, the same way on both engines.
protocol IngestJournal {
    associatedtype Statements: SQLStatements

    var statements: Statements { get }

    /// Claims those of `events` whose ids the journal does not hold: by event id, what
    /// ``journal(_:claim:customer:suppressed:in:)`` needs later (PostgreSQL: the journal row's
    /// `seq`; SQLite: 0, it writes the row then). An id twice among `events` is claimed once.
    func claim(_ events: [AcceptedEvent]) throws -> [String: Int64]
    /// Journals a claimed event: applied to `customer` (nil: to none), or dropped (`suppressed`)
    /// because it predates an erasure of its identity, in which case its payload is not kept.
    func journal(_ event: AcceptedEvent, claim: Int64, customer: CustomerID?, suppressed: Bool, in records: BatchRecords<Statements>)
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

/// One batch of accepted events recorded in one transaction, on either engine: each event's id
/// claimed before any effect, the events applied in order by ``RecordApplier`` on the loaded
/// state of ``BatchRecords``, every changed row written once at the end.
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
    static func record<Journal: IngestJournal>(_ events: [AcceptedEvent], keys: BatchKeys, isolatingEvents: Bool, applier: RecordApplier,
                                               reactor: (any EventReactor)?, journal: Journal) throws -> Outcome {
        var batch = Outcome()
        let records = BatchRecords(SQLRecordTransaction(journal.statements))
        var checkErasures = try journal.statements.first("SELECT 1 FROM erased_identities LIMIT 1", []) { _ in true } ?? false
        var createdInBatch = Set<CustomerID>()
        var lastReceived: Int64?
        var lastOccurred: Int64?
        // The claims, before any effect: together in one statement, except when each event has a
        // savepoint, which must undo a failed event's claim with its effects.
        var claims = isolatingEvents ? [:] : try journal.claim(events)
        for (index, event) in events.enumerated() {
            let envelope = event.envelope
            var applied = false
            var suppressed = false
            var created: CustomerID?
            /// Claims, applies and journals the event; false when it is a duplicate.
            func claimAndApply() throws {
                let claimed = isolatingEvents ? try journal.claim([event])[envelope.id] : claims.removeValue(forKey: envelope.id)
                guard let claim = claimed else { return }
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
                journal.journal(event, claim: claim, customer: customer, suppressed: suppressed, in: records)
                // With a savepoint per event, its writes go before the savepoint is released, so
                // that a failing write is this event's.
                if isolatingEvents { try records.flush() }
                applied = true
            }
            do {
                if isolatingEvents {
                    do {
                        try journal.inSavepoint(claimAndApply)
                    } catch {
                        records.forget()
                        throw error
                    }
                } else {
                    try claimAndApply()
                }
            } catch where journal.isTransactions(error) {
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
            try journal.waitForWrites()
        } catch where journal.isTransactions(error) {
            throw error
        } catch {
            // A write of some event's failed; which one, only a savepoint per event can tell.
            guard isolatingEvents else { throw EventFailure() }
            throw error
        }
        try journal.finish(batch.recorded, lastReceived: lastReceived, lastOccurred: lastOccurred, erased: batch.erased)
        return batch
    }
}
