import Foundation
import PatronDomain
import Testing

/// The batch recorder holds a batch's records in memory and writes each row once at the end: a
/// batch in which one customer receives many events (bookings, a bridge merge, an erasure and
/// events after it) must leave the database exactly as the same events applied one per batch.
struct BatchRecorderTests {
    static var events: [String] {
        let byEmail = #"{"email":"marta@example.com","first_name":"Marta"}"#
        let byPhone = #"{"mobile":"600222333","last_name":"Ruiz"}"#
        let both = #"{"email":"marta@example.com","mobile":"+34600222333","address":{"city":"Getxo"},"newsletter":true,"tags":["VIP"]}"#
        let luis = #"{"email":"luis@example.com","first_name":"Luis"}"#
        return [
            Events.booking("m1", minute: 1, customer: byEmail, ref: "BK-1", amount: "\"210.00\""),
            Events.booking("l1", minute: 2, customer: luis, ref: "BK-9"),
            Events.booking("m2", minute: 3, customer: byPhone, ref: "BK-2", amount: "\"80.00\""),
            Events.make("m2p", "payment.recorded", minute: 4, #"{"payment":{"reference":"PAY-2","booking_ref":"BK-2","amount":"80.00"}}"#),
            // Names both: the two records above become one.
            Events.profile("m3", minute: 5, both),
            Events.booking("m4", minute: 6, customer: byEmail, ref: "BK-3", amount: "\"55.50\""),
            Events.status("m1c", "booking.cancelled", minute: 7, ref: "BK-1"),
            Events.make("m5", "contact.submitted", minute: 8, #"{"customer":\#(byPhone),"message":{"thread_id":"T-7","body":"¿Parking?"}}"#),
            Events.make("m5r", "contact.replied", minute: 9, #"{"message":{"thread_id":"T-7","body":"Sí","author":"ane"}}"#),
            Events.make("m6", "cart.updated", minute: 10, #"{"customer":\#(byPhone),"cart":{"id":"CART-7","status":"active","total":"30"}}"#),
            Events.booking("l2", minute: 11, customer: luis, ref: "BK-8", amount: "\"70.00\""),
            Events.make("m7", "customer.erasure_requested", minute: 12, #"{"customer":{"email":"marta@example.com"}}"#),
            // Older than the erasure, arriving after it: dropped.
            Events.booking("m8", minute: 11, customer: byPhone, ref: "BK-4"),
            // Newer: Marta comes back, as a new record.
            Events.booking("m9", minute: 30, customer: byEmail, ref: "BK-5", amount: "\"99.00\""),
            Events.profile("m10", minute: 31, #"{"email":"marta@example.com","mobile":"600222333"}"#),
            Events.status("l2c", "booking.completed", minute: 32, ref: "BK-8"),
        ]
    }

    /// The records, and what the journal, erasure, merges, announcements and (on SQLite) the
    /// derived search rows hold, in a form that does not depend on internal ids.
    static func dump(_ fixture: RecordsFixture, engine: Engine) async throws -> [String] {
        var lines = try await fixture.canonicalDump()
        let queries = [
            "SELECT event_id || ':' || (customer_id IS NOT NULL) || ':' || length(payload) FROM event_journal",
            "SELECT CAST(count(*) AS TEXT) FROM erased_identities",
            "SELECT coalesce(customer_no, '-') || ':' || event_id FROM erasure_log",
            "SELECT CAST(automatic AS TEXT) || ':' || event_id FROM merges",
            "SELECT routing_key FROM outbox",
            "SELECT ref || ':' || coalesce(CAST(live_customer_id IS NOT NULL AS TEXT), '') FROM bookings",
            "SELECT thread_id || ':' || coalesce(body, '') FROM thread_messages",
            "SELECT reference || ':' || (customer_id IS NOT NULL) FROM payments",
            "SELECT id || ':' || coalesce(items, '') FROM carts",
            "SELECT kind || ':' || key FROM customer_identifiers",
        ] + (engine == .sqlite ? [
            "SELECT name || '/' || city || '/' || tags FROM customer_search",
        ] : [])
        for sql in queries {
            lines.append(sql.prefix(40) + " → " + (try await fixture.texts(sql)).sorted().joined(separator: ", "))
        }
        return lines
    }

    @Test(arguments: Engine.allCases) func aBatchOfOneCustomersManyEventsBuildsWhatOneEventPerBatchBuilds(engine: Engine) async throws {
        let together = try await RecordsFixture.open(engine)
        let outcome = try await together.ingest(Self.events)
        #expect(outcome.recorded == Self.events.count && outcome.suppressed == 1 && outcome.failed.isEmpty)

        let apart = try await RecordsFixture.open(engine)
        for event in Self.events { try await apart.ingest([event]) }

        let expected = try await Self.dump(apart, engine: engine)
        let actual = try await Self.dump(together, engine: engine)
        #expect(actual == expected, "\(zip(actual, expected).filter { $0 != $1 }.map { OrderIndependenceTests.difference($0, $1) })")
        #expect(try await together.figuresDifferingFromARecount() == 0)
        // The bridge merge happened, and the erasure took the merged record.
        #expect(try await together.integer("SELECT count(*) FROM merges") == 1)
        #expect(try await together.integer("SELECT count(*) FROM customers WHERE erased_at IS NOT NULL") == 2)
    }

    /// A batch whose later event names, again, a record an earlier event of the batch created:
    /// the second finds the first's identifiers before anything is written.
    @Test(arguments: Engine.allCases) func anIdentifierAddedInABatchFindsItsCustomerLaterInTheBatch(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let outcome = try await fixture.ingest([
            Events.booking("a", minute: 1, customer: #"{"email":"ane@example.com","mobile":"600333444"}"#, ref: "BK-1"),
            Events.booking("b", minute: 2, customer: #"{"mobile":"+34 600 333 444"}"#, ref: "BK-2"),
            Events.booking("a", minute: 1, customer: #"{"email":"ane@example.com","mobile":"600333444"}"#, ref: "BK-1"),
        ])
        #expect(outcome.recorded == 2 && outcome.duplicates == 1 && outcome.created == 1)
        #expect(try await fixture.integer("SELECT count(*) FROM customers") == 1)
        #expect(try await fixture.integer("SELECT orders FROM customers") == 2)
    }

    /// Keys are looked up as one list parameter: quotes, backslashes, commas, braces and spaces
    /// in a key must not split it or change it.
    @Test(arguments: Engine.allCases) func keysWithTheListSyntaxCharactersAreFoundAgain(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let number = #"C-\"1\\, {x} y"#
        let customer = #"{"customer_no":"\#(number)","first_name":"Ane"}"#
        try await fixture.ingest([Events.profile("a", minute: 1, customer), Events.booking("x", minute: 2, customer: #"{"email":"x@example.com"}"#, ref: #"B-\"1\\,{"#)])
        let outcome = try await fixture.ingest([Events.profile("b", minute: 3, customer), Events.status("y", "booking.completed", minute: 4, ref: #"B-\"1\\,{"#)])
        #expect(outcome.recorded == 2 && outcome.created == 0)
        #expect(try await fixture.texts("SELECT customer_no FROM customers WHERE first_name = 'Ane'") == [#"C-"1\, {x} y"#])
        #expect(try await fixture.texts("SELECT status FROM bookings") == ["completed"])
    }
}
