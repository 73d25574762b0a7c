import CRabbitMQ
import Glibc

/// What one inbound frame meant, after rabbitmq-c's buffers have been copied out.
enum InboundEvent {
    case delivery(AMQPDelivery)
    case confirm(tag: UInt64, multiple: Bool, acknowledged: Bool)
    case blocked(reason: String)
    case unblocked
    case consumerCancelled(channel: UInt16)
    case other
}

/// One open AMQP connection with its fixed channels.
///
/// Thread-confined and deliberately not `Sendable`: rabbitmq-c connection state must be used from
/// one thread only, so an `AMQPSession` is created, used and destroyed on its client's connection
/// thread. Channel 1 publishes in confirm mode, channel 2 carries management RPCs (declare, get,
/// purge), and channels from 10 up carry one consumer each.
final class AMQPSession {
    static let publishChannel: amqp_channel_t = 1
    static let managementChannel: amqp_channel_t = 2
    static let firstConsumerChannel: amqp_channel_t = 10

    let generation: UInt64
    let socketDescriptor: Int32
    private let state: amqp_connection_state_t
    private var nextPublishTag: UInt64 = 1
    private var isOpen = true

    init(url: AMQPURL, configuration: AMQPClient.Configuration, generation: UInt64) throws {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.library(status: -1, message: "out of memory"), operation: "create connection")
        }
        let descriptor: Int32
        do {
            descriptor = try Self.open(state: state, url: url, configuration: configuration)
        } catch {
            amqp_destroy_connection(state)
            throw error
        }
        self.state = state
        self.generation = generation
        self.socketDescriptor = descriptor
        // From here `self` is fully initialized, so a throw runs `deinit`, which owns the cleanup:
        // destroying the connection here as well would free it twice.
        try login(url: url, configuration: configuration)
        try openChannel(Self.publishChannel)
        _ = amqp_confirm_select(state, Self.publishChannel)
        try check(amqp_get_rpc_reply(state), "confirm.select")
        try openChannel(Self.managementChannel)
    }

    deinit {
        if isOpen { amqp_destroy_connection(state) }
    }

    /// Closes the connection with the close handshake when `graceful`, otherwise drops it.
    func close(graceful: Bool) {
        guard isOpen else { return }
        isOpen = false
        if graceful { _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS) }
        amqp_destroy_connection(state)
    }

    private static func open(state: amqp_connection_state_t, url: AMQPURL,
                             configuration: AMQPClient.Configuration) throws -> Int32 {
        let socket: OpaquePointer?
        if url.useTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else {
                throw AMQPError(.library(status: -1, message: "cannot create TLS socket"), operation: "TLS setup")
            }
            if let caFile = configuration.tls.caFile {
                try checkStatus(amqp_ssl_socket_set_cacert(socket, caFile), "load CA file \(caFile)")
            }
            if let certificate = configuration.tls.certificateFile, let key = configuration.tls.keyFile {
                try checkStatus(amqp_ssl_socket_set_key(socket, certificate, key), "load client certificate")
            }
            amqp_ssl_socket_set_verify_peer(socket, configuration.tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, configuration.tls.verifyHostname ? 1 : 0)
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw AMQPError(.library(status: -1, message: "cannot create socket"), operation: "socket setup")
        }
        var timeout = timeval(duration: configuration.connectTimeout)
        errno = 0
        let opened = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &timeout)
        // rabbitmq-c says only "a socket error occurred"; the system's reason (connection refused,
        // no route to host) is what an operator can act on.
        if opened == AMQP_STATUS_SOCKET_ERROR.rawValue {
            // After a non-blocking connect rabbitmq-c leaves errno at EINPROGRESS, not the reason.
            let known = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT, ECONNRESET, EACCES].contains(errno)
            throw AMQPError(.library(status: opened, message: known ? String(cString: strerror(errno)).lowercased()
                                                                     : "could not connect (refused, or no route to the host)"),
                            operation: "connect to \(url.host):\(url.port)")
        }
        if opened == AMQP_STATUS_TIMEOUT.rawValue {
            throw AMQPError(.library(status: opened, message: "no answer within \(configuration.connectTimeout)"),
                            operation: "connect to \(url.host):\(url.port)")
        }
        try checkStatus(opened, "connect to \(url.host):\(url.port)")
        _ = amqp_set_handshake_timeout(state, &timeout)
        var rpcTimeout = timeval(duration: configuration.rpcTimeout)
        _ = amqp_set_rpc_timeout(state, &rpcTimeout)
        return amqp_socket_get_sockfd(socket)
    }

    private func login(url: AMQPURL, configuration: AMQPClient.Configuration) throws {
        let arena = CArena()
        let capabilities: AMQPTable = [
            "publisher_confirms": .bool(true),
            "connection.blocked": .bool(true),
            "consumer_cancel_notify": .bool(true),
            "basic.nack": .bool(true),
            "authentication_failure_close": .bool(true),
        ]
        var properties = arena.table([
            "product": .string("patron"),
            "connection_name": .string(configuration.connectionName),
            "capabilities": .table(capabilities),
        ])
        let reply = patron_amqp_login_plain(state, url.virtualHost, 0, 131_072,
                                            Int32(configuration.heartbeatSeconds), &properties,
                                            url.user, url.password)
        try check(reply, "login as \(url.user) to vhost \(url.virtualHost)")
    }

    private func openChannel(_ channel: amqp_channel_t) throws {
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), "channel.open \(channel)")
    }

    // MARK: Frames

    /// Whether rabbitmq-c holds bytes or frames that `readEvent` can return without the socket
    /// becoming readable (poll(2) cannot see them).
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    /// Returns the next inbound event if one is ready now, or nil.
    ///
    /// Called at least once a second even when idle: rabbitmq-c sends heartbeats and notices missed
    /// ones only from inside its wait functions.
    func readEvent() throws -> InboundEvent? {
        var frame = amqp_frame_t()
        var noWait = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &noWait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try Self.checkStatus(status, "wait for frame")
        defer { amqp_maybe_release_buffers_on_channel(state, frame.channel) }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return .other }
        let method = frame.payload.method
        switch method.id {
        case patron_method_basic_deliver:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            return .delivery(try readDelivery(channel: frame.channel, tag: deliver.delivery_tag,
                                              redelivered: deliver.redelivered != 0,
                                              exchange: CCopy.string(deliver.exchange),
                                              routingKey: CCopy.string(deliver.routing_key)))
        case patron_method_basic_ack:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .confirm(tag: ack.delivery_tag, multiple: ack.multiple != 0, acknowledged: true)
        case patron_method_basic_nack:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .confirm(tag: nack.delivery_tag, multiple: nack.multiple != 0, acknowledged: false)
        case patron_method_basic_return:
            // Patron publishes without `mandatory`, so a return is unexpected: read and drop it.
            var message = amqp_message_t()
            try check(amqp_read_message(state, frame.channel, &message, 0), "read returned message")
            amqp_destroy_message(&message)
            return .other
        case patron_method_basic_cancel:
            return .consumerCancelled(channel: frame.channel)
        case patron_method_connection_blocked:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .blocked(reason: CCopy.string(blocked.reason))
        case patron_method_connection_unblocked:
            return .unblocked
        case patron_method_channel_close:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(.server(code: close.reply_code, text: CCopy.string(close.reply_text)),
                                  operation: "channel \(frame.channel)")
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, frame.channel, patron_method_channel_close_ok, &ok)
            throw error
        case patron_method_connection_close:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let error = AMQPError(.server(code: close.reply_code, text: CCopy.string(close.reply_text)),
                                  operation: "connection")
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, patron_method_connection_close_ok, &ok)
            throw error
        default:
            return .other
        }
    }

    private func readDelivery(channel: amqp_channel_t, tag: UInt64, redelivered: Bool,
                              exchange: String, routingKey: String) throws -> AMQPDelivery {
        var message = amqp_message_t()
        try check(amqp_read_message(state, channel, &message, 0), "read message")
        defer { amqp_destroy_message(&message) }
        return AMQPDelivery(deliveryTag: tag, redelivered: redelivered, exchange: exchange,
                            routingKey: routingKey, properties: CCopy.properties(message.properties),
                            body: CCopy.bytes(message.body), channel: channel, generation: generation)
    }

    // MARK: Publishing and acknowledging

    /// Publishes on the confirm channel and returns the publish sequence number the broker will
    /// confirm.
    func publish(_ message: AMQPOutgoingMessage) throws -> UInt64 {
        let arena = CArena()
        var properties = arena.properties(message.properties)
        let status = amqp_basic_publish(state, Self.publishChannel, arena.bytes(message.exchange),
                                        arena.bytes(message.routingKey), 0, 0, &properties,
                                        arena.bytes(message.body))
        try Self.checkStatus(status, "publish to \(message.exchange)")
        defer { nextPublishTag += 1 }
        return nextPublishTag
    }

    func acknowledge(channel: UInt16, tag: UInt64, multiple: Bool) throws {
        try Self.checkStatus(amqp_basic_ack(state, channel, tag, multiple ? 1 : 0), "basic.ack")
    }

    func reject(channel: UInt16, tag: UInt64, requeue: Bool) throws {
        try Self.checkStatus(amqp_basic_reject(state, channel, tag, requeue ? 1 : 0), "basic.reject")
    }

    // MARK: Consumers

    func startConsumer(channel: amqp_channel_t, queue: String, prefetch: UInt16, tag: String) throws {
        try openChannel(channel)
        _ = amqp_basic_qos(state, channel, 0, prefetch, 0)
        try check(amqp_get_rpc_reply(state), "basic.qos \(prefetch)")
        let arena = CArena()
        _ = amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(tag), 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "basic.consume \(queue)")
    }

    func cancelConsumer(channel: amqp_channel_t, tag: String) throws {
        let arena = CArena()
        _ = amqp_basic_cancel(state, channel, arena.bytes(tag))
        try check(amqp_get_rpc_reply(state), "basic.cancel \(tag)")
    }

    // MARK: Management (channel 2)

    func declareExchange(_ name: String, type: String, durable: Bool, arguments: AMQPTable) throws {
        try onManagementChannel("exchange.declare \(name)") { arena in
            _ = amqp_exchange_declare(state, Self.managementChannel, arena.bytes(name), arena.bytes(type),
                                      0, durable ? 1 : 0, 0, 0, arena.table(arguments))
        }
    }

    /// Declares a queue (or, with `passive`, checks it exists) and returns its depth.
    func declareQueue(_ name: String, durable: Bool, exclusive: Bool, autoDelete: Bool,
                      arguments: AMQPTable, passive: Bool) throws -> AMQPQueueInfo {
        var info = AMQPQueueInfo(name: name, messageCount: 0, consumerCount: 0)
        try onManagementChannel("queue.declare \(name)") { arena in
            if let ok = amqp_queue_declare(state, Self.managementChannel, arena.bytes(name), passive ? 1 : 0,
                                           durable ? 1 : 0, exclusive ? 1 : 0, autoDelete ? 1 : 0,
                                           arena.table(arguments)) {
                info = AMQPQueueInfo(name: CCopy.string(ok.pointee.queue), messageCount: Int(ok.pointee.message_count),
                                     consumerCount: Int(ok.pointee.consumer_count))
            }
        }
        return info
    }

    func bindQueue(_ queue: String, exchange: String, routingKey: String) throws {
        try onManagementChannel("queue.bind \(queue) to \(exchange)") { arena in
            _ = amqp_queue_bind(state, Self.managementChannel, arena.bytes(queue), arena.bytes(exchange),
                                arena.bytes(routingKey), amqp_empty_table)
        }
    }

    func deleteQueue(_ queue: String) throws {
        try onManagementChannel("queue.delete \(queue)") { arena in
            _ = amqp_queue_delete(state, Self.managementChannel, arena.bytes(queue), 0, 0)
        }
    }

    func deleteExchange(_ exchange: String) throws {
        try onManagementChannel("exchange.delete \(exchange)") { arena in
            _ = amqp_exchange_delete(state, Self.managementChannel, arena.bytes(exchange), 0)
        }
    }

    /// `basic.get` with manual ack on the management channel; nil when the queue is empty.
    func get(from queue: String) throws -> AMQPDelivery? {
        let arena = CArena()
        let reply = amqp_basic_get(state, Self.managementChannel, arena.bytes(queue), 0)
        try recoverManagementChannel(reply, "basic.get \(queue)")
        guard reply.reply.id == patron_method_basic_get_ok else { return nil }
        let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        return try readDelivery(channel: Self.managementChannel, tag: ok.delivery_tag,
                                redelivered: ok.redelivered != 0, exchange: CCopy.string(ok.exchange),
                                routingKey: CCopy.string(ok.routing_key))
    }

    private func onManagementChannel(_ operation: String, _ call: (CArena) -> Void) throws {
        call(CArena())
        try recoverManagementChannel(amqp_get_rpc_reply(state), operation)
    }

    /// A server error on the management channel (a passive declare of a missing queue, a
    /// precondition failure) closes only that channel: acknowledge the close, reopen it and
    /// report the error, so one refused request does not cost the whole connection.
    private func recoverManagementChannel(_ reply: amqp_rpc_reply_t, _ operation: String) throws {
        do {
            try check(reply, operation)
        } catch var error as AMQPError {
            if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION, reply.reply.id == patron_method_channel_close {
                var ok = amqp_channel_close_ok_t(dummy: 0)
                _ = amqp_send_method(state, Self.managementChannel, patron_method_channel_close_ok, &ok)
                try openChannel(Self.managementChannel)
                error.onlyManagementChannelClosed = true
            }
            throw error
        }
    }

    // MARK: Checking replies

    /// The one place an `amqp_rpc_reply_t` is interpreted.
    private func check(_ reply: amqp_rpc_reply_t, _ operation: String,
                       file: String = #fileID, line: Int = #line) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_NONE:
            throw AMQPError(.library(status: -1, message: "missing RPC reply"), operation: operation, file: file, line: line)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw AMQPError(.library(status: reply.library_error, message: String(cString: amqp_error_string2(reply.library_error))),
                            operation: operation, file: file, line: line)
        default:
            if reply.reply.id == patron_method_connection_close {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                var ok = amqp_connection_close_ok_t(dummy: 0)
                _ = amqp_send_method(state, 0, patron_method_connection_close_ok, &ok)
                throw AMQPError(.server(code: close.reply_code, text: CCopy.string(close.reply_text)),
                                operation: operation, file: file, line: line)
            }
            if reply.reply.id == patron_method_channel_close {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw AMQPError(.server(code: close.reply_code, text: CCopy.string(close.reply_text)),
                                operation: operation, file: file, line: line)
            }
            throw AMQPError(.library(status: -1, message: "unexpected server method \(reply.reply.id)"),
                            operation: operation, file: file, line: line)
        }
    }

    static func checkStatus(_ status: Int32, _ operation: String, file: String = #fileID, line: Int = #line) throws {
        guard status < 0 else { return }
        throw AMQPError(.library(status: status, message: String(cString: amqp_error_string2(status))),
                        operation: operation, file: file, line: line)
    }
}

/// What `queue.declare` reports about a queue.
public struct AMQPQueueInfo: Sendable, Equatable {
    public let name: String
    public let messageCount: Int
    public let consumerCount: Int
}

extension timeval {
    init(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
