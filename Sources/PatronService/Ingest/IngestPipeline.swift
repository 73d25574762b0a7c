import AsyncAlgorithms
import Foundation
import Logging
import Metrics
import PatronAMQP
import PatronDomain
import ServiceLifecycle
import Synchronization

/// Consumes `patron.ingest` and turns deliveries into committed effects, batch by batch.
///
/// For each batch: every delivery is decoded; refused ones are published to `patron.dead`
/// (with confirms); accepted ones are recorded in one transaction together with their ids; then
/// one multiple-ack covers the whole batch. Nothing is acknowledged before its effects are
/// committed, and a redelivered id has no second effect, so a crash at any point loses nothing
/// and duplicates nothing.
///
/// Two stages overlap: while one batch commits, the next is decoded. The hand-off holds at most
/// one decoded batch, so memory stays bounded by prefetch and batches commit in delivery order
/// (which the multiple-ack relies on).
///
/// On graceful shutdown it stops taking deliveries, finishes the batches in hand (commit and
/// ack) and returns; deliveries still buffered go back to the queue when the connection closes.
public final class IngestPipeline: Service, Sendable {
    struct Settings: Sendable {
        var batchSize: Int
    }

    private let client: AMQPClient
    private let store: any EventStore
    private let topology: PatronConfiguration.Topology
    private let prefetch: UInt16
    private let settings: Mutex<Settings>
    private let logger: Logger
    private let decoder: EventDecoder

    /// When the batch in hand was taken (nil while waiting for deliveries): the watchdog's view of
    /// whether ingest is stuck.
    private let busySince = Mutex<ContinuousClock.Instant?>(nil)
    private let shuttingDown = Atomic<Bool>(false)
    private let totals = Mutex(Totals())
    private let currentConsumer = Mutex<AMQPConsumer?>(nil)

    public struct Totals: Sendable, Equatable {
        public var accepted = 0
        public var duplicates = 0
        public var rejected = 0
        /// Dropped because they occurred before an erasure of their identity.
        public var suppressed = 0
        public var batches = 0
        /// Time spent decoding and committing, to see whether the two stages overlap.
        public var decoding = Duration.zero
        public var committing = Duration.zero
    }

    private let acceptedCounter = Counter(label: "patron_events_accepted_total")
    private let duplicateCounter = Counter(label: "patron_events_duplicate_total")
    private let suppressedCounter = Counter(label: "patron_events_suppressed_total")
    private let batchSizeRecorder = Recorder(label: "patron_ingest_batch_size", aggregate: true)
    private let commitTimer = Metrics.Timer(label: "patron_ingest_commit_seconds")
    private let eventAgeRecorder = Recorder(label: "patron_ingest_event_age_seconds", aggregate: true)

    public init(client: AMQPClient, store: any EventStore, decoder: EventDecoder, topology: PatronConfiguration.Topology,
                prefetch: UInt16, batchSize: Int, logger: Logger) {
        self.client = client
        self.decoder = decoder
        self.store = store
        self.topology = topology
        self.prefetch = prefetch
        self.settings = Mutex(Settings(batchSize: batchSize))
        self.logger = logger
    }

    public var totalsSnapshot: Totals { totals.withLock { $0 } }

    /// How long the batch in hand has been in processing, or nil when idle.
    public var busyFor: Duration? {
        busySince.withLock { $0 }.map { ContinuousClock.now - $0 }
    }

    public func updateBatchSize(_ size: Int) {
        settings.withLock { $0.batchSize = size }
    }

    /// Takes effect at the next (re)connect.
    public func updatePrefetch(_ value: UInt16) {
        currentConsumer.withLock { $0?.prefetch = value }
    }

    public func run() async throws {
        let consumer = client.consume(queue: topology.ingestQueue, prefetch: prefetch)
        currentConsumer.withLock { $0 = consumer }
        let decoded = AsyncChannel<DecodedBatch>()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { stages in
                stages.addTask {
                    while true {
                        let batch = await consumer.next(limit: self.settings.withLock { $0.batchSize })
                        if batch.isEmpty { break }
                        let started = ContinuousClock.now
                        let prepared = await self.decode(batch)
                        self.totals.withLock { $0.decoding += ContinuousClock.now - started }
                        await decoded.send(prepared)
                    }
                    decoded.finish()
                }
                stages.addTask {
                    for await batch in decoded { await self.apply(batch) }
                }
            }
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .relaxed)
            consumer.stopWaiting()
        }
        logger.info("ingest stopped")
    }

    /// A batch after the envelope rules: what to record, and what to dead-letter.
    struct DecodedBatch: Sendable {
        let deliveries: [AMQPDelivery]
        let accepted: [AcceptedEvent]
        /// The delivery of each accepted event, for dead-lettering one the store could not apply.
        let acceptedDeliveries: [AMQPDelivery]
        let deadLetters: [AMQPOutgoingMessage]
        let rejections: [Rejection.Reason]
        let receivedAt: Timestamp
    }

    /// Decodes a batch, in two halves on two tasks when it is large, so that decoding can use
    /// both cores while the previous batch commits. Order is kept.
    private func decode(_ batch: [AMQPDelivery]) async -> DecodedBatch {
        let receivedAt = Timestamp.now
        let outcomes: [Result<DecodedEvent, Rejection>]
        if batch.count >= 64 {
            let middle = batch.count / 2
            async let firstHalf = decodeEvents(batch[..<middle])
            let secondHalf = decodeEvents(batch[middle...])
            outcomes = await firstHalf + secondHalf
        } else {
            outcomes = decodeEvents(batch[...])
        }
        var accepted: [AcceptedEvent] = []
        var acceptedDeliveries: [AMQPDelivery] = []
        var deadLetters: [AMQPOutgoingMessage] = []
        var rejections: [Rejection.Reason] = []
        accepted.reserveCapacity(batch.count)
        for (delivery, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let event):
                accepted.append(AcceptedEvent(event: event, routingKey: delivery.routingKey,
                                              receivedAt: receivedAt, body: delivery.body))
                acceptedDeliveries.append(delivery)
            case .failure(let rejection):
                rejections.append(rejection.reason)
                deadLetters.append(DeadLetter.message(for: delivery, rejection: rejection,
                                                      deadExchange: topology.deadExchange, at: receivedAt))
                logger.notice("event rejected", metadata: [
                    "field": "\(rejection.field)", "reason": "\(rejection.reason.rawValue)",
                    "routing_key": "\(delivery.routingKey)",
                ])
            }
        }
        return DecodedBatch(deliveries: batch, accepted: accepted, acceptedDeliveries: acceptedDeliveries, deadLetters: deadLetters,
                            rejections: rejections, receivedAt: receivedAt)
    }

    private func decodeEvents(_ deliveries: ArraySlice<AMQPDelivery>) -> [Result<DecodedEvent, Rejection>] {
        deliveries.map { delivery in
            decoder.decode(body: delivery.body, context: MessageContext(
                messageID: delivery.properties.messageID, type: delivery.properties.type,
                routingKey: delivery.routingKey, contentType: delivery.properties.contentType,
                contentEncoding: delivery.properties.contentEncoding))
        }
    }

    /// Dead-letters, commits and acknowledges one batch, retrying while its deliveries are still
    /// ours to acknowledge.
    private func apply(_ batch: DecodedBatch) async {
        busySince.withLock { $0 = .now }
        defer { busySince.withLock { $0 = nil } }
        var deadLetters = batch.deadLetters
        var attempt = 0
        while true {
            do {
                if !deadLetters.isEmpty {
                    try await client.publish(deadLetters)
                    deadLetters.removeAll()
                }
                let started = ContinuousClock.now
                let outcome = try await store.record(batch.accepted)
                let elapsed = ContinuousClock.now - started
                commitTimer.record(duration: elapsed)
                totals.withLock { $0.committing += elapsed }
                if !outcome.failed.isEmpty {
                    // Not journaled, so a redelivery meets the same failure and is dead-lettered again:
                    // nothing is lost if patrond stops between the commit and this publish.
                    try await client.publish(outcome.failed.sorted { $0.key < $1.key }.map { index, rejection in
                        logger.error("event could not be applied", metadata: [
                            "reason": "\(rejection.reason.rawValue)", "event_type": "\(batch.accepted[index].envelope.type.rawValue)",
                        ])
                        return DeadLetter.message(for: batch.acceptedDeliveries[index], rejection: rejection,
                                                  deadExchange: topology.deadExchange, at: batch.receivedAt)
                    })
                }
                try await client.ack(batch.deliveries[batch.deliveries.count - 1], multiple: true)
                account(outcome: outcome, batch: batch)
                return
            } catch {
                attempt += 1
                if !client.isCurrent(batch.deliveries[0]) || shuttingDown.load(ordering: .relaxed) {
                    // The deliveries' connection is gone (the broker will redeliver them) or we are
                    // stopping: leave them unacknowledged. Whatever was committed is idempotent.
                    logger.warning("batch abandoned; the broker will redeliver it", metadata: [
                        "size": "\(batch.deliveries.count)", "error": "\(error)",
                    ])
                    return
                }
                let delay = Duration.milliseconds(min(100 * (1 << min(attempt, 8)), 10_000))
                logger.error("batch failed; retrying", metadata: [
                    "size": "\(batch.deliveries.count)", "attempt": "\(attempt)", "error": "\(error)",
                ])
                try? await Task.sleep(for: delay)
            }
        }
    }

    private func account(outcome: RecordOutcome, batch: DecodedBatch) {
        acceptedCounter.increment(by: outcome.recorded)
        duplicateCounter.increment(by: outcome.duplicates)
        for reason in batch.rejections + outcome.failed.values.map(\.reason) {
            Counter(label: "patron_events_rejected_total", dimensions: [("reason", reason.rawValue)]).increment()
        }
        if outcome.suppressed > 0 { suppressedCounter.increment(by: outcome.suppressed) }
        batchSizeRecorder.record(batch.deliveries.count)
        if let newest = batch.accepted.map(\.envelope.occurredAt).max() {
            eventAgeRecorder.record(Double(batch.receivedAt.microseconds - newest.microseconds) / 1_000_000)
        }
        totals.withLock { totals in
            totals.accepted += outcome.recorded
            totals.duplicates += outcome.duplicates
            totals.rejected += batch.rejections.count + outcome.failed.count
            totals.suppressed += outcome.suppressed
            totals.batches += 1
        }
    }
}

extension Timestamp {
    /// The wall-clock time now. The domain has no clock; the edges read it.
    public static var now: Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }
}
