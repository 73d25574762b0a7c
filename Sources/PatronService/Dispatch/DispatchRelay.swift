import Logging
import Metrics
import PatronAMQP
import PatronDomain
import ServiceLifecycle

/// Publishes the dispatch outbox to `patron.dispatch` with publisher confirms, one loop per
/// channel so a slow SMS rate never holds email back, and marks jobs published only once the
/// broker confirmed them. While the broker is down jobs wait in the outbox; after a crash between
/// the confirm and the mark, a job goes out again with the same `job_id`, which gateways use to
/// drop the repeat.
public final class DispatchRelay: Service, Sendable {
    private let outbox: any DispatchOutbox
    private let client: AMQPClient
    private let exchange: String
    private let rateLimits: [DispatchChannel: Int]
    private let logger: Logger
    private let idleInterval: Duration
    public static let batchSize = 500

    public init(outbox: any DispatchOutbox, client: AMQPClient, exchange: String, rateLimits: [DispatchChannel: Int], logger: Logger,
         idleInterval: Duration = .milliseconds(200)) {
        self.outbox = outbox
        self.client = client
        self.exchange = exchange
        self.rateLimits = rateLimits
        self.logger = logger
        self.idleInterval = idleInterval
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for channel in DispatchChannel.allCases {
                group.addTask { await self.relay(channel) }
            }
        }
    }

    /// Reads, publishes and marks in a pipeline: while one batch is being marked published, the
    /// next is read and published (the read starts after the last sequence handed to the broker).
    private func relay(_ channel: DispatchChannel) async {
        let rate = rateLimits[channel]
        let published = Counter(label: "patron_dispatch_published_total", dimensions: [("channel", channel.rawValue)])
        var cursor: Int64 = 0
        var marking: Task<Void, any Error>?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            do {
                let batch = try await outbox.pending(channel: channel, readyAt: .now, after: cursor,
                                                     limit: min(Self.batchSize, rate ?? Self.batchSize))
                if batch.isEmpty {
                    try await marking?.value
                    marking = nil
                    // From the start again: a job held for quiet hours may sit before the cursor.
                    cursor = 0
                    try? await cancelWhenGracefulShutdown { [idleInterval] in try await Task.sleep(for: idleInterval) }
                    continue
                }
                try await client.publish(batch.map { job in
                    var properties = AMQPProperties.persistentJSON()
                    properties.messageID = job.jobID
                    properties.type = "dispatch.\(channel.rawValue)"
                    return AMQPOutgoingMessage(exchange: exchange, routingKey: channel.rawValue, properties: properties, body: job.body)
                })
                try await marking?.value
                let (outbox, sequences) = (self.outbox, batch.map(\.sequence))
                marking = Task { try await outbox.markPublished(sequences, at: .now) }
                cursor = batch[batch.count - 1].sequence
                published.increment(by: batch.count)
                // At most `rate` jobs a second: a batch of n takes at least n / rate seconds.
                if let rate {
                    let minimum = Duration.milliseconds(batch.count * 1000 / rate)
                    let elapsed = ContinuousClock.now - started
                    if elapsed < minimum { try? await cancelWhenGracefulShutdown { try await Task.sleep(for: minimum - elapsed) } }
                }
            } catch {
                // Unconfirmed or unmarked jobs are read again from the start: at least once.
                _ = await marking?.result
                marking = nil
                cursor = 0
                logger.warning("dispatch jobs not published yet; retrying", metadata: ["channel": "\(channel.rawValue)", "error": "\(error)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
        _ = await marking?.result
    }
}
