import CPatronShims
import Logging

/// The connection thread's state: the open session, confirm bookkeeping, consumers, backoff.
///
/// Thread-confined (created and used only on the client's connection thread), so it needs no
/// locks and is not `Sendable`.
final class ConnectionWorker {
    private struct ConfirmGroup {
        var remaining: Int
        var refused = false
        let deadline: ContinuousClock.Instant
        let completion: CheckedContinuation<Void, any Error>
    }

    private unowned let client: AMQPClient
    private(set) var session: AMQPSession?
    private var generation: UInt64 = 0
    private var consumers: [AMQPConsumer] = []
    private var failedAttempts = 0
    private var nextAttempt = ContinuousClock.now
    private var urlIndex = 0
    private var blockedReason: String?

    private var groups: [Int: ConfirmGroup] = [:]
    private var groupOrder: [Int] = []
    private var nextGroupID = 0
    private var tagGroups: [UInt64: Int] = [:]
    private var lowestUnconfirmedTag: UInt64 = 1

    init(client: AMQPClient) {
        self.client = client
    }

    private var logger: Logger { client.logger }
    private var configuration: AMQPClient.Configuration { client.configuration }

    /// One turn of the loop when no mailbox work is waiting: connect, or read frames, or sleep.
    func turn() {
        guard let session else {
            let now = ContinuousClock.now
            if now >= nextAttempt {
                connect()
            } else {
                let wait = min(nextAttempt - now, .seconds(1))
                _ = patron_wakeup_wait(client.wakeDescriptor, -1, Self.milliseconds(wait))
            }
            return
        }
        do {
            var handled = 0
            while handled < 512, let event = try session.readEvent() {
                handled += 1
                try handle(event)
            }
            if handled == 512 || session.hasBufferedInput { return }
            try checkConfirmDeadline()
            // At most a second asleep: rabbitmq-c sends heartbeats, and notices missed ones
            // (AMQP_STATUS_HEARTBEAT_TIMEOUT), only from inside readEvent's wait.
            _ = patron_wakeup_wait(client.wakeDescriptor, session.socketDescriptor, 1000)
        } catch {
            disconnect(because: error)
        }
    }

    /// Runs a call into the session; a failure there means the connection is unusable.
    func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AMQPError where error.onlyManagementChannelClosed {
            throw error
        } catch {
            disconnect(because: error)
            throw error
        }
    }

    func addConsumer(_ consumer: AMQPConsumer) {
        consumers.append(consumer)
        guard let session else { return }
        do {
            try session.startConsumer(channel: consumer.channel, queue: consumer.queue,
                                      prefetch: consumer.prefetch, tag: consumer.tag)
        } catch {
            disconnect(because: error)
        }
    }

    func publish(_ messages: [AMQPOutgoingMessage], completion: CheckedContinuation<Void, any Error>) {
        guard let session else {
            completion.resume(throwing: AMQPError(.notConnected, operation: "publish"))
            return
        }
        if let blockedReason {
            completion.resume(throwing: AMQPError(.library(status: -1, message: "connection blocked by broker: \(blockedReason)"),
                                                  operation: "publish"))
            return
        }
        let groupID = nextGroupID
        nextGroupID += 1
        var sent = 0
        var failure: (any Error)?
        do {
            for message in messages {
                let tag = try session.publish(message)
                tagGroups[tag] = groupID
                sent += 1
            }
        } catch {
            failure = error
        }
        if sent > 0 {
            // Whatever was sent is waited for; if the send failed midway, the disconnect below
            // fails the group with connectionLost.
            groups[groupID] = ConfirmGroup(remaining: sent, deadline: .now + configuration.confirmTimeout, completion: completion)
            groupOrder.append(groupID)
        } else if let failure {
            completion.resume(throwing: failure)
        }
        if let failure { disconnect(because: failure) }
    }

    private func handle(_ event: InboundEvent) throws {
        switch event {
        case .delivery(let delivery):
            if let consumer = consumers.first(where: { $0.channel == delivery.channel }) {
                consumer.push(delivery)
            }
        case .confirm(let tag, let multiple, let acknowledged):
            confirm(tag: tag, multiple: multiple, acknowledged: acknowledged)
        case .blocked(let reason):
            blockedReason = reason
            logger.warning("broker blocked the connection", metadata: ["reason": "\(reason)"])
            client.setState(.blocked(reason: reason))
        case .unblocked:
            blockedReason = nil
            logger.info("broker unblocked the connection")
            client.setState(.connected(url: currentURL.description))
        case .consumerCancelled(let channel):
            throw AMQPError(.server(code: 0, text: "broker cancelled the consumer on channel \(channel)"), operation: "consume")
        case .other:
            break
        }
    }

    private func confirm(tag: UInt64, multiple: Bool, acknowledged: Bool) {
        func settle(_ settledTag: UInt64) {
            guard let groupID = tagGroups.removeValue(forKey: settledTag), var group = groups[groupID] else { return }
            group.remaining -= 1
            if !acknowledged { group.refused = true }
            if group.remaining == 0 {
                groups[groupID] = nil
                if group.refused {
                    group.completion.resume(throwing: AMQPError(.nacked, operation: "publish"))
                } else {
                    group.completion.resume()
                }
            } else {
                groups[groupID] = group
            }
        }
        if multiple {
            var settledTag = lowestUnconfirmedTag
            while settledTag <= tag {
                settle(settledTag)
                settledTag += 1
            }
        } else {
            settle(tag)
        }
        while lowestUnconfirmedTag <= tag, tagGroups[lowestUnconfirmedTag] == nil {
            lowestUnconfirmedTag += 1
        }
    }

    private func checkConfirmDeadline() throws {
        while let first = groupOrder.first, groups[first] == nil { groupOrder.removeFirst() }
        if let first = groupOrder.first, let group = groups[first], group.deadline <= .now {
            throw AMQPError(.confirmTimeout, operation: "publish")
        }
    }

    private var currentURL: AMQPURL { configuration.urls[urlIndex % configuration.urls.count] }

    private func connect() {
        let url = currentURL
        generation += 1
        do {
            let newSession = try AMQPSession(url: url, configuration: configuration, generation: generation)
            do {
                let management = AMQPManagement(session: newSession)
                for hook in client.connectHooks { try hook(management) }
                for consumer in consumers {
                    try newSession.startConsumer(channel: consumer.channel, queue: consumer.queue,
                                                 prefetch: consumer.prefetch, tag: consumer.tag)
                }
            } catch {
                newSession.close(graceful: true)
                throw error
            }
            session = newSession
            client.openGeneration.store(generation, ordering: .relaxed)
            failedAttempts = 0
            blockedReason = nil
            tagGroups.removeAll()
            lowestUnconfirmedTag = 1
            logger.info("connected to broker", metadata: ["url": "\(url)", "generation": "\(generation)"])
            client.setState(.connected(url: url.description))
        } catch {
            urlIndex += 1
            scheduleReconnect(reason: Self.reason(error))
        }
    }

    private func disconnect(because error: any Error) {
        guard session != nil else { return }
        dropSession(graceful: false, failing: AMQPError(.connectionLost, operation: "publish"))
        client.reconnects.increment()
        scheduleReconnect(reason: Self.reason(error))
    }

    /// Closes the session and voids what depended on it: confirms still awaited fail, and
    /// buffered deliveries are dropped, because their tags die with the connection.
    private func dropSession(graceful: Bool, failing error: AMQPError) {
        guard let session else { return }
        session.close(graceful: graceful)
        self.session = nil
        client.openGeneration.store(0, ordering: .relaxed)
        failOutstandingConfirms(with: error)
        for consumer in consumers { consumer.discardDeliveries(before: generation + 1) }
    }

    /// A failure as people read it (logs, `status.get`, patronctl): no source locations.
    private static func reason(_ error: any Error) -> String {
        (error as? AMQPError)?.summary ?? "\(error)"
    }

    private func scheduleReconnect(reason: String) {
        failedAttempts += 1
        let exponent = min(failedAttempts - 1, 16)
        let ceiling = min(configuration.reconnectInitialDelay * (1 << exponent), configuration.reconnectMaximumDelay)
        // Half fixed, half random: replicas that lost the same broker do not return in lockstep.
        let delay = ceiling / 2 + ceiling / 2 * Double.random(in: 0...1)
        nextAttempt = .now + delay
        logger.warning("broker connection unavailable; retrying", metadata: [
            "reason": "\(reason)", "retry_in_ms": "\(Self.milliseconds(delay))", "attempt": "\(failedAttempts)",
        ])
        client.setState(.reconnecting(reason: reason, delay: delay))
    }

    private func failOutstandingConfirms(with error: AMQPError) {
        let pending = groups.values
        groups.removeAll()
        groupOrder.removeAll()
        tagGroups.removeAll()
        for group in pending { group.completion.resume(throwing: error) }
    }

    /// Closes the open connection cleanly and connects again at once (new settings).
    func reconnectNow(reason: String) {
        dropSession(graceful: true, failing: AMQPError(.connectionLost, operation: "publish"))
        failedAttempts = 0
        urlIndex = 0
        nextAttempt = .now
        logger.info("reconnecting", metadata: ["reason": "\(reason)"])
    }

    /// Ends the thread's work: close cleanly, fail what is still waiting, stop the consumers.
    func finish() {
        dropSession(graceful: true, failing: AMQPError(.closed, operation: "publish"))
        for consumer in consumers { consumer.stopWaiting() }
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
