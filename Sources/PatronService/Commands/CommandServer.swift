import Foundation
import Logging
import Metrics
import PatronAMQP
import PatronDomain
import ServiceLifecycle
import Synchronization

/// Who asked, as the broker vouches for it (`user_id` must match the connection's user).
public struct CommandContext: Sendable {
    public let user: String
    public let role: PatronConfiguration.Role
    /// The request's `message_id`, else its `correlation_id`: what makes a redelivered request
    /// the same trigger (dispatch job ids derive from it).
    public let requestID: String
}

/// One command: the least role allowed to run it, and what it does.
public struct CommandHandler: Sendable {
    public let minimumRole: PatronConfiguration.Role
    public let run: @Sendable (CommandArguments, CommandContext) async throws -> JSONValue

    public init(minimumRole: PatronConfiguration.Role,
                run: @escaping @Sendable (CommandArguments, CommandContext) async throws -> JSONValue) {
        self.minimumRole = minimumRole
        self.run = run
    }
}

/// Serves request/reply commands on `patron.commands` (EVENTS.md, "Commands").
///
/// Every request gets a reply on its `reply_to` with its `correlation_id`, also a malformed one;
/// a request without `reply_to` cannot be answered and goes to `patron.dead` with the reason.
/// Each answered command is recorded in the audit log (``CommandAudit``) and logged (user,
/// command, outcome), never with its arguments, which may hold personal data. A command name is
/// written to the log, the audit and metric labels only when it is a registered one; anything
/// else is `unknown`, so a client that puts an email address where the name goes leaves no
/// personal data in the journal and cannot grow the metrics' label values without bound.
public final class CommandServer: Service, Sendable {
    private let client: AMQPClient
    private let queue: String
    private let deadExchange: String
    private let roles: Mutex<[String: PatronConfiguration.Role]>
    private let handlers: Mutex<[String: CommandHandler]>
    private let audit: any CommandAudit
    private let logger: Logger

    public init(client: AMQPClient, queue: String, deadExchange: String,
                roles: [String: PatronConfiguration.Role], audit: any CommandAudit, logger: Logger) {
        self.audit = audit
        self.client = client
        self.queue = queue
        self.deadExchange = deadExchange
        self.roles = Mutex(roles)
        self.handlers = Mutex([:])
        self.logger = logger
    }

    public func register(_ name: String, _ handler: CommandHandler) {
        handlers.withLock { $0[name] = handler }
    }

    public func updateRoles(_ newRoles: [String: PatronConfiguration.Role]) {
        roles.withLock { $0 = newRoles }
    }

    public func run() async throws {
        let consumer = client.consume(queue: queue, prefetch: 32)
        await withGracefulShutdownHandler {
            while true {
                let batch = await consumer.next(limit: 32)
                if batch.isEmpty { break }
                for delivery in batch { await serve(delivery) }
            }
        } onGracefulShutdown: {
            consumer.stopWaiting()
        }
    }

    private func serve(_ delivery: AMQPDelivery) async {
        guard let replyTo = delivery.properties.replyTo, !replyTo.isEmpty else {
            let rejection = Rejection(.missingField, field: "properties.reply_to", "required: a command without reply_to cannot be answered")
            let dead = DeadLetter.message(for: delivery, rejection: rejection, deadExchange: deadExchange, at: .now)
            do {
                try await client.publish(dead)
                try await client.ack(delivery)
            } catch {
                logger.warning("could not dead-letter a command without reply_to", metadata: ["error": "\(error)"])
            }
            return
        }
        let started = ContinuousClock.now
        let (command, reply) = await answer(delivery)
        let outcome = reply["ok"]?.boolValue == true ? "ok" : (reply["error"]?["code"]?.stringValue ?? "error")
        // Audited before it is answered: what a client saw done is on record. A request whose
        // reply fails is redelivered, runs again and is recorded again.
        do {
            try await audit.record(CommandAuditEntry(at: .now, user: delivery.properties.userID, command: command ?? Self.unknownCommand,
                                                     outcome: outcome))
        } catch {
            logger.error("could not write the command audit log", metadata: ["error": "\(error)"])
        }
        var properties = AMQPProperties(contentType: "application/json", correlationID: delivery.properties.correlationID)
        properties.deliveryMode = 1
        let body = Self.encode(reply)
        do {
            try await client.publish(AMQPOutgoingMessage(exchange: "", routingKey: replyTo, properties: properties, body: body))
            try await client.ack(delivery)
        } catch {
            logger.warning("could not send a command reply; the request will be redelivered", metadata: ["error": "\(error)"])
            return
        }
        Metrics.Timer(label: "patron_command_seconds", dimensions: [("command", command ?? Self.unknownCommand)])
            .record(duration: ContinuousClock.now - started)
        logger.info("command", metadata: [
            "user": "\(delivery.properties.userID ?? "-")", "command": "\(command ?? Self.unknownCommand)", "outcome": "\(outcome)",
        ])
    }

    /// What stands for a command name that is not a registered one, or no name at all.
    static let unknownCommand = "unknown"

    /// The reply, and the command's name when it is a registered one.
    private func answer(_ delivery: AMQPDelivery) async -> (String?, JSONValue) {
        let knownRoles = roles.withLock { $0 }
        guard let user = delivery.properties.userID, let role = knownRoles[user] else {
            return (nil, Self.failure(CommandError(.forbidden, field: "properties.user_id", "unknown user; set user_id to the connection's user and grant it a role")))
        }
        let request: CommandRequest
        switch CommandRequest.parse(delivery.body) {
        case .success(let parsed): request = parsed
        case .failure(let error): return (nil, Self.failure(error))
        }
        guard let handler = handlers.withLock({ $0[request.command] }) else {
            return (nil, Self.failure(CommandError(.invalidArgument, field: "command", "unknown command '\(request.command.prefix(64))'")))
        }
        guard role >= handler.minimumRole else {
            return (request.command, Self.failure(CommandError(.forbidden, "\(request.command) needs role \(handler.minimumRole.rawValue); \(user) is \(role.rawValue)")))
        }
        do {
            let result = try await handler.run(CommandArguments(request.args), CommandContext(user: user, role: role, requestID: Self.requestID(delivery)))
            return (request.command, .object(["ok": .bool(true), "result": result]))
        } catch let error as CommandError {
            return (request.command, Self.failure(error))
        } catch {
            logger.error("command failed", metadata: ["command": "\(request.command)", "error": "\(error)"])
            return (request.command, Self.failure(CommandError(.internal, "internal error; see patrond's log")))
        }
    }

    private static func requestID(_ delivery: AMQPDelivery) -> String {
        if let id = delivery.properties.messageID, !id.isEmpty { return String(id.prefix(128)) }
        if let id = delivery.properties.correlationID, !id.isEmpty { return String(id.prefix(128)) }
        return UUID().uuidString.lowercased()
    }

    private static func failure(_ error: CommandError) -> JSONValue {
        .object(["ok": .bool(false), "error": .object([
            "code": .string(error.code.rawValue), "field": error.field.map(JSONValue.string) ?? .null,
            "message": .string(error.message),
        ])])
    }

    static func encode(_ value: JSONValue) -> [UInt8] {
        Array((try? JSONOutput.encode(value)) ?? Data(#"{"ok":false,"error":{"code":"internal","field":null,"message":"unencodable result"}}"#.utf8))
    }
}
