import Foundation
import PatronAMQP
import PatronDomain
@testable import PatronStorage
import Testing

extension BrokerBacked {
    /// Three patrond processes on the three-node test cluster (scripts/cluster) and one
    /// PostgreSQL database: one replica is killed with SIGKILL and one broker node stopped while
    /// the stream arrives, and the records still end as one Patron builds them from the same
    /// events.
    @Suite struct Cluster {
        /// A stream of `customers` people: each known by number, email and mobile, with a
        /// booking (a quarter cancelled), some payments, and every fifth with a visitor's cart
        /// under another email that a later profile change bridges to the mobile (a merge). Each
        /// event has its own time; the stream comes shuffled, with a tenth of it sent twice.
        struct Stream {
            let messages: [(id: String, type: String, body: String)]
            let customers: Int

            init(customers: Int) {
                self.customers = customers
                var messages: [(String, String, String)] = []
                var second = 0
                func add(_ id: String, _ type: String, _ data: String) {
                    second += 1
                    let time = Timestamp(microseconds: Timestamp(rfc3339: "2026-11-20T08:00:00Z")!.microseconds + Int64(second) * 1_000_000)
                    messages.append((id, type, #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(time)","source":"test","data":\#(data)}"#))
                }
                for k in 1...customers {
                    let mobile = String(format: "6%08d", k)
                    add("u\(k)", "customer.updated",
                        #"{"customer":{"customer_no":"C-\#(k)","first_name":"Guest","last_name":"Number \#(k)","email":"guest\#(k)@example.com","mobile":"\#(mobile)"}}"#)
                    add("b\(k)", "booking.created", #"{"customer":{"customer_no":"C-\#(k)"},"booking":{"ref":"BK-\#(k)","status":"confirmed","amount":"\#(k).50"}}"#)
                    if k.isMultiple(of: 4) { add("x\(k)", "booking.cancelled", #"{"booking":{"ref":"BK-\#(k)"}}"#) }
                    if k.isMultiple(of: 7) {
                        add("p\(k)", "payment.recorded", #"{"payment":{"reference":"PAY-\#(k)","booking_ref":"BK-\#(k)","amount":"\#(k).50","method":"card"}}"#)
                    }
                    if k.isMultiple(of: 5) {
                        add("v\(k)", "cart.updated", #"{"customer":{"email":"visitor\#(k)@example.com"},"cart":{"id":"K-\#(k)","status":"abandoned"}}"#)
                        add("m\(k)", "customer.updated", #"{"customer":{"email":"visitor\#(k)@example.com","mobile":"+34 \#(mobile)"}}"#)
                    }
                }
                self.messages = messages
            }

            /// Shuffled, with every tenth message again somewhere later.
            func delivery(exchange: String) -> [AMQPOutgoingMessage] {
                var order = messages.shuffled()
                for index in stride(from: 0, to: messages.count, by: 10) {
                    order.insert(order[index], at: Int.random(in: index...order.count))
                }
                return order.map { message in
                    var properties = AMQPProperties.persistentJSON()
                    properties.messageID = message.id
                    return AMQPOutgoingMessage(exchange: exchange, routingKey: message.type, properties: properties, body: Array(message.body.utf8))
                }
            }

            /// Confirmed bookings not cancelled, in minor units: what the spend totals must add to.
            var revenueMinor: Int64 {
                (1...customers).filter { !$0.isMultiple(of: 4) }.reduce(0) { $0 + Int64($1 * 100 + 50) }
            }
        }

        /// The live records, one line each, without ids or generated numbers: what two builds
        /// of the same events must agree on.
        static let canonicalRecords = """
            SELECT CASE WHEN number_assigned = 1 THEN 'P-*' ELSE customer_no END || '|' || coalesce(first_name, '') || '|'
                || coalesce(last_name, '') || '|' || coalesce(email, '') || '|' || coalesce(mobile, '') || '|' || orders || '|'
                || bookings_count || '|' || coalesce(CAST(last_order_at AS TEXT), '') || '|'
                || coalesce((SELECT string_agg(kind || ':' || key, ',' ORDER BY kind, key) FROM customer_identifiers i WHERE i.customer_id = c.id), '') || '|'
                || coalesce((SELECT string_agg(currency || ':' || total_minor || ':' || orders, ',' ORDER BY currency) FROM customer_spend s WHERE s.customer_id = c.id), '') || '|'
                || coalesce((SELECT string_agg(ref || ':' || coalesce(status, ''), ',' ORDER BY ref) FROM bookings b WHERE b.customer_id = c.id), '') || '|'
                || coalesce((SELECT string_agg(reference, ',' ORDER BY reference) FROM payments p WHERE p.customer_id = c.id), '') || '|'
                || coalesce((SELECT string_agg(id || ':' || coalesce(status, ''), ',' ORDER BY id) FROM carts k WHERE k.customer_id = c.id), '')
            FROM customers c WHERE merged_into IS NULL AND erased_at IS NULL ORDER BY 1
            """

        @Test func threeReplicasSurviveAKilledReplicaAndAStoppedNodeAndBuildWhatOneBuilds() async throws {
            let stream = Stream(customers: 150)
            let unique = stream.messages.count

            // The reference: one Patron, the same events in another order, on a database of its own.
            var expected: [String] = []
            try await withRunningPatron(try await .on(.postgres)) { setup, broker, _ in
                try await broker.publish(stream.delivery(exchange: setup.topology.eventsExchange))
                try await eventually("the reference to journal every event", timeout: .seconds(120)) { try await setup.journalCount() == unique }
                expected = try await setup.texts(Self.canonicalRecords)
            }
            #expect(expected.count == stream.customers)

            let nodes = try TestEnvironment.clusterURLs
            let (databaseURL, database) = try await TestSetup.freshPostgres()
            let prefix = "c\(UUID().uuidString.prefix(8).lowercased())"
            let quorum = "\n  dead_queue_type: quorum\n  commands_queue_type: quorum"
            // Each replica starts on another node and knows the other two.
            let setups = try (0..<3).map { index in
                let order = Array(nodes[index...] + nodes[..<index])
                return try TestSetup(url: order[0], databaseURL: databaseURL, postgres: database, prefix: prefix, moreURLs: Array(order.dropFirst()),
                                     topologyYAML: quorum)
            }
            let broker = try await TestBroker(urls: nodes)
            var nodeStopped = false
            var replicas: [ChildPatrond] = []
            do {
                replicas = try setups.enumerated().map { index, setup in
                    try ChildPatrond(configurationPath: setup.configurationPath, logName: "replica\(index).log")
                }
                let names = setups[0].topology
                try await eventually("three replicas consuming", timeout: .seconds(60)) {
                    let ingest = try? await broker.consumerCount(names.ingestQueue)
                    let commands = try? await broker.consumerCount(names.commandsQueue)
                    return ingest == 3 && commands == 3
                }
                let delivery = stream.delivery(exchange: names.eventsExchange)
                let half = delivery.count / 2
                try await broker.publish(Array(delivery[..<half]))
                // Mid-stream: one replica dies without a word, then a broker node goes down.
                try await eventually("some events journaled") { try await setups[0].journalCount() > 20 }
                replicas[0].send(SIGKILL)
                try await TestEnvironment.clusterControl("node", "3", "stop")
                nodeStopped = true
                try await broker.publish(Array(delivery[half...]))
                try await eventually("every event journaled by the two left", timeout: .seconds(180)) {
                    try await setups[0].journalCount() == unique
                }
                let actual = try await setups[0].texts(Self.canonicalRecords)
                #expect(actual == expected, "\(zip(actual, expected).filter { $0 != $1 }.prefix(3))")
                // Sampled totals, exact.
                #expect(try await setups[0].texts("SELECT CAST(count(*) AS TEXT) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL")
                        == ["\(stream.customers)"])
                #expect(try await setups[0].texts("SELECT CAST(sum(total_minor) AS TEXT) FROM customer_spend WHERE currency = 'EUR'")
                        == ["\(stream.revenueMinor)"])
                #expect(try await setups[0].texts("SELECT CAST(sum(recorded) AS TEXT) FROM ingest_counters") == ["\(unique)"])
                for (index, replica) in replicas.enumerated().dropFirst() {
                    replica.send(SIGTERM)
                    #expect(try await replica.waitForExit() == 0, "replica \(index): \(replica.log.suffix(2000))")
                }
                // The server's notices (libpq prints them to stderr by default) stay out of the journal.
                #expect(replicas.allSatisfy { !$0.log.contains("NOTICE:") })
            } catch {
                Issue.record(error, "\(replicas.enumerated().map { "replica \($0): \($1.log.suffix(1500))" }.joined(separator: "\n"))")
            }
            if nodeStopped { try await TestEnvironment.clusterControl("node", "3", "start") }
            for setup in setups { await setup.tearDown(broker) }
            await database.close()
            await broker.close()
        }
    }
}
