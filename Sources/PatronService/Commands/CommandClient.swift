import Foundation
import PatronAMQP
import PatronDomain
import Synchronization

/// Asks patrond a command over the broker and waits for the reply, as `patronctl` does.
///
/// Replies come back on a private, exclusive queue declared on every (re)connect. `user_id` is
/// set to the connection's user: the broker refuses anything else, which is what makes roles
/// trustworthy.
public final class CommandClient: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case timeout(command: String, after: Duration)
        case malformedReply(String)

        public var description: String {
            switch self {
            case .timeout(let command, let after): return "patrond did not answer \(command) within \(after)"
            case .malformedReply(let why): return "malformed reply: \(why)"
            }
        }
    }

    private let client: AMQPClient
    private let exchange: String
    private let routingKey: String
    private let user: String
    private let replyQueue: String
    private let pending = Mutex<[String: CheckedContinuation<JSONValue, any Error>]>([:])
    private let reader = Mutex<Task<Void, Never>?>(nil)

    /// - Parameter client: a client not yet running; this object registers its reply queue on it.
    public init(client: AMQPClient, exchange: String, routingKey: String) {
        self.client = client
        self.exchange = exchange
        self.routingKey = routingKey
        self.user = client.configuration.urls[0].user
        let queue = "patron.reply.\(UUID().uuidString.lowercased())"
        self.replyQueue = queue
        client.onConnect { broker in
            try broker.declareQueue(queue, durable: false, exclusive: true, autoDelete: true)
        }
    }

    /// Starts reading replies. Call once, after the client runs.
    public func start() {
        let consumer = client.consume(queue: replyQueue, prefetch: 100)
        let task = Task { [self] in
            while !Task.isCancelled {
                let batch = await consumer.next(limit: 100)
                if batch.isEmpty { return }
                for delivery in batch {
                    _ = try? await self.client.ack(delivery)
                    guard let id = delivery.properties.correlationID,
                          let continuation = self.pending.withLock({ $0.removeValue(forKey: id) }) else { continue }
                    do {
                        continuation.resume(returning: try JSONValue(parsing: delivery.body))
                    } catch {
                        continuation.resume(throwing: Failure.malformedReply("\(error)"))
                    }
                }
            }
        }
        reader.withLock { $0 = task }
    }

    public func stop() {
        reader.withLock { $0?.cancel() }
    }

    /// Sends `{ "command", "args" }` and returns the reply object (`ok` + `result` or `error`).
    ///
    /// - Parameter messageID: the request's `message_id` (patrond's request id: a repeat with
    ///   the same id is the same request, and progress reports carry it).
    public func call(_ command: String, args: [String: JSONValue] = [:], timeout: Duration = .seconds(10),
                     messageID: String? = nil) async throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(JSONValue.object(["command": .string(command), "args": .object(JSONObject(args))]))
        return try await send(body: Array(body), label: command, timeout: timeout, messageID: messageID)
    }

    /// Sends a raw body (tests use it for malformed requests).
    public func send(body: [UInt8], label: String, timeout: Duration, userID: String? = nil, messageID: String? = nil) async throws -> JSONValue {
        let correlationID = UUID().uuidString
        var properties = AMQPProperties(contentType: "application/json", correlationID: correlationID,
                                        replyTo: replyQueue, userID: userID ?? user)
        properties.deliveryMode = 2
        properties.messageID = messageID
        let message = AMQPOutgoingMessage(exchange: exchange, routingKey: routingKey, properties: properties, body: body)
        let timeoutTask = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.fail(correlationID, Failure.timeout(command: label, after: timeout))
        }
        defer { timeoutTask.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            pending.withLock { $0[correlationID] = continuation }
            Task {
                do { try await self.client.publish(message) } catch { self.fail(correlationID, error) }
            }
        }
    }

    private func fail(_ correlationID: String, _ error: any Error) {
        pending.withLock { $0.removeValue(forKey: correlationID) }?.resume(throwing: error)
    }
}
