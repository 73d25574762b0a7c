import Foundation
import GRDB
import PatronDomain
import Testing

/// One set of events, with duplicates, applied in many orders and batchings, must build the same
/// records. Field values have distinct times (ties go to the later-processed event by contract,
/// which is order-dependent by design).
struct OrderIndependenceTests {
    static var events: [String] {
        let ana = #"{"customer_no":"C-1","email":"ana@example.com","first_name":"Ana"}"#
        let ana2 = #"{"email":"ana@example.com","mobile":"600111222","last_name":"García","newsletter":true}"#
        let ana3 = #"{"mobile":"+34600111222","address":{"city":"Bilbao"},"newsletter":false,"tags":["VIP"]}"#
        let luis = #"{"email":"luis@example.com","first_name":"Luis","address":{"city":"Irun","zip":"20301"}}"#
        return [
            Events.booking("b1", minute: 1, customer: ana, ref: "BK-1", amount: "\"200.00\""),
            Events.booking("b2", minute: 2, customer: ana2, ref: "BK-2", amount: "\"99.90\""),
            Events.booking("b2u", minute: 12, customer: ana2, ref: "BK-2", status: "confirmed", amount: "\"120.00\"", type: "booking.updated"),
            Events.status("b2x", "booking.cancelled", minute: 13, ref: "BK-2"),
            Events.status("b1c", "booking.completed", minute: 20, ref: "BK-1"),
            Events.profile("p1", minute: 30, ana3),
            Events.profile("p2", minute: 3, #"{"customer_no":"C-1","address":{"city":"Donostia","zip":"20001"}}"#),
            Events.booking("l1", minute: 4, customer: luis, ref: "BK-3"),
            Events.status("l1n", "booking.no_show", minute: 40, ref: "BK-3"),
            Events.make("pay", "payment.recorded", minute: 5, #"{"payment":{"reference":"PAY-1","booking_ref":"BK-1","amount":"200.00"}}"#),
            Events.make("pay2", "payment.recorded", minute: 25, #"{"payment":{"reference":"PAY-1","booking_ref":"BK-1","amount":"200.00","status":"refunded"}}"#),
            Events.make("cart", "cart.updated", minute: 6, #"{"cart":{"id":"CART-1","status":"active","total":"10"}}"#),
            Events.make("cart2", "cart.updated", minute: 7, #"{"customer":\#(luis),"cart":{"id":"CART-1","status":"ordered"}}"#),
            Events.make("s1", "contact.submitted", minute: 8, #"{"customer":\#(luis),"message":{"thread_id":"T-1","body":"Hi"}}"#),
            Events.make("r1", "contact.replied", minute: 9, #"{"message":{"thread_id":"T-1","body":"Hello","author":"maria"}}"#),
        ]
    }

    static func difference(_ actual: String, _ expected: String) -> String {
        let a = actual.split(separator: " "), e = expected.split(separator: " ")
        return zip(a, e).filter { $0 != $1 }.map { "\($0) ≠ expected \($1)" }.joined(separator: "; ")
    }

    @Test(arguments: Engine.allCases) func twentyRandomOrdersBuildIdenticalRecords(engine: Engine) async throws {
        let reference = try await RecordsFixture.open(engine)
        try await reference.ingest(Self.events)
        let expected = try await reference.canonicalDump()
        #expect(expected.count == 2)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let fixture = try await RecordsFixture.open(engine)
            // Duplicates: some events twice, and batches of random sizes.
            var stream = Self.events + Self.events.shuffled(using: &generator).prefix(5)
            stream.shuffle(using: &generator)
            while !stream.isEmpty {
                let size = Int.random(in: 1...4, using: &generator)
                try await fixture.ingest(Array(stream.prefix(size)))
                stream.removeFirst(min(size, stream.count))
            }
            let actual = try await fixture.canonicalDump()
            #expect(actual == expected, "\(zip(actual, expected).filter { $0 != $1 }.map { a, e in Self.difference(a, e) })")
        }
    }
}
