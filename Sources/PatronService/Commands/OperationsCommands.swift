import Foundation
import PatronAMQP
import PatronDomain

/// `status.get`, `dead.list` and `dead.replay`: what `patronctl status` and `patronctl dead …`
/// ask. Not in the contract's table; documented in `docs/asyncapi.yaml`.
enum OperationsCommands {
    /// The handlers hold Patron weakly: Patron owns the command server that holds them.
    static func register(on server: CommandServer, patron: Patron) {
        server.register("status.get", CommandHandler(minimumRole: .viewer) { [weak patron] args, _ in
            try args.allowOnly([])
            return try await status(try alive(patron))
        })
        server.register("dead.list", CommandHandler(minimumRole: .operator) { [weak patron] args, _ in
            try args.allowOnly(["limit"])
            let limit = Int(try args.integer("limit", in: 1...1000, default: 50))
            return try await listDead(try alive(patron), limit: limit)
        })
        server.register("dead.replay", CommandHandler(minimumRole: .admin) { [weak patron] args, _ in
            try args.allowOnly(["ids", "all", "limit"])
            let ids = try args.strings("ids")
            let all = try args.bool("all") ?? false
            guard (ids != nil) != all else {
                throw CommandError(.invalidArgument, field: "args.ids", "give either ids (a list of event ids) or all: true")
            }
            let limit = Int(try args.integer("limit", in: 1...10_000, default: 1000))
            return try await replayDead(try alive(patron), ids: ids.map(Set.init), limit: limit)
        })
    }

    private static func alive(_ patron: Patron?) throws -> Patron {
        guard let patron else { throw CommandError(.internal, "patrond is shutting down") }
        return patron
    }

    private static func status(_ patron: Patron) async throws -> JSONValue {
        let journal = try await patron.store.journalStatus()
        let backlog = try await patron.dispatchOutbox.backlog()
        let totals = patron.pipeline.totalsSnapshot
        let topology = patron.configuration.topology
        let queues = try await patron.commandClient.withManagement { broker -> [String: JSONValue] in
            var result: [String: JSONValue] = [:]
            for (label, name) in topology.watchedQueues {
                let info = try broker.queueInfo(name)
                result[label] = .object(["name": .string(name), "messages": .integer(Int64(info.messageCount)),
                                         "consumers": .integer(Int64(info.consumerCount))])
            }
            return result
        }
        return .object([
            "version": .string(Patron.version),
            "started_at": .string(patron.startedAt.description),
            "broker": .string(describe(patron.ingestClient.state)),
            "queues": .object(JSONObject(queues)),
            "since_start": .object([
                "accepted": .integer(Int64(totals.accepted)), "duplicates": .integer(Int64(totals.duplicates)),
                "rejected": .integer(Int64(totals.rejected)), "suppressed": .integer(Int64(totals.suppressed)),
            ]),
            "dispatch_unpublished": .object(JSONObject(Dictionary(uniqueKeysWithValues: DispatchChannel.allCases.map {
                ($0.rawValue, JSONValue.integer(Int64(backlog[$0] ?? 0)))
            }))),
            "journal": .object([
                "events": .integer(journal.recorded), "duplicates": .integer(journal.duplicates), "suppressed": .integer(journal.suppressed),
                "last_received_at": journal.lastReceivedAt.map { .string($0.description) } ?? .null,
                "last_occurred_at": journal.lastOccurredAt.map { .string($0.description) } ?? .null,
            ]),
        ])
    }

    static func describe(_ state: AMQPClient.ConnectionState) -> String {
        switch state {
        case .idle: return "starting"
        case .connected(let url): return "connected to \(url)"
        case .blocked(let reason): return "blocked by broker (\(reason))"
        case .reconnecting(let reason, _): return "reconnecting (\(reason))"
        case .closed: return "closed"
        }
    }

    /// Looks at dead letters without removing them: each is taken and put back (requeued).
    private static func listDead(_ patron: Patron, limit: Int) async throws -> JSONValue {
        let queue = patron.configuration.topology.deadQueue
        let (items, depth) = try await patron.commandClient.withManagement { broker -> ([JSONValue], Int) in
            var taken: [AMQPDelivery] = []
            defer { for delivery in taken { try? broker.reject(delivery, requeue: true) } }
            while taken.count < limit, let delivery = try broker.get(from: queue) {
                taken.append(delivery)
            }
            return (taken.map(summary), try heldPlusReady(broker, queue, held: taken.count))
        }
        return .object(["messages": .array(items), "total": .integer(Int64(depth))])
    }

    /// A queue's depth while we hold `held` of its messages unacknowledged: the broker counts only
    /// ready messages, and a requeue is applied asynchronously, so the count must be taken before
    /// putting them back, with the held ones added.
    private static func heldPlusReady(_ broker: AMQPManagement, _ queue: String, held: Int) throws -> Int {
        held + (try broker.queueInfo(queue).messageCount)
    }

    private static func summary(_ delivery: AMQPDelivery) -> JSONValue {
        func header(_ name: String) -> String? {
            if case .string(let text)? = delivery.properties.headers[name] { return text }
            return nil
        }
        func json(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        let body = String(validating: delivery.body, as: UTF8.self) ?? "(\(delivery.body.count) bytes, not UTF-8)"
        return .object([
            "event_id": json(eventID(delivery)),
            "routing_key": .string(header(DeadLetter.originalRoutingKeyHeader) ?? delivery.routingKey),
            // A message the broker dead-lettered itself (delivery limit) has no Patron reason.
            "error": json(header(DeadLetter.errorHeader) ?? header("x-first-death-reason")),
            "rejected_at": json(header("x-patron-rejected-at")),
            "body": .string(body),
        ])
    }

    /// The event id a publisher would recognise: the body's `id`, else AMQP `message_id`.
    static func eventID(_ delivery: AMQPDelivery) -> String? {
        if case .object(let object)? = try? JSONValue(parsing: delivery.body), let id = object["id"]?.stringValue {
            return id
        }
        return delivery.properties.messageID
    }

    /// Republishes dead letters to the events exchange and removes them from `patron.dead` only
    /// once the broker confirmed the republish; the rest go back untouched.
    private static func replayDead(_ patron: Patron, ids: Set<String>?, limit: Int) async throws -> JSONValue {
        let topology = patron.configuration.topology
        let client = patron.commandClient
        let (chosen, others) = try await client.withManagement { broker -> ([AMQPDelivery], [AMQPDelivery]) in
            var chosen: [AMQPDelivery] = []
            var others: [AMQPDelivery] = []
            while chosen.count < limit, let delivery = try broker.get(from: topology.deadQueue) {
                if let ids, !(eventID(delivery).map(ids.contains) ?? false) {
                    others.append(delivery)
                } else {
                    chosen.append(delivery)
                }
            }
            return (chosen, others)
        }
        do {
            try await client.publish(chosen.map { DeadLetter.replay($0, eventsExchange: topology.eventsExchange) })
            for delivery in chosen { try await client.ack(delivery) }
        } catch {
            _ = try? await client.withManagement { broker in
                for delivery in chosen + others { try broker.reject(delivery, requeue: true) }
            }
            throw error
        }
        let remaining = try await client.withManagement { broker -> Int in
            let remaining = try heldPlusReady(broker, topology.deadQueue, held: others.count)
            for delivery in others { try broker.reject(delivery, requeue: true) }
            return remaining
        }
        return .object(["replayed": .integer(Int64(chosen.count)), "remaining": .integer(Int64(remaining))])
    }
}
