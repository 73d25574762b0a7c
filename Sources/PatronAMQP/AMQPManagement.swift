/// Management requests on an open connection: declares, queue inspection, `basic.get`.
///
/// Only valid inside the closure it is handed to (``AMQPClient/withManagement(_:)`` or an
/// on-connect hook), which runs on the connection thread; hence not `Sendable`.
public struct AMQPManagement {
    let session: AMQPSession

    public func declareExchange(_ name: String, type: String, durable: Bool = true,
                                arguments: AMQPTable = AMQPTable()) throws {
        try session.declareExchange(name, type: type, durable: durable, arguments: arguments)
    }

    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true, exclusive: Bool = false,
                             autoDelete: Bool = false, arguments: AMQPTable = AMQPTable()) throws -> AMQPQueueInfo {
        try session.declareQueue(name, durable: durable, exclusive: exclusive, autoDelete: autoDelete,
                                 arguments: arguments, passive: false)
    }

    /// Depth and consumers of an existing queue; throws a 404 server error if it does not exist.
    public func queueInfo(_ name: String) throws -> AMQPQueueInfo {
        try session.declareQueue(name, durable: false, exclusive: false, autoDelete: false,
                                 arguments: AMQPTable(), passive: true)
    }

    public func bindQueue(_ queue: String, to exchange: String, routingKey: String) throws {
        try session.bindQueue(queue, exchange: exchange, routingKey: routingKey)
    }

    public func deleteQueue(_ queue: String) throws { try session.deleteQueue(queue) }
    public func deleteExchange(_ exchange: String) throws { try session.deleteExchange(exchange) }

    /// Takes one message without acknowledging it. It returns to the queue when rejected with
    /// requeue or when the connection closes; acknowledge it with ``AMQPClient/ack(_:multiple:)``.
    public func get(from queue: String) throws -> AMQPDelivery? { try session.get(from: queue) }

    public func reject(_ delivery: AMQPDelivery, requeue: Bool) throws {
        guard delivery.generation == session.generation else { return }
        try session.reject(channel: delivery.channel, tag: delivery.deliveryTag, requeue: requeue)
    }
}
