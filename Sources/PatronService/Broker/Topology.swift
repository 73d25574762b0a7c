import PatronAMQP
import PatronDomain

/// Declares the contract's broker objects (EVENTS.md, "Broker objects"). Runs on every
/// (re)connect: declarations are idempotent, and a broker that lost its definitions gets them back.
public enum Topology {
    public static func declare(_ names: PatronConfiguration.Topology, on broker: AMQPManagement) throws {
        try broker.declareExchange(names.eventsExchange, type: "topic")
        try broker.declareExchange(names.deadExchange, type: "fanout")
        try broker.declareQueue(names.deadQueue, arguments: queueType(names.deadQueueType))
        try broker.bindQueue(names.deadQueue, to: names.deadExchange, routingKey: "")

        var ingestArguments: AMQPTable = [
            "x-queue-type": .string(names.ingestQueueType),
            "x-dead-letter-exchange": .string(names.deadExchange),
        ]
        if names.ingestQueueType == "quorum" {
            ingestArguments["x-delivery-limit"] = .int(Int64(names.deliveryLimit))
        }
        try broker.declareQueue(names.ingestQueue, arguments: ingestArguments)
        try broker.bindQueue(names.ingestQueue, to: names.eventsExchange, routingKey: "#")

        try broker.declareExchange(names.commandsExchange, type: "direct")
        try broker.declareQueue(names.commandsQueue, arguments: queueType(names.commandsQueueType))
        try broker.bindQueue(names.commandsQueue, to: names.commandsExchange, routingKey: names.commandsQueue)

        try broker.declareExchange(names.dispatchExchange, type: "topic")
        if names.dispatchQueues {
            for channel in DispatchChannel.allCases {
                try broker.declareQueue(names.dispatchQueue(channel), arguments: ["x-queue-type": .string(names.ingestQueueType)])
                try broker.bindQueue(names.dispatchQueue(channel), to: names.dispatchExchange, routingKey: channel.rawValue)
            }
        }
        try broker.declareExchange(names.notificationsExchange, type: "topic")
    }

    /// Classic queues are declared without the argument, as they were before it could be set:
    /// the broker compares a redeclaration's arguments with those the queue was made with.
    private static func queueType(_ type: String) -> AMQPTable {
        type == "classic" ? AMQPTable() : ["x-queue-type": .string(type)]
    }
}
