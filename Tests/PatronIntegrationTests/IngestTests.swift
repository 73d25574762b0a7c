import Foundation
import GRDB
import PatronAMQP
import PatronDomain
import PatronService
import Testing

extension BrokerBacked {
    @Suite struct Ingest {
        @Test func publishedEventsReachTheJournalWithTheirProvenance() async throws {
            try await withRunningPatron { setup, broker, patron in
                let exchange = setup.topology.eventsExchange
                var fromMessageID = event(nil, type: "cart.updated", exchange: exchange)
                fromMessageID.properties.messageID = "m-from-properties"
                var typed = AMQPProperties.persistentJSON()
                typed.type = "payment.recorded"
                let fromAMQPType = event("e-amqp-type", type: nil, routingKey: "unrelated.key", exchange: exchange, properties: typed)
                let messages = [event("e-1", exchange: exchange), fromMessageID, fromAMQPType,
                                event("e-rk", type: nil, routingKey: "customer.updated", exchange: exchange)]
                try await broker.publish(messages)

                try await eventually("4 journal rows") { try setup.journalIDs().count == 4 }
                let rows = try setup.journalRows()
                #expect(rows.map { $0["event_id"] as String } == ["e-1", "m-from-properties", "e-amqp-type", "e-rk"])
                #expect(rows.map { $0["type"] as String } == ["booking.created", "cart.updated", "payment.recorded", "customer.updated"])
                #expect(rows.map { $0["routing_key"] as String } == ["booking.created", "cart.updated", "unrelated.key", "customer.updated"])
                #expect(rows.allSatisfy { ($0["source"] as String?) == "test" })
                #expect((rows[0]["payload"] as Data) == Data(messages[0].body))
                #expect(rows[0]["occurred_at"] as Int64 == Timestamp(rfc3339: "2026-11-20T09:15:00Z")!.microseconds)
                try await eventually("the ingest queue to be empty") { try await broker.queueDepth(setup.topology.ingestQueue) == 0 }

            }
        }

        @Test func sameIDTwiceHasOneEffect() async throws {
            try await withRunningPatron { setup, broker, patron in
                let exchange = setup.topology.eventsExchange
                // Five deliveries of one id (one of them republished with another body), plus one other event.
                let copies = (0..<4).map { _ in event("dup-1", exchange: exchange) } + [event("dup-1", exchange: exchange, extra: #","note":"changed""#)]
                try await broker.publish(copies + [event("other", exchange: exchange)])

                try await eventually("the ingest queue to drain") {
                    try await broker.queueDepth(setup.topology.ingestQueue) == 0 && patron.patron.pipeline.totalsSnapshot.duplicates == 4
                }
                #expect(try setup.journalIDs() == ["dup-1", "other"])
                let status = try await patron.patron.store.journalStatus()
                #expect(status.recorded == 2)
                #expect(status.duplicates == 4)

                // A later redelivery (a publisher retry hours later) is still one effect.
                try await broker.publish([event("dup-1", exchange: exchange)])
                try await eventually("the retry to be counted") { patron.patron.pipeline.totalsSnapshot.duplicates == 5 }
                #expect(try setup.journalIDs() == ["dup-1", "other"])
            }
        }

        struct BadMessage: Sendable, CustomTestStringConvertible {
            let name: String
            let body: String
            var routingKey = "booking.created"
            var contentType: String? = "application/json"
            let field: String
            let reason: Rejection.Reason
            var testDescription: String { name }
        }

        static let badMessages: [BadMessage] = [
            BadMessage(name: "not JSON", body: "{nope", field: "body", reason: .invalidJSON),
            BadMessage(name: "no identity", body: #"{"type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#, field: "id", reason: .missingField),
            BadMessage(name: "unknown type", body: #"{"id":"x1","type":"booking.teleported","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#, field: "type", reason: .unknownType),
            BadMessage(name: "unknown routing key", body: #"{"id":"x2","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#, routingKey: "mystery", field: "routing_key", reason: .unknownType),
            BadMessage(name: "wrong value type", body: #"{"id":"x3","type":"booking.created","occurred_at":false,"data":{}}"#, field: "occurred_at", reason: .wrongType),
            BadMessage(name: "bad date", body: #"{"id":"x4","type":"booking.created","occurred_at":"20/11/2026","data":{}}"#, field: "occurred_at", reason: .invalidValue),
            BadMessage(name: "data not an object", body: #"{"id":"x5","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":"x"}"#, field: "data", reason: .wrongType),
            BadMessage(name: "not JSON content type", body: #"{"id":"x6","type":"booking.created","occurred_at":"2026-11-20T10:15:00Z","data":{}}"#, contentType: "text/csv", field: "properties.content_type", reason: .unsupportedEncoding),
        ]

        @Test func everyRejectionGoesToDeadWithItsReasonAndNothingIsApplied() async throws {
            try await withRunningPatron { setup, broker, patron in
                let names = setup.topology
                let messages = Self.badMessages.map { bad in
                    var properties = AMQPProperties.persistentJSON(headers: ["x-test-case": .string(bad.name)])
                    properties.contentType = bad.contentType
                    properties.appID = "booking-engine"
                    return AMQPOutgoingMessage(exchange: names.eventsExchange, routingKey: bad.routingKey, properties: properties, body: Array(bad.body.utf8))
                }
                try await broker.publish(messages + [event("good-after-bad", exchange: names.eventsExchange)])

                try await eventually("all bad messages in the dead-letter queue") {
                    try await broker.queueDepth(names.deadQueue) == Self.badMessages.count
                }
                try await eventually("the good event") { try setup.journalIDs() == ["good-after-bad"] }
                let dead = try await broker.drain(names.deadQueue)
                #expect(dead.count == Self.badMessages.count)
                for delivery in dead {
                    guard case .string(let name)? = delivery.properties.headers["x-test-case"],
                          let bad = Self.badMessages.first(where: { $0.name == name }) else {
                        Issue.record("dead letter without its original headers: \(delivery.properties.headers)")
                        continue
                    }
                    #expect(delivery.body == Array(bad.body.utf8), "\(name): body kept")
                    #expect(delivery.properties.appID == "booking-engine", "\(name): properties kept")
                    guard case .string(let error)? = delivery.properties.headers["x-patron-error"] else {
                        Issue.record("\(name): no x-patron-error")
                        continue
                    }
                    #expect(error.hasPrefix("\(bad.field): "), "\(name): \(error)")
                    #expect(delivery.properties.headers["x-patron-error-reason"] == .string(bad.reason.rawValue), "\(name)")
                    #expect(delivery.properties.headers["x-patron-original-routing-key"] == .string(bad.routingKey), "\(name)")
                }
                #expect(patron.patron.pipeline.totalsSnapshot.rejected == Self.badMessages.count)
                #expect(try await broker.queueDepth(names.ingestQueue) == 0, "rejections are acknowledged, not retried")
            }
        }
    }
}
