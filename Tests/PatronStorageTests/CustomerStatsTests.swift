import GRDB
import PatronDomain
import PatronStorage
import Testing

/// `stats.get`'s KPIs on records built by events, against counts made by hand.
struct CustomerStatsTests {
    @Test(arguments: Engine.allCases) func kpisOverAllTimeAndOverAPeriod(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest([
            // 2026-11-20 08:01 (a Friday): Ana orders twice; Luis books and does not show.
            Events.booking("b1", minute: 1, customer: #"{"customer_no":"C-1","email":"ana@example.com","newsletter":true}"#, ref: "BK-1", amount: "\"400.00\""),
            Events.booking("b2", minute: 2, customer: #"{"customer_no":"C-1"}"#, ref: "BK-2", amount: "\"100.00\""),
            Events.booking("b3", minute: 3, customer: #"{"customer_no":"C-2","email":"luis@example.com"}"#, ref: "BK-3", amount: "\"50.00\""),
            Events.status("n3", "booking.no_show", minute: 30, ref: "BK-3"),
            Events.booking("b4", minute: 4, customer: #"{"customer_no":"C-3","email":"yuki@example.jp"}"#, ref: "BK-4", amount: "\"1200\"")
                .replacingOccurrences(of: #""currency":"EUR""#, with: #""currency":"JPY""#),
            Events.make("p1", "payment.recorded", minute: 5, #"{"payment":{"reference":"PAY-1","booking_ref":"BK-1","amount":"400.00","method":"card"}}"#),
            Events.make("p2", "payment.recorded", minute: 6, #"{"payment":{"reference":"PAY-2","booking_ref":"BK-2","amount":"100.00","method":"transfer"}}"#),
            Events.make("p3", "payment.recorded", minute: 7, #"{"payment":{"reference":"PAY-3","amount":"9.00","method":"card","status":"failed"}}"#),
            Events.make("k1", "cart.updated", minute: 8, #"{"cart":{"id":"K-1","status":"active"}}"#),
            Events.make("k2", "cart.updated", minute: 9, #"{"customer":{"customer_no":"C-1"},"cart":{"id":"K-2","status":"ordered"}}"#),
            Events.make("k3", "cart.updated", minute: 10, #"{"customer":{"customer_no":"C-2"},"cart":{"id":"K-3","status":"abandoned"}}"#),
            Events.make("s1", "contact.submitted", minute: 11, #"{"customer":{"customer_no":"C-2"},"message":{"thread_id":"T-1","body":"?"}}"#),
            Events.make("r1", "contact.replied", minute: 41, #"{"message":{"thread_id":"T-1","body":"!","author":"maria"}}"#),
            Events.profile("v1", minute: 12, #"{"email":"visitor@example.com"}"#),
        ])
        let all = try await fixture.stores.stats.stats(.init(from: nil, to: nil), currency: "EUR").json
        #expect(all["customers"] == .object(["total": .integer(4), "new": .integer(4), "returning": .integer(0), "with_order": .integer(2),
                                              "newsletter_opt_ins": .integer(1)]))
        #expect(all["orders"] == .integer(3))
        #expect(all["revenue"] == .object(["EUR": .string("500.00"), "JPY": .string("1200")]))
        #expect(all["average_order"] == .object(["EUR": .string("250.00"), "JPY": .string("1200")]))
        #expect(all["carts"] == .object(["active": .integer(1), "abandoned": .integer(1), "ordered": .integer(1), "visitor": .integer(1),
                                          "conversion_rate": .number("0.3333")]))
        #expect(all["threads"] == .object(["open": .integer(1), "average_first_response_seconds": .integer(1800)]))
        #expect(all["no_show_rate"] == .number("0.2500"))
        #expect(all["top_customers"]?.arrayValue?.map { $0["customer_no"] } == [.string("C-1")])
        #expect(all["payment_methods"]?.arrayValue?.map { [$0["method"], $0["payments"]] } == [
            [.string("card"), .integer(1)], [.string("transfer"), .integer(1)],
        ])
        #expect(all["busiest_weekday"] == .string("friday"))
        #expect(all["busiest_hour"] == .integer(8))

        // A period with nothing in it, and one that starts after Ana was first seen.
        let empty = try await fixture.stores.stats
            .stats(.init(from: Timestamp(rfc3339: "2027-01-01T00:00:00Z"), to: nil), currency: "EUR").json
        #expect(empty["orders"] == .integer(0))
        #expect(empty["no_show_rate"] == .null)
        #expect(empty["busiest_hour"] == .null)
        try await fixture.ingest(Events.make("late", "booking.created", minute: 600,
                                             #"{"customer":{"customer_no":"C-1"},"booking":{"ref":"BK-9","status":"confirmed","amount":"10.00"}}"#))
        let later = try await fixture.stores.stats
            .stats(.init(from: Timestamp(rfc3339: "2026-11-20T12:00:00Z"), to: nil), currency: "EUR").json
        #expect(later["customers"]?["returning"] == .integer(1))
        #expect(later["customers"]?["new"] == .integer(0))
    }

    @Test func periodArgumentsAreInclusiveDatesNamingTheirField() throws {
        let period = try CustomerStats.Period.parse(CommandArguments(["from": .string("2026-11-01"), "to": .string("2026-11-30")]))
        #expect(period.from == Timestamp(rfc3339: "2026-11-01T00:00:00Z"))
        #expect(period.to == Timestamp(rfc3339: "2026-11-30T23:59:59.999999Z"))
        for (args, field) in [(["from": JSONValue.string("2026-13-01")], "args.from"), (["from": .string("2026-11-30"), "to": .string("2026-11-01")], "args.to")] {
            do {
                _ = try CustomerStats.Period.parse(CommandArguments(args))
                Issue.record("\(args) accepted")
            } catch let error as CommandError {
                #expect(error.field == field)
            }
        }
    }
}
