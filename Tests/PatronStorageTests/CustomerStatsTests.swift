import Foundation
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
            Events.booking("b1", minute: 1, customer: #"{"customer_no":"C-1","email":"ana@example.com","first_name":"Ana","last_name":"García","newsletter":true}"#, ref: "BK-1", amount: "\"400.00\""),
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
        // New: a first order in the period (Ana and Yuki; Luis did not show, the visitor never ordered).
        #expect(all["customers"] == .object(["total": .integer(4), "new": .integer(2), "returning": .integer(0), "with_order": .integer(2),
                                              "newsletter_opt_ins": .integer(1)]))
        #expect(all["orders"] == .integer(3))
        #expect(all["revenue"] == .object(["EUR": .string("500.00"), "JPY": .string("1200")]))
        #expect(all["average_order"] == .object(["EUR": .string("250.00"), "JPY": .string("1200")]))
        #expect(all["carts"] == .object(["active": .integer(1), "abandoned": .integer(1), "ordered": .integer(1), "visitor": .integer(1),
                                          "conversion_rate": .number("0.3333")]))
        #expect(all["threads"] == .object(["open": .integer(1), "average_first_response_seconds": .integer(1800)]))
        #expect(all["no_show_rate"] == .number("0.2500"))
        #expect(all["top_customers"]?.arrayValue?.map { $0["customer_no"] } == [.string("C-1")])
        // Named, as staff know them.
        #expect(all["top_customers"]?.arrayValue?.first?["name"] == .string("Ana García"))
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

    /// EVENTS.md's definitions, recomputed from the raw rows after a merge, an unmerge and an
    /// erasure: every customer and order figure of `stats.get` agrees with a plain reading of the
    /// tables, and with the counts made by hand.
    @Test(arguments: Engine.allCases) func figuresFollowTheDefinitionsThroughMergesUnmergesAndErasures(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest([
            Events.booking("o1", minute: 1, customer: #"{"customer_no":"C-1","email":"a@example.com"}"#, ref: "BK-1", amount: "\"100.00\""),
            Events.booking("o2", minute: 200, customer: #"{"customer_no":"C-1"}"#, ref: "BK-2", amount: "\"50.00\""),
            Events.booking("o3", minute: 150, customer: #"{"customer_no":"C-2","email":"b@example.com"}"#, ref: "BK-3", amount: "\"30.00\""),
            Events.booking("o4", minute: 50, customer: #"{"mobile":"+34 600 111 222"}"#, ref: "BK-4", amount: "\"20.00\""),
            Events.booking("o5", minute: 160, customer: #"{"customer_no":"C-5","email":"c@example.com"}"#, ref: "BK-5", amount: "\"10.00\""),
            Events.booking("o6", minute: 170, customer: #"{"customer_no":"C-5"}"#, ref: "BK-6", status: "pending"),
            Events.profile("v", minute: 5, #"{"email":"visitor@example.com"}"#),
        ])
        let period = CustomerStats.Period(from: Timestamp(rfc3339: Events.at(100)), to: Timestamp(rfc3339: Events.at(300)))
        let allTime = CustomerStats.Period(from: nil, to: nil)

        func expectAgreementWithTheRows(_ state: Comment) async throws -> [String: Int64] {
            let customers = try await fixture.rows("SELECT id, merged_into, erased_at FROM customers")
            let bookings = try await fixture.rows("SELECT customer_id, status, first_seen_at, amount_minor FROM bookings")
            let roots = Set(customers.filter { $0["merged_into"]?.integerValue == nil }.compactMap { $0.int("id") })
            let orders = bookings.filter { ["confirmed", "completed"].contains($0.text("status")) }
            var firstOrder: [Int64: Int64] = [:]
            for order in orders { firstOrder[order.int("customer_id")!] = min(firstOrder[order.int("customer_id")!] ?? .max, order.int("first_seen_at")!) }
            for (name, period) in [("period", period), ("all time", allTime)] {
                let inside = orders.filter { (period.lower...period.upper).contains($0.int("first_seen_at")!) }
                let orderers = Set(inside.map { $0.int("customer_id")! })
                let expected: [String: Int64] = [
                    "total": Int64(roots.count),
                    "new": Int64(roots.filter { firstOrder[$0].map { (period.lower...period.upper).contains($0) } ?? false }.count),
                    "returning": Int64(orderers.filter { roots.contains($0) && firstOrder[$0]! < period.lower }.count),
                    "with_order": Int64(orderers.count),
                    "orders": Int64(inside.count),
                    "revenue": inside.map { $0.int("amount_minor")! }.reduce(0, +),
                ]
                let stats = try await fixture.stores.stats.stats(period, currency: "EUR").json
                let actual: [String: Int64] = [
                    "total": stats["customers"]?["total"]?.intValue ?? -1, "new": stats["customers"]?["new"]?.intValue ?? -1,
                    "returning": stats["customers"]?["returning"]?.intValue ?? -1,
                    "with_order": stats["customers"]?["with_order"]?.intValue ?? -1, "orders": stats["orders"]?.intValue ?? -1,
                    "revenue": Int64(stats["revenue"]?["EUR"]?.stringValue?.replacingOccurrences(of: ".", with: "") ?? "0") ?? -1,
                ]
                #expect(actual == expected, "\(state), \(name)")
                if name == "period" { return actual }
            }
            return [:]
        }

        // Ana ordered before the period and in it; the mobile's customer before it.
        try await fixture.ingest(Events.profile("bridge", minute: 170, #"{"email":"b@example.com","mobile":"600111222"}"#))
        #expect(try await fixture.liveCount() == 4)
        #expect(try await expectAgreementWithTheRows("merged") == [
            "total": 4, "new": 1, "returning": 2, "with_order": 3, "orders": 3, "revenue": 9000,
        ])
        let mergedAway = try #require(try await fixture.texts("SELECT customer_no FROM customers WHERE merged_into IS NOT NULL").first)
        _ = try await fixture.store.unmerge(customerNo: mergedAway, at: Timestamp(microseconds: 0))
        #expect(try await expectAgreementWithTheRows("unmerged") == [
            "total": 5, "new": 2, "returning": 1, "with_order": 3, "orders": 3, "revenue": 9000,
        ])
        // The erased customer's anonymous row still counts, with its order and revenue.
        try await fixture.ingest(Events.make("erase", "customer.erasure_requested", minute: 250, #"{"customer":{"email":"c@example.com"}}"#))
        #expect(try await expectAgreementWithTheRows("erased") == [
            "total": 5, "new": 2, "returning": 1, "with_order": 3, "orders": 3, "revenue": 9000,
        ])
    }

    /// Periods are whole days on the business's clock, 23 hours long on the day clocks go forward;
    /// the busiest weekday and hour are read on the same clock.
    @Test func periodsAndBusiestTimesAreOnTheBusinessClock() throws {
        let madrid = try #require(TimeZone(identifier: "Europe/Madrid"))
        let period = try CustomerStats.Period.parse(CommandArguments(["from": .string("2026-03-29"), "to": .string("2026-03-29")]), in: madrid)
        #expect(period.from == Timestamp(rfc3339: "2026-03-28T23:00:00Z"))
        #expect(period.to == Timestamp(rfc3339: "2026-03-29T21:59:59.999999Z"))
        var stats = CustomerStats(period: period, currency: "EUR")
        #expect(stats.json["from"] == .string("2026-03-29T00:00:00+01:00"))
        #expect(stats.json["to"] == .string("2026-03-29T23:59:59.999999+02:00"))
        // Friday 23:30 UTC is Saturday 00:30 in Madrid; two orders then beat one on Friday 10:00.
        func slot(_ text: String) -> Int64 { Timestamp(rfc3339: text)!.microseconds / CustomerStats.slotMicroseconds }
        let slots = [(slot: slot("2026-11-20T23:30:00Z"), orders: Int64(2)), (slot: slot("2026-11-20T10:00:00Z"), orders: Int64(1))]
        let busiest = try #require(CustomerStats.busiest(slots, in: madrid))
        stats.busiestWeekday = busiest.weekday
        stats.busiestHour = busiest.hour
        #expect(stats.json["busiest_weekday"] == .string("saturday"))
        #expect(stats.json["busiest_hour"] == .integer(0))
        #expect(CustomerStats.busiest([], in: madrid) == nil)
        // India's half-hour offset: 23:30 UTC is 05:00 the next morning.
        let kolkata = try #require(TimeZone(identifier: "Asia/Kolkata"))
        #expect(CustomerStats.busiest([(slot: slot("2026-11-20T23:30:00Z"), orders: 1)], in: kolkata).map { [$0.weekday, $0.hour] } == [6, 5])
    }
}
