import Foundation
import GRDB
import PatronAMQP
import PatronDomain
import PatronService
import PatronStorage
import Testing

extension BrokerBacked {
    /// Dispatch end to end: jobs reach the gateways' queue in the contract's shape; a broker
    /// restart mid-send and a kill -9 between commit and publish lose no job and never give a
    /// customer two job ids.
    @Suite struct Dispatch {
        static func setup(rate: Int? = nil, roles: [String: String] = ["patron": "admin"], databaseURL: String? = nil,
                          postgres: PatronPostgresDatabase? = nil) throws -> TestSetup {
            try TestSetup(roles: roles, extraYAML: """
                dispatch:
                  templates: \(TestSetup.exampleTemplates)
                  hotel: {name: Hotel Donostia, url: https://hotel-donostia.example}
                  unsubscribe_url: https://hotel-donostia.example/baja?token={token}
                  quiet_hours: {from: "00:00", to: "00:00"}
                  rules:
                    booking_confirmation: {when: booking_confirmed, channel: email, template: booking_confirmation, purpose: transactional}
                \(rate.map { "  rate_limits: {email: \($0)}" } ?? "")
                """, databaseURL: databaseURL, postgres: postgres)
        }

        static func setup(_ engine: TestEngine) async throws -> TestSetup {
            guard engine == .postgres else { return try setup() }
            let (url, database) = try await TestSetup.freshPostgres()
            return try setup(databaseURL: url, postgres: database)
        }

        /// `count` opted-in customers C-1…, as profile events published now.
        static func customers(_ count: Int, exchange: String) -> [AMQPOutgoingMessage] {
            (1...count).map { index in
                let body = #"{"id":"p\#(index)","type":"customer.updated","occurred_at":"\#(Timestamp.now.description)","data":{"customer":{"customer_no":"C-\#(index)","first_name":"Guest \#(index)","email":"guest\#(index)@example.com","newsletter":true,"language":"en"}}}"#
                return AMQPOutgoingMessage(exchange: exchange, routingKey: "customer.updated", properties: .persistentJSON(), body: Array(body.utf8))
            }
        }

        static let newsletter: [String: JSONValue] = [
            "channel": .string("email"), "template": .string("newsletter"), "purpose": .string("marketing"), "filter": .object([:]),
        ]

        /// Job ids per customer among the deliveries (a redelivered job repeats its id).
        static func jobIDsByCustomer(_ deliveries: [AMQPDelivery]) throws -> [String: Set<String>] {
            var ids: [String: Set<String>] = [:]
            for delivery in deliveries {
                let job = try JSONValue(parsing: delivery.body)
                let id = try #require(job["job_id"]?.stringValue)
                #expect(delivery.properties.messageID == id && delivery.routingKey == "email")
                ids[job["customer_no"]?.stringValue ?? "", default: []].insert(id)
            }
            return ids
        }

        @Test(arguments: TestEngine.allCases) func aSendAndABookingReachTheGatewaysQueueInTheContractsShape(engine: TestEngine) async throws {
            try await withRunningPatron(try await Self.setup(engine)) { setup, broker, _ in
                try await broker.publish(Self.customers(3, exchange: setup.topology.eventsExchange))
                try await eventually("three customers") { try await setup.journalCount() == 3 }
                try await withCommands(setup) { commands in
                    var preview = Self.newsletter
                    preview["dry_run"] = .bool(true)
                    let counted = try await commands.call("dispatch.send", args: preview)
                    #expect(counted["result"]?["queued"] == .integer(3) && counted["result"]?["dry_run"] == .bool(true), "\(counted)")
                    let sent = try await commands.call("dispatch.send", args: Self.newsletter)
                    #expect(sent["result"]?["queued"] == .integer(3) && sent["result"]?["skipped"]?["no_consent"] == .integer(0), "\(sent)")
                    let unknown = try await commands.call("dispatch.send", args: ["channel": .string("email"), "template": .string("nope"),
                                                                                  "purpose": .string("marketing"), "filter": .object([:])])
                    #expect(unknown["error"]?["field"] == .string("args.template"))
                }
                let queue = setup.topology.dispatchQueue(.email)
                try await eventually("three jobs on \(queue)") { try await broker.queueDepth(queue) == 3 }
                let jobs = try await broker.drain(queue)
                let job = try JSONValue(parsing: jobs[0].body)
                try await withCommands(setup) { commands in
                    try await eventually("the outbox to be marked published") {
                        try await commands.call("status.get")["result"]?["dispatch_unpublished"] == .object(["email": .integer(0), "sms": .integer(0)])
                    }
                }
                #expect(job["template"] == .string("newsletter") && job["purpose"] == .string("marketing") && job["language"] == .string("en"))
                #expect(job["subject"] == .string("News from Hotel Donostia") && job["unsubscribe_url"]?.stringValue?.contains("token=") == true)
                #expect(Timestamp(rfc3339: job["created_at"]?.stringValue ?? "") != nil && jobs[0].properties.contentType == "application/json")

                // A confirmed booking: its confirmation goes out by itself.
                let booking = #"{"id":"bk","type":"booking.created","occurred_at":"\#(Timestamp.now.description)","data":{"customer":{"customer_no":"C-1"},"booking":{"ref":"BK-9","status":"confirmed","hotel":"Hotel Donostia"}}}"#
                try await broker.publish([AMQPOutgoingMessage(exchange: setup.topology.eventsExchange, routingKey: "booking.created",
                                                              properties: .persistentJSON(), body: Array(booking.utf8))])
                try await eventually("the confirmation") { try await broker.queueDepth(queue) == 1 }
                let confirmation = try JSONValue(parsing: try await broker.drain(queue)[0].body)
                #expect(confirmation["template"] == .string("booking_confirmation") && confirmation["to"] == .string("guest1@example.com"))
                #expect(confirmation["subject"] == .string("Your booking BK-9 at Hotel Donostia is confirmed"))

                // The unsubscribe link's token comes back, and the customer is out of the next newsletter.
                let token = try #require(job["unsubscribe_url"]?.stringValue?.components(separatedBy: "token=").last)
                try await withCommands(setup) { commands in
                    let unsubscribed = try await commands.call("dispatch.unsubscribe", args: ["token": .string(token)])
                    let number = try #require(unsubscribed["result"]?["customer_no"]?.stringValue)
                    let record = try await commands.call("customers.get", args: ["customer_no": .string(number)])
                    #expect(record["result"]?["newsletter"] == .bool(false), "\(record)")
                    var again = Self.newsletter
                    again["dry_run"] = .bool(true)
                    // Sent minutes ago: only resend looks past the resend window to consent.
                    again["resend"] = .bool(true)
                    let counted = try await commands.call("dispatch.send", args: again)
                    #expect(counted["result"]?["queued"] == .integer(2) && counted["result"]?["skipped"]?["no_consent"] == .integer(1))
                    let forged = try await commands.call("dispatch.unsubscribe", args: ["token": .string("QzE.0000")])
                    #expect(forged["error"]?["field"] == .string("args.token"))
                }
            }
        }

        /// A copy of the example templates the test may break.
        static func templatesCopy(in directory: URL) throws -> String {
            let copy = directory.appendingPathComponent("templates-\(UUID().uuidString.prefix(6))").path
            try FileManager.default.copyItem(atPath: TestSetup.exampleTemplates, toPath: copy)
            return copy
        }

        @Test func aBrokenTemplateStopsTheStartAndFailsAReloadNamingItsFile() async throws {
            let templates = try Self.templatesCopy(in: FileManager.default.temporaryDirectory)
            defer { try? FileManager.default.removeItem(atPath: templates) }
            let setup = try TestSetup(extraYAML: """
                dispatch:
                  templates: \(templates)
                  unsubscribe_url: https://hotel.example/unsubscribe?token={token}
                """)
            let broken = (templates as NSString).appendingPathComponent("newsletter.en.yaml")
            let original = try String(contentsOfFile: broken, encoding: .utf8)
            try original.replacingOccurrences(of: "{{customer.first_name}}", with: "{{customer.frist_name}}")
                .write(toFile: broken, atomically: true, encoding: .utf8)
            let refused = try ChildPatrond(configurationPath: setup.configurationPath)
            #expect(try await refused.waitForExit() == 78)
            #expect(refused.log.contains("newsletter.en.yaml") && refused.log.contains("customer.frist_name"), "\(refused.log)")

            try original.write(toFile: broken, atomically: true, encoding: .utf8)
            let broker = try await TestBroker()
            let listener = try NotifyListener(directory: setup.directory)
            let child = try ChildPatrond(configurationPath: setup.configurationPath, environment: ["NOTIFY_SOCKET": listener.path],
                                         logName: "patrond-2.log")
            try listener.waitFor("READY=1")
            try "purpose: marketing\nsubject: '{{#customer}}'\ntext: x\n".write(toFile: broken, atomically: true, encoding: .utf8)
            child.send(SIGHUP)
            try listener.waitFor("RELOADING=1")
            let failed = try listener.waitFor("READY=1")
            #expect(failed.contains("reload failed") && failed.contains("newsletter.en.yaml"), "\(failed)")
            // Still sending with the templates it had.
            try await withCommands(setup) { commands in
                var preview = Self.newsletter
                preview["dry_run"] = .bool(true)
                let counted = try await commands.call("dispatch.send", args: preview)
                #expect(counted["ok"] == .bool(true), "\(counted)")
            }
            child.send(SIGTERM)
            #expect(try await child.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }

        /// An outbox in memory whose first mark fails, as a database error would.
        final class OutboxFailingItsFirstMark: DispatchOutbox, @unchecked Sendable {
            // @unchecked: every access goes through `lock`.
            private let lock = NSLock()
            private var jobs: [PendingDispatch]
            private var published: Set<Int64> = []
            private var marks = 0

            init(count: Int) {
                jobs = (1...count).map { PendingDispatch(sequence: Int64($0), jobID: "job-\($0)", channel: .email, body: Array(#"{"n":\#($0)}"#.utf8)) }
            }

            var unpublished: Int { lock.withLock { jobs.count - published.count } }

            func pending(channel: DispatchChannel, readyAt: Timestamp, after sequence: Int64, limit: Int) async throws -> [PendingDispatch] {
                lock.withLock { Array(jobs.filter { $0.channel == channel && $0.sequence > sequence && !published.contains($0.sequence) }.prefix(limit)) }
            }

            func backlog() async throws -> [DispatchChannel: Int] { [.email: unpublished] }

            func markPublished(_ sequences: [Int64], at time: Timestamp) async throws {
                try lock.withLock {
                    marks += 1
                    if marks == 1 { throw HarnessError("disk I/O error") }
                    published.formUnion(sequences)
                }
            }

            func dueTimers(at time: Timestamp, limit: Int) async throws -> [RuleFiring] { [] }
            func earliestTimer() async throws -> Timestamp? { nil }
        }

        @Test func aJobWhoseMarkFailedIsPublishedAgainWithItsId() async throws {
            let setup = try TestSetup()
            let broker = try await TestBroker()
            let exchange = setup.topology.dispatchExchange, queue = setup.topology.dispatchQueue(.email)
            try await broker.client.withManagement { management in
                try management.declareExchange(exchange, type: "topic")
                _ = try management.declareQueue(queue)
                try management.bindQueue(queue, to: exchange, routingKey: "email")
            }
            let outbox = OutboxFailingItsFirstMark(count: 30)
            let relay = DispatchRelay(outbox: outbox, client: broker.client, exchange: exchange, rateLimits: [.email: 10],
                                      logger: TestEnvironment.quietLogger, idleInterval: .milliseconds(20))
            let running = Task { try await relay.run() }
            try await eventually("every job marked published") { outbox.unpublished == 0 }
            running.cancel()
            _ = await running.result
            let ids = try await broker.drain(queue).compactMap(\.properties.messageID)
            #expect(Set(ids) == Set((1...30).map { "job-\($0)" }), "every job arrived")
            #expect(ids.count > 30, "the batch whose mark failed went out again")
            await setup.tearDown(broker)
            await broker.close()
        }

        @Test func aViewerCannotSend() async throws {
            try await withRunningPatron(try Self.setup(roles: ["patron": "viewer"])) { setup, _, _ in
                try await withCommands(setup) { commands in
                    let refused = try await commands.call("dispatch.send", args: Self.newsletter)
                    #expect(refused["error"]?["code"] == .string("forbidden"))
                }
            }
        }

        @Test func aBrokerRestartDuringABulkSendLosesNoJobAndGivesNoCustomerTwoIds() async throws {
            let count = 1_500
            try await withRunningPatron(try Self.setup(rate: 300)) { setup, broker, _ in
                try await broker.publish(Self.customers(count, exchange: setup.topology.eventsExchange))
                try await eventually("the customers") { try await setup.journalCount() == count }
                try await withCommands(setup) { commands in
                    let sent = try await commands.call("dispatch.send", args: Self.newsletter)
                    #expect(sent["result"]?["queued"] == .integer(Int64(count)))
                }
                let queue = setup.topology.dispatchQueue(.email)
                try await eventually("part of the send to be published") { try await broker.queueDepth(queue) >= 200 }
                try TestEnvironment.brokerControl("stop_app")
                let unpublished = try await setup.readOnlyDatabase().read {
                    try Int.fetchOne($0, sql: "SELECT count(*) FROM dispatch_outbox WHERE published_at IS NULL")
                }
                #expect((unpublished ?? 0) > 0, "the restart must land mid-send")
                try await Task.sleep(for: .seconds(2))
                try TestEnvironment.brokerControl("start_app")
                try await eventually("every job after the restart", timeout: .seconds(90)) {
                    (try? await setup.readOnlyDatabase().read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dispatch_outbox WHERE published_at IS NULL") }) == 0
                }
                try await broker.client.waitUntilConnected(timeout: .seconds(30))
                let ids = try Self.jobIDsByCustomer(try await broker.drain(queue))
                #expect(ids.count == count, "every customer's job arrived")
                #expect(ids.values.allSatisfy { $0.count == 1 }, "no customer got two job ids")
            }
        }

        @Test func aKillBetweenCommitAndPublishStillYieldsEveryJobWithItsId() async throws {
            let count = 200
            let setup = try Self.setup(rate: 20)
            let broker = try await TestBroker()
            var child: ChildPatrond? = try ChildPatrond(configurationPath: setup.configurationPath)
            try await eventually("patrond to consume") { (try? await broker.consumerCount(setup.topology.commandsQueue)) == 1 }
            try await broker.publish(Self.customers(count, exchange: setup.topology.eventsExchange))
            try await eventually("the customers") { try await setup.journalCount() == count }
            try await withCommands(setup) { commands in
                let sent = try await commands.call("dispatch.send", args: Self.newsletter)
                #expect(sent["result"]?["queued"] == .integer(Int64(count)))
            }
            let queued = try await setup.readOnlyDatabase().read { try Set(String.fetchAll($0, sql: "SELECT job_id FROM dispatch_outbox")) }
            // At 20 jobs a second most jobs are committed and not yet published when the process dies.
            let queue = setup.topology.dispatchQueue(.email)
            try await eventually("the first jobs") { try await broker.queueDepth(queue) >= 20 }
            child?.send(SIGKILL)
            _ = try await child?.waitForExit()
            let unpublished = try await setup.readOnlyDatabase().read {
                try Int.fetchOne($0, sql: "SELECT count(*) FROM dispatch_outbox WHERE published_at IS NULL")
            }
            #expect((unpublished ?? 0) > 0, "the kill must land between commit and publish")
            child = try ChildPatrond(configurationPath: setup.configurationPath, logName: "patrond-2.log")
            // Jobs published and not yet marked when the process died go out again, with the same
            // id, so the queue's depth can reach the count before every customer's job has: wait
            // for every customer.
            var deliveries: [AMQPDelivery] = []
            try await eventually("every job after the restart", timeout: .seconds(60)) {
                deliveries += try await broker.drain(queue)
                return try Self.jobIDsByCustomer(deliveries).count >= count
            }
            try await Task.sleep(for: .milliseconds(500))
            deliveries += try await broker.drain(queue)
            let ids = try Self.jobIDsByCustomer(deliveries)
            #expect(ids.count == count && ids.values.allSatisfy { $0.count == 1 })
            #expect(Set(ids.values.flatMap { $0 }) == queued, "the ids published are those committed before the kill")
            child?.send(SIGTERM)
            #expect(try await child?.waitForExit() == 0)
            await setup.tearDown(broker)
            await broker.close()
        }
    }
}
