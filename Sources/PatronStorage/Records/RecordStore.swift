import PatronDomain

/// The journal and the records as the service uses them, on either engine.
public protocol RecordStore: EventStore {
    /// Records the batch; with `dryRun`, in a transaction that is rolled back, so the outcome
    /// says what it would do (`customers.import` with `dry_run`).
    func record(_ events: [AcceptedEvent], dryRun: Bool) async throws -> RecordOutcome
    /// Runs a change to the records that is not an event (a command's) in one write transaction,
    /// under the same rules; with `rollingBack`, nothing is written (a dry run's counts).
    func change<T: Sendable>(rollingBack: Bool, _ body: @escaping @Sendable (RecordApplier, any DispatchTransaction) throws -> T) async throws -> T
    /// Reads the records on one snapshot of the last commit, off the writer (work that only
    /// reads, such as rendering a message, must not hold up ingest). `body` must not write.
    func read<T: Sendable>(_ body: @escaping @Sendable (any DispatchTransaction) throws -> T) async throws -> T
}

extension RecordStore {
    public func change<T: Sendable>(_ body: @escaping @Sendable (RecordApplier, any DispatchTransaction) throws -> T) async throws -> T {
        try await change(rollingBack: false, body)
    }

    /// Splits a merged-away customer number back out (`customers.unmerge`).
    public func unmerge(customerNo: String, at time: Timestamp) async throws -> (survivor: CustomerRecord, restored: CustomerRecord) {
        try await change { applier, records in try applier.unmerge(customerNo: customerNo, at: time, store: records) }
    }
}
