/// An event that passed the envelope rules, with what the transport knew of it.
public struct AcceptedEvent: Sendable {
    public let envelope: Envelope
    public let routingKey: String
    public let receivedAt: Timestamp
    /// The body as received: the journal keeps it so that records can be rebuilt and audited.
    public let body: [UInt8]

    public init(envelope: Envelope, routingKey: String, receivedAt: Timestamp, body: [UInt8]) {
        self.envelope = envelope
        self.routingKey = routingKey
        self.receivedAt = receivedAt
        self.body = body
    }
}

/// How one batch went: events new to the journal, and those already seen (redelivered or
/// republished), which had no effect.
public struct RecordOutcome: Sendable, Equatable {
    public var recorded: Int
    public var duplicates: Int

    public init(recorded: Int = 0, duplicates: Int = 0) {
        self.recorded = recorded
        self.duplicates = duplicates
    }
}

/// Counters the journal keeps for `patronctl status`.
public struct JournalStatus: Sendable, Equatable {
    public var recorded: Int64
    public var duplicates: Int64
    public var lastReceivedAt: Timestamp?
    public var lastOccurredAt: Timestamp?

    public init(recorded: Int64, duplicates: Int64, lastReceivedAt: Timestamp?, lastOccurredAt: Timestamp?) {
        self.recorded = recorded
        self.duplicates = duplicates
        self.lastReceivedAt = lastReceivedAt
        self.lastOccurredAt = lastOccurredAt
    }
}

/// Where accepted events go. One call is one transaction: either every new event of the batch
/// and its effects are committed together with their ids, or nothing is. An id already recorded
/// has no second effect, so a redelivered or republished event is harmless and replicas need no
/// coordination beyond the store.
public protocol EventStore: Sendable {
    func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome
    func journalStatus() async throws -> JournalStatus
}
