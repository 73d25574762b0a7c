/// An event that passed the envelope rules, with what the transport knew of it.
public struct AcceptedEvent: Sendable {
    public let envelope: Envelope
    public let payload: EventPayload
    public let routingKey: String
    public let receivedAt: Timestamp
    /// The body as received: the journal keeps it so that records can be rebuilt and audited.
    public let body: [UInt8]

    public init(event: DecodedEvent, routingKey: String, receivedAt: Timestamp, body: [UInt8]) {
        self.envelope = event.envelope
        self.payload = event.payload
        self.routingKey = routingKey
        self.receivedAt = receivedAt
        self.body = body
    }
}

/// How one batch went: events new to the journal, those already seen (redelivered or
/// republished), which had no effect, those dropped because they predate an erasure, and those
/// that could not be applied (by their index in the batch), which left no trace and go to the
/// dead-letter queue.
public struct RecordOutcome: Sendable, Equatable {
    public var recorded: Int
    /// Of those recorded, the events that made a customer who was not there before the batch.
    public var created: Int
    public var duplicates: Int
    public var suppressed: Int
    public var failed: [Int: Rejection]

    public init(recorded: Int = 0, created: Int = 0, duplicates: Int = 0, suppressed: Int = 0, failed: [Int: Rejection] = [:]) {
        self.recorded = recorded
        self.created = created
        self.duplicates = duplicates
        self.suppressed = suppressed
        self.failed = failed
    }
}

/// Counters the journal keeps for `patronctl status`.
public struct JournalStatus: Sendable, Equatable {
    public var recorded: Int64
    public var duplicates: Int64
    /// Events dropped because they occurred before an erasure of their identity.
    public var suppressed: Int64
    public var lastReceivedAt: Timestamp?
    public var lastOccurredAt: Timestamp?

    public init(recorded: Int64, duplicates: Int64, suppressed: Int64, lastReceivedAt: Timestamp?, lastOccurredAt: Timestamp?) {
        self.recorded = recorded
        self.duplicates = duplicates
        self.suppressed = suppressed
        self.lastReceivedAt = lastReceivedAt
        self.lastOccurredAt = lastOccurredAt
    }
}

/// Where accepted events go. Each new event's effects are committed together with its id, and
/// the call returns once every event of the batch is committed (in one transaction, or in
/// parts). An id already recorded has no second effect, so a redelivered or republished event is
/// harmless, a batch retried after a failure part way changes nothing twice, and replicas need
/// no coordination beyond the store.
public protocol EventStore: Sendable {
    func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome
    func journalStatus() async throws -> JournalStatus
}

/// An announcement committed with the effects that caused it, waiting to be published.
public struct PendingAnnouncement: Sendable, Equatable {
    public let sequence: Int64
    public let messageID: String
    public let routingKey: String
    public let body: [UInt8]

    public init(sequence: Int64, messageID: String, routingKey: String, body: [UInt8]) {
        self.sequence = sequence
        self.messageID = messageID
        self.routingKey = routingKey
        self.body = body
    }
}

/// The transactional outbox of `patron.notifications`: written in the same transaction as the
/// effects, read and emptied by the relay after the broker confirms.
public protocol AnnouncementOutbox: Sendable {
    /// What to publish next; on PostgreSQL claimed, from `time`, for this caller alone.
    func pending(limit: Int, at time: Timestamp) async throws -> [PendingAnnouncement]
    /// After the broker confirmed them.
    func remove(_ sequences: [Int64]) async throws
}
