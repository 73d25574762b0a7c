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
final class DispatchRelay: Service, Sendable {
    private let outbox: any DispatchOutbox
    private let client: AMQPClient
    private let exchange: String
    private let rateLimits: [DispatchChannel: Int]
    private let logger: Logger
    private let idleInterval: Duration
    static let batchSize = 500

    init(outbox: any DispatchOutbox, client: AMQPClient, exchange: String, rateLimits: [DispatchChannel: Int], logger: Logger,
         idleInterval: Duration = .milliseconds(200)) {
        self.outbox = outbox
        self.client = client
        self.exchange = exchange
        self.rateLimits = rateLimits
        self.logger = logger
        self.idleInterval = idleInterval
    }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for channel in DispatchChannel.allCases {
                group.addTask { await self.relay(channel) }
            }
        }
    }

    private func relay(_ channel: DispatchChannel) async {
        let rate = rateLimits[channel]
        let published = Counter(label: "patron_dispatch_published_total", dimensions: [("channel", channel.rawValue)])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            do {
                let batch = try await outbox.pending(channel: channel, readyAt: .now, limit: min(Self.batchSize, rate ?? Self.batchSize))
                if batch.isEmpty {
                    try? await cancelWhenGracefulShutdown { [idleInterval] in try await Task.sleep(for: idleInterval) }
                    continue
                }
                try await client.publish(batch.map { job in
                    var properties = AMQPProperties.persistentJSON()
                    properties.messageID = job.jobID
                    properties.type = "dispatch.\(channel.rawValue)"
                    return AMQPOutgoingMessage(exchange: exchange, routingKey: channel.rawValue, properties: properties, body: job.body)
                })
                try await outbox.markPublished(batch.map(\.sequence), at: .now)
                published.increment(by: batch.count)
                // At most `rate` jobs a second: a batch of n takes at least n / rate seconds.
                if let rate {
                    let minimum = Duration.milliseconds(batch.count * 1000 / rate)
                    let elapsed = ContinuousClock.now - started
                    if elapsed < minimum { try? await cancelWhenGracefulShutdown { try await Task.sleep(for: minimum - elapsed) } }
                }
            } catch {
                logger.warning("dispatch jobs not published yet; retrying", metadata: ["channel": "\(channel.rawValue)", "error": "\(error)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }
}
