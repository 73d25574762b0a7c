import Foundation
import GRDB
import PatronAMQP
import PatronDomain
import PatronService
import PatronStorage
import Testing

extension BrokerBacked {
    @Suite struct Commands {
        /// Runs `body` with a command client talking to the setup's patrond, and closes it after.
        @Test func statusReportsQueuesAndCounts() async throws {
            try await withRunningPatron { setup, broker, patron in
                try await withCommands(setup) { commands in
                    try await broker.publish([event("s-1", exchange: setup.topology.eventsExchange)])
                    try await eventually("the event") { try setup.journalIDs().count == 1 }

                    let reply = try await commands.call("status.get")
                    #expect(reply["ok"] == .bool(true))
                    let result = try #require(reply["result"])
                    #expect(result["journal"]?["events"] == .integer(1))
                    #expect(result["queues"]?["ingest"]?["consumers"] == .integer(1))
                    #expect(result["version"] == .string(Patron.version))
                    #expect(result["journal"]?["last_occurred_at"] == .string("2026-11-20T09:15:00Z"))
                }
            }
        }

        @Test func malformedAndUnknownRequestsGetErrorReplies() async throws {
            try await withRunningPatron { setup, broker, patron in
                try await withCommands(setup) { commands in

                    let unknown = try await commands.call("customers.teleport")
                    #expect(unknown["ok"] == .bool(false))
                    #expect(unknown["error"]?["code"] == .string("invalid_argument"))
                    #expect(unknown["error"]?["field"] == .string("command"))

                    let malformed = try await commands.send(body: Array("{not json".utf8), label: "malformed", timeout: .seconds(10))
                    #expect(malformed["error"]?["code"] == .string("invalid_argument"))
                    #expect(malformed["error"]?["field"] == .string("body"))

                    let badArgument = try await commands.call("dead.list", args: ["limit": .integer(0)])
                    #expect(badArgument["error"]?["field"] == .string("args.limit"))
                    let unknownArgument = try await commands.call("dead.list", args: ["limt": .integer(5)])
                    #expect(unknownArgument["error"]?["field"] == .string("args.limt"))

                }
            }
        }

        @Test func rolesLimitWhatAUserMayDo() async throws {
            try await withRunningPatron(try TestSetup(roles: ["patron": "viewer"])) { setup, broker, patron in
                try await withCommands(setup) { commands in
                    let status = try await commands.call("status.get")
                    let list = try await commands.call("dead.list")
                    let replay = try await commands.call("dead.replay", args: ["all": .bool(true)])
                    #expect(status["ok"] == .bool(true))
                    #expect(list["error"]?["code"] == .string("forbidden"))
                    #expect(replay["error"]?["code"] == .string("forbidden"))
                }
            }
        }

        @Test func unknownUserIsForbidden() async throws {
            try await withRunningPatron(try TestSetup(roles: ["maria": "admin"])) { setup, broker, patron in
                try await withCommands(setup) { commands in
                    let reply = try await commands.call("status.get")
                    #expect(reply["error"]?["code"] == .string("forbidden"))
                    #expect(reply["error"]?["field"] == .string("properties.user_id"))
                }
            }
        }

        @Test func everyAnsweredCommandIsAuditedWithoutItsArguments() async throws {
            try await withRunningPatron(try TestSetup(roles: ["patron": "viewer"])) { setup, broker, patron in
                try await withCommands(setup) { commands in
                    _ = try await commands.call("status.get")
                    _ = try await commands.call("customers.get", args: ["email": .string("secret.person@example.com")])
                    _ = try await commands.call("customers.erase", args: ["email": .string("secret.person@example.com")])
                    _ = try await commands.send(body: Array("{not json".utf8), label: "malformed", timeout: .seconds(10))
                    // A client that sent an address where the command's name goes.
                    let unknown = try await commands.call("secret.person@example.com")
                    #expect(unknown["error"]?["field"] == .string("command"))
                }
                let entries = try SQLiteCommandAudit(beside: try PatronDatabase.open(directory: setup.directory.path)).entries()
                let rows = entries.map { [$0.user ?? "-", $0.command ?? "-", $0.outcome] }
                #expect(rows == [["patron", "status.get", "ok"], ["patron", "customers.get", "not_found"],
                                 ["patron", "customers.erase", "forbidden"], ["patron", "unknown", "invalid_argument"],
                                 ["patron", "unknown", "invalid_argument"]])
                #expect(!entries.map { "\($0.user ?? "")\($0.command ?? "")\($0.outcome)" }.joined().contains("secret"),
                        "no arguments in the audit log")
            }
        }

        /// The command has run by then; a failing audit write is logged, and the client still
        /// gets its answer.
        @Test func commandIsAnsweredWhenTheAuditLogCannotBeWritten() async throws {
            let setup = try TestSetup()
            let audit = try SQLiteCommandAudit(beside: try PatronDatabase.open(directory: setup.directory.path))
            try await DatabaseQueue(path: audit.path).write { db in
                try db.execute(sql: "CREATE TRIGGER refuse_audit BEFORE INSERT ON command_audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
            }
            try await withRunningPatron(setup) { setup, broker, patron in
                try await withCommands(setup) { commands in
                    let reply = try await commands.call("status.get")
                    #expect(reply["ok"] == .bool(true))
                }
            }
        }

        @Test func requestWithoutReplyToIsDeadLetteredWithTheReason() async throws {
            try await withRunningPatron { setup, broker, patron in
                let names = setup.topology
                var properties = AMQPProperties.persistentJSON()
                properties.userID = "patron"
                try await broker.publish([AMQPOutgoingMessage(exchange: names.commandsExchange, routingKey: names.commandsQueue,
                                                              properties: properties, body: Array(#"{"command":"status.get"}"#.utf8))])
                try await eventually("the dead letter") { try await broker.queueDepth(names.deadQueue) == 1 }
                let dead = try await broker.drain(names.deadQueue)
                #expect(dead.first?.properties.headers["x-patron-error-field"] == .string("properties.reply_to"))
            }
        }

        @Test func deadLettersAreListedWithoutLossAndReplayedToTheirOriginalRoute() async throws {
            try await withRunningPatron { setup, broker, patron in
                try await withCommands(setup) { commands in
                    let names = setup.topology
                    try await broker.publish([
                        event("late-1", occurredAt: "not a date", exchange: names.eventsExchange),
                        event("late-2", occurredAt: "not a date", exchange: names.eventsExchange),
                    ])
                    try await eventually("two dead letters") { try await broker.queueDepth(names.deadQueue) == 2 }

                    let listed = try await commands.call("dead.list", args: ["limit": .integer(10)])
                    let messages = try #require(listed["result"]?["messages"]?.arrayValue)
                    #expect(Set(messages.compactMap { $0["event_id"]?.stringValue }) == ["late-1", "late-2"])
                    #expect(messages.allSatisfy { $0["error"]?.stringValue?.hasPrefix("occurred_at:") == true })
                    #expect(listed["result"]?["total"] == .integer(2))
                    #expect(try await broker.queueDepth(names.deadQueue) == 2, "listing leaves them in place")

                    // Watch what a replay publishes on the events exchange.
                    let spy = "\(setup.prefix).spy"
                    try await broker.client.withManagement { management in
                        try management.declareQueue(spy, durable: false, autoDelete: false)
                        try management.bindQueue(spy, to: names.eventsExchange, routingKey: "#")
                    }
                    let replay = try await commands.call("dead.replay", args: ["ids": .array([.string("late-1")])])
                    #expect(replay["result"]?["replayed"] == .integer(1))
                    // late-2 was held while counting; late-1 may already be back after its re-rejection.
                    #expect((replay["result"]?["remaining"]?.intValue ?? 0) >= 1, "\(replay)")
                    try await eventually("the replayed message") { try await broker.queueDepth(spy) == 1 }
                    let replayed = try await broker.drain(spy)
                    #expect(replayed.first?.routingKey == "booking.created")
                    #expect(replayed.first?.properties.headers["x-patron-error"] == nil)
                    // Still invalid, so patrond refuses it again: it is back, and late-2 never left.
                    try await eventually("the re-rejection") { try await broker.queueDepth(names.deadQueue) == 2 }
                    _ = try await broker.client.withManagement { try $0.deleteQueue(spy) }
                }
            }
        }
    }
}

/// Runs `body` with a command client connected as the test broker's user.
func withCommands(_ setup: TestSetup, _ body: (CommandClient) async throws -> Void) async throws {
    let client = AMQPClient(configuration: AMQPClient.Configuration(urls: [try AMQPURL(parsing: try TestEnvironment.amqpURL)], connectionName: "test-commands"),
                            logger: TestEnvironment.quietLogger)
    let commands = CommandClient(client: client, exchange: setup.topology.commandsExchange, routingKey: setup.topology.commandsQueue)
    let runner = Task { try await client.run() }
    defer {
        commands.stop()
        client.shutdown()
        runner.cancel()
    }
    try await client.waitUntilConnected(timeout: .seconds(20))
    commands.start()
    try await body(commands)
}
