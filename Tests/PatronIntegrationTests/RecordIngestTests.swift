import Foundation
import GRDB
import Synchronization
import PatronAMQP
import PatronDomain
import PatronService
@testable import PatronStorage
import Testing

extension BrokerBacked {
    /// Customer records through the real broker and the real patrond pipeline: every event type
    /// of EVENTS.md, the announcements on `patron.notifications`, and every refusal of `data`.
    @Suite struct RecordIngest {
        static func message(_ id: String, _ type: String, minute: Int, exchange: String, _ data: String) -> AMQPOutgoingMessage {
            let body = #"{"id":"\#(id)","type":"\#(type)","occurred_at":"2026-11-20T10:\#(String(format: "%02d", minute)):00Z","source":"test","data":\#(data)}"#
            return AMQPOutgoingMessage(exchange: exchange, routingKey: type, properties: .persistentJSON(), body: Array(body.utf8))
        }

        static let ana = #"{"customer_no":"C-1","title":"sra","first_name":"Ana","last_name":"García","email":"Ana@Example.com","mobile":"600 111 222","address":{"city":"Donostia","country":"Spain"},"language":"es","newsletter":true}"#

        @Test func everyEventTypeAppliesItsEffects() async throws {
            try await withRunningPatron { setup, broker, _ in
                let exchange = setup.topology.eventsExchange
                let notes = try await broker.listen(to: setup.topology.notificationsExchange)
                let messages = [
                    Self.message("e1", "booking.created", minute: 1, exchange: exchange,
                                 #"{"customer":\#(Self.ana),"booking":{"ref":"BK-1","status":"confirmed","hotel":"Hotel Donostia","amount":"412.50","currency":"EUR"}}"#),
                    Self.message("e2", "booking.updated", minute: 2, exchange: exchange, #"{"customer":{"customer_no":"C-1"},"booking":{"ref":"BK-1","guests":3}}"#),
                    Self.message("e3", "booking.created", minute: 3, exchange: exchange,
                                 #"{"customer":{"customer_no":"C-1"},"booking":{"ref":"BK-2","status":"confirmed","amount":"100"}}"#),
                    Self.message("e4", "booking.cancelled", minute: 4, exchange: exchange, #"{"booking":{"ref":"BK-2"}}"#),
                    Self.message("e5", "booking.created", minute: 5, exchange: exchange,
                                 #"{"customer":{"customer_no":"C-1"},"booking":{"ref":"BK-3","status":"confirmed","amount":"50"}}"#),
                    Self.message("e6", "booking.no_show", minute: 6, exchange: exchange, #"{"booking":{"ref":"BK-3"}}"#),
                    Self.message("e7", "booking.completed", minute: 7, exchange: exchange, #"{"booking":{"ref":"BK-1"}}"#),
                    Self.message("e8", "payment.recorded", minute: 8, exchange: exchange,
                                 #"{"payment":{"reference":"PAY-1","booking_ref":"BK-1","amount":"412.50","method":"card","status":"succeeded"}}"#),
                    Self.message("e9", "contact.submitted", minute: 9, exchange: exchange,
                                 #"{"customer":{"email":"ana@example.com"},"message":{"thread_id":"T-1","subject":"Late arrival","body":"After midnight?"}}"#),
                    Self.message("e10", "contact.replied", minute: 12, exchange: exchange, #"{"message":{"thread_id":"T-1","body":"Yes","author":"maria"}}"#),
                    Self.message("e11", "cart.updated", minute: 13, exchange: exchange, #"{"cart":{"id":"CART-1","status":"active","total":"137.50"}}"#),
                    Self.message("e12", "cart.updated", minute: 14, exchange: exchange,
                                 #"{"customer":{"email":"ben@example.com"},"cart":{"id":"CART-1","status":"abandoned"}}"#),
                    Self.message("e13", "customer.updated", minute: 15, exchange: exchange, #"{"customer":{"customer_no":"C-1","company":"Acme SL","account":true}}"#),
                    // The bridge: Ben's email and Ana's mobile.
                    Self.message("e14", "customer.updated", minute: 16, exchange: exchange, #"{"customer":{"email":"ben@example.com","mobile":"+34600111222"}}"#),
                    Self.message("e15", "customer.updated", minute: 17, exchange: exchange, #"{"customer":{"email":"carl@example.com","last_name":"Secretname"}}"#),
                    Self.message("e16", "customer.erasure_requested", minute: 18, exchange: exchange, #"{"customer":{"email":"carl@example.com"}}"#),
                ]
                try await broker.publish(messages)
                try await eventually("every event journaled") { try await setup.journalCount() == messages.count }

                let ana = try setup.read { db in
                    try Row.fetchOne(db, sql: """
                        SELECT title, first_name, last_name, company, country, language, newsletter, auto_group, tags, orders, no_shows,
                               completed_stays, bookings_count
                        FROM customers WHERE customer_no = 'C-1'
                        """)
                }
                let row = try #require(ana)
                #expect(row["title"] as String? == "Mrs.")
                #expect(row["last_name"] as String? == "García")
                #expect(row["company"] as String? == "Acme SL")
                #expect(row["country"] as String? == "ES")
                #expect(row["newsletter"] as Bool? == true)
                #expect(row["auto_group"] as Int == AutomaticGroup.customer.rawValue)
                #expect((row["tags"] as String).contains("No-show"))
                #expect(row["orders"] as Int == 1, "BK-1 completed; BK-2 cancelled, BK-3 a no-show")
                #expect(row["no_shows"] as Int == 1)
                #expect(row["completed_stays"] as Int == 1)
                #expect(row["bookings_count"] as Int == 3)

                let effects = try setup.read { db in
                    [
                        try String.fetchOne(db, sql: "SELECT fields FROM (SELECT guests || '/' || status AS fields FROM bookings WHERE ref = 'BK-1')"),
                        try String.fetchOne(db, sql: "SELECT c.customer_no FROM payments p JOIN customers c ON c.id = p.customer_id WHERE reference = 'PAY-1'"),
                        try String.fetchOne(db, sql: "SELECT ((first_response_at - opened_at) / 60000000) || ' min' FROM threads WHERE thread_id = 'T-1'"),
                        try String.fetchOne(db, sql: "SELECT group_concat(direction, ',') FROM (SELECT direction FROM thread_messages WHERE thread_id = 'T-1' ORDER BY occurred_at)"),
                        try String.fetchOne(db, sql: "SELECT c.customer_no || '/' || status FROM carts JOIN customers c ON c.id = carts.customer_id WHERE carts.id = 'CART-1'"),
                        try String.fetchOne(db, sql: "SELECT total_minor || ' ' || currency FROM customer_spend s JOIN customers c ON c.id = s.customer_id WHERE c.customer_no = 'C-1'"),
                    ]
                }
                #expect(effects == ["3/completed", "C-1", "3 min", "customer,staff", "C-1/abandoned", "41250 EUR"],
                        "booking fields and status, payment owner, first response, thread, the visitor cart now Ana's (through the merge), spend")

                // Ben merged into Ana (the older record); Carl erased: his name is gone from every table.
                let merged = try setup.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE merged_into IS NOT NULL") }
                #expect(merged == 1)
                let secretRows = try setup.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE last_name = 'Secretname'") }
                #expect(secretRows == 0)
                try await eventually("customer.merged and customer.erased announced") {
                    Set(try await notes.received().compactMap(\.properties.type)).isSuperset(of: ["customer.merged", "customer.erased"])
                }
                let merge = try #require(try await notes.received().first { $0.properties.type == "customer.merged" })
                let body = try #require(try JSONSerialization.jsonObject(with: Data(merge.body)) as? [String: Any])
                #expect(body["customer_no"] as? String == "C-1")
                #expect(body["automatic"] as? Bool == true)
                try await notes.close()
            }
        }

        struct BadData: Sendable, CustomTestStringConvertible {
            let name: String
            let type: String
            let data: String
            let field: String
            let reason: Rejection.Reason
            var testDescription: String { name }
        }

        /// One refusal of `data` for each reason a publisher can cause, across event types.
        static let badData: [BadData] = [
            BadData(name: "no identifier", type: "customer.updated", data: #"{"customer":{"first_name":"Ana"}}"#,
                    field: "data.customer", reason: .missingField),
            BadData(name: "booking without ref", type: "booking.created", data: #"{"customer":{"email":"a@example.com"},"booking":{"status":"confirmed"}}"#,
                    field: "data.booking.ref", reason: .missingField),
            BadData(name: "unknown status", type: "booking.updated", data: #"{"customer":{"email":"a@example.com"},"booking":{"ref":"B","status":"teleported"}}"#,
                    field: "data.booking.status", reason: .invalidValue),
            BadData(name: "money with too many decimals", type: "payment.recorded", data: #"{"payment":{"reference":"P","amount":"1.005"}}"#,
                    field: "data.payment.amount", reason: .invalidValue),
            BadData(name: "reply without thread", type: "contact.replied", data: #"{"message":{"body":"Hi"}}"#,
                    field: "data.message.thread_id", reason: .missingField),
            BadData(name: "cart items not a list", type: "cart.updated", data: #"{"cart":{"id":"C","items":"two rooms"}}"#,
                    field: "data.cart.items", reason: .wrongType),
            BadData(name: "impossible birthday", type: "customer.updated", data: #"{"customer":{"email":"a@example.com","birthday":"1984-02-30"}}"#,
                    field: "data.customer.birthday", reason: .invalidValue),
            BadData(name: "erasure without identity", type: "customer.erasure_requested", data: #"{"customer":{"first_name":"Ana"}}"#,
                    field: "data.customer", reason: .missingField),
        ]

        @Test func everyRefusalOfDataGoesToDeadWithItsFieldAndNothingIsApplied() async throws {
            try await withRunningPatron { setup, broker, patron in
                let names = setup.topology
                let messages = Self.badData.enumerated().map { index, bad in
                    var message = Self.message("bad-\(index)", bad.type, minute: index, exchange: names.eventsExchange, bad.data)
                    message.properties.headers["x-test-case"] = .string(bad.name)
                    return message
                }
                try await broker.publish(messages + [Self.message("good", "customer.updated", minute: 30, exchange: names.eventsExchange,
                                                                  #"{"customer":{"email":"good@example.com"}}"#)])
                try await eventually("every refusal in the dead-letter queue") { try await broker.queueDepth(names.deadQueue) == Self.badData.count }
                try await eventually("the good event") { try setup.journalIDs() == ["good"] }
                let customers = try setup.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") }
                #expect(customers == 1)
                for delivery in try await broker.drain(names.deadQueue) {
                    guard case .string(let name)? = delivery.properties.headers["x-test-case"],
                          let bad = Self.badData.first(where: { $0.name == name }) else {
                        Issue.record("dead letter without its headers")
                        continue
                    }
                    guard case .string(let error)? = delivery.properties.headers["x-patron-error"] else {
                        Issue.record("\(name): no x-patron-error")
                        continue
                    }
                    #expect(error.hasPrefix("\(bad.field): "), "\(name): \(error)")
                    #expect(delivery.properties.headers["x-patron-error-reason"] == .string(bad.reason.rawValue), "\(name)")
                }
                #expect(patron.patron.pipeline.totalsSnapshot.rejected == Self.badData.count)
            }
        }

        /// An event the decoder accepts but the database refuses (a trigger stands in for any such
        /// failure) is dead-lettered as `unprocessable` after its batch commits without it.
        @Test func eventThatCannotBeAppliedIsDeadLetteredAndTheRestCommit() async throws {
            let setup = try TestSetup()
            let database = try PatronDatabase.open(directory: setup.directory.path)
            try await database.pool.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON bookings WHEN NEW.ref = 'BK-POISON'
                    BEGIN SELECT RAISE(ABORT, 'poisoned booking'); END
                    """)
            }
            try await withRunningPatron(setup) { setup, broker, _ in
                let names = setup.topology
                try await broker.publish(["BK-1", "BK-POISON", "BK-2"].enumerated().map { index, ref in
                    Self.message("p\(index)", "booking.created", minute: index, exchange: names.eventsExchange,
                                 #"{"customer":{"email":"guest\#(index)@example.com"},"booking":{"ref":"\#(ref)","status":"confirmed"}}"#)
                })
                try await eventually("the poisoned event dead-lettered") { try await broker.queueDepth(names.deadQueue) == 1 }
                #expect(try setup.journalIDs() == ["p0", "p2"])
                let dead = try await broker.drain(names.deadQueue)
                #expect(dead.first?.properties.headers["x-patron-error-reason"] == .string(Rejection.Reason.unprocessable.rawValue))
                #expect(try await broker.queueDepth(names.ingestQueue) == 0)
            }
        }
    }
}

/// A private queue bound to an exchange, collecting what is published there.
final class Listener: Sendable {
    private let broker: TestBroker
    let queue: String

    init(broker: TestBroker, exchange: String) async throws {
        self.broker = broker
        queue = "\(exchange).listener.\(UUID().uuidString.prefix(6))"
        let queue = self.queue
        try await broker.client.withManagement { management in
            try management.declareQueue(queue, arguments: [:])
            try management.bindQueue(queue, to: exchange, routingKey: "#")
        }
    }

    private let store = Mutex<[AMQPDelivery]>([])

    /// Everything received so far (taken from the queue as it arrives).
    func received() async throws -> [AMQPDelivery] {
        let taken = try await broker.drain(queue)
        return store.withLock { deliveries in
            deliveries.append(contentsOf: taken)
            return deliveries
        }
    }

    func close() async throws {
        let queue = self.queue
        try await broker.client.withManagement { try $0.deleteQueue(queue) }
    }
}

extension TestBroker {
    func listen(to exchange: String) async throws -> Listener { try await Listener(broker: self, exchange: exchange) }
}

extension TestSetup {
    /// A read-only look at the database beside the running writer.
    func read<T>(_ block: (Database) throws -> T) throws -> T {
        try readOnlyDatabase().read(block)
    }
}
