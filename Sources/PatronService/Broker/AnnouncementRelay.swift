import Logging
import PatronAMQP
import PatronDomain
import ServiceLifecycle

/// Publishes the outbox to `patron.notifications` with confirms, then empties what was
/// confirmed. At least once: after a crash between the confirm and the delete, or with several
/// replicas, an announcement may go out twice with the same `message_id`.
final class AnnouncementRelay: Service, Sendable {
    private let outbox: any AnnouncementOutbox
    private let client: AMQPClient
    private let exchange: String
    private let logger: Logger
    private let idleInterval: Duration

    init(outbox: any AnnouncementOutbox, client: AMQPClient, exchange: String, logger: Logger,
         idleInterval: Duration = .milliseconds(250)) {
        self.outbox = outbox
        self.client = client
        self.exchange = exchange
        self.logger = logger
        self.idleInterval = idleInterval
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let batch = try await outbox.pending(limit: 200, at: .now)
                if batch.isEmpty {
                    try? await Task.sleep(for: idleInterval)
                    continue
                }
                try await client.publish(batch.map { announcement in
                    var properties = AMQPProperties.persistentJSON()
                    properties.messageID = announcement.messageID
                    properties.type = announcement.routingKey
                    return AMQPOutgoingMessage(exchange: exchange, routingKey: announcement.routingKey,
                                               properties: properties, body: announcement.body)
                })
                try await outbox.remove(batch.map(\.sequence))
            } catch {
                logger.warning("announcements not published yet; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
