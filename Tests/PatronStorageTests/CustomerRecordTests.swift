import Foundation
import GRDB
import PatronDomain
@testable import PatronStorage
import Testing

/// The effects of every event type, on a real SQLite database through the real decoder.
struct CustomerRecordTests {
    static let ana = #"{"customer_no":"C-1","title":"mrs","first_name":"Ana","last_name":"García","email":" Ana.Garcia@Example.com ","mobile":"600 111 222","address":{"city":"Donostia","country":"Spain"},"newsletter":true}"#

    @Test(arguments: Engine.allCases) func bookingCreatesTheCustomerWithNormalizedFieldsAndFigures(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.booking("e1", minute: 0, customer: Self.ana, ref: "BK-1", amount: "\"412.50\""))
        let ana = try #require(try await fixture.customer("C-1"))
        #expect(ana.text("title") == "Mrs.")
        #expect(ana.text("email") == "Ana.Garcia@Example.com")
        #expect(ana.text("country") == "ES")
        #expect(ana.int("newsletter") == 1)
        #expect(ana.int("auto_group") == Int64(AutomaticGroup.guest.rawValue))
        #expect(ana.int("orders") == 1)
        let spend = try await fixture.integer("SELECT total_minor FROM customer_spend WHERE currency = 'EUR'")
        #expect(spend == 41250)
        let keys = try await fixture.texts("SELECT key FROM customer_identifiers ORDER BY key")
        #expect(keys == ["+34600111222", "ana.garcia@example.com"])
    }

    @Test(arguments: Engine.allCases) func theSamePersonByAnotherIdentifierUpdatesTheSameRecord(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.booking("e1", minute: 0, customer: Self.ana, ref: "BK-1"))
        try await fixture.ingest(Events.profile("e2", minute: 5, #"{"mobile":"+34600111222","company":"Acme SL"}"#))
        try await fixture.ingest(Events.profile("e3", minute: 6, #"{"email":"ANA.GARCIA@example.com","language":"ES"}"#))
        #expect(try await fixture.liveCount() == 1)
        let ana = try #require(try await fixture.customer("C-1"))
        #expect(ana.text("company") == "Acme SL")
        #expect(ana.text("language") == "es")
    }

    @Test(arguments: Engine.allCases) func olderValuesNeverOverwriteNewerButFillEmptyFields(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("new", minute: 30, #"{"customer_no":"C-1","address":{"city":"Bilbao"}}"#))
        try await fixture.ingest(Events.profile("old", minute: 10, #"{"customer_no":"C-1","address":{"city":"Donostia","zip":"20001"},"company":""}"#))
        let record = try #require(try await fixture.customer("C-1"))
        #expect(record.text("city") == "Bilbao")
        #expect(record.text("zip") == "20001")
        #expect(record.text("company") == nil)
    }

    @Test(arguments: Engine.allCases) func lateUpdateNeverRevivesACancellation(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.booking("c", minute: 0, customer: Self.ana, ref: "BK-1"),
                                 Events.status("x", "booking.cancelled", minute: 20, ref: "BK-1"),
                                 Events.booking("u", minute: 10, customer: Self.ana, ref: "BK-1", type: "booking.updated"))
        let status = try await fixture.texts("SELECT status FROM bookings WHERE ref = 'BK-1'").first
        #expect(status == "cancelled")
        #expect(try await fixture.customer("C-1")?.int("orders") == 0)
    }

    @Test(arguments: Engine.allCases) func noShowsAndCompletedStaysTagTheCustomer(engine: Engine) async throws {
        var rules = RecordRules()
        rules.regularAfterStays = 2
        let fixture = try await RecordsFixture.open(engine, rules: rules)
        for index in 1...3 {
            try await fixture.ingest(Events.booking("b\(index)", minute: index, customer: Self.ana, ref: "BK-\(index)"))
        }
        try await fixture.ingest(Events.status("n", "booking.no_show", minute: 20, ref: "BK-1"))
        try await fixture.ingest(Events.status("c2", "booking.completed", minute: 21, ref: "BK-2"))
        #expect(try await fixture.customer("C-1")?.text("tags") == "No-show")
        try await fixture.ingest(Events.status("c3", "booking.completed", minute: 22, ref: "BK-3"))
        let ana = try #require(try await fixture.customer("C-1"))
        #expect(ana.text("tags") == "No-show\u{1F}Regular")
        #expect(ana.int("no_shows") == 1)
        #expect(ana.int("orders") == 2)
    }

    @Test(arguments: Engine.allCases) func statusEventBeforeItsBookingIsAttachedLater(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.status("x", "booking.cancelled", minute: 20, ref: "BK-9"))
        try await fixture.ingest(Events.make("p", "payment.recorded", minute: 21, #"{"payment":{"reference":"PAY-1","booking_ref":"BK-9","amount":50,"method":"card","status":"refunded"}}"#))
        try await fixture.ingest(Events.booking("c", minute: 0, customer: Self.ana, ref: "BK-9"))
        let row = try await fixture.texts("""
            SELECT b.status || ':' || CASE WHEN p.customer_id = b.customer_id THEN 'same' ELSE 'other' END
            FROM bookings b, payments p WHERE b.ref = 'BK-9'
            """)
        #expect(row == ["cancelled:same"])
    }

    @Test(arguments: Engine.allCases) func threadsRepliesBeforeThreadsAndFirstResponse(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.make("r1", "contact.replied", minute: 30, #"{"message":{"thread_id":"T-1","body":"We are open","author":"maria"}}"#))
        try await fixture.ingest(Events.make("s1", "contact.submitted", minute: 10, #"{"customer":\#(Self.ana),"message":{"thread_id":"T-1","subject":"Late arrival","body":"After midnight?"}}"#))
        try await fixture.ingest(Events.make("s2", "contact.submitted", minute: 40, #"{"customer":\#(Self.ana),"message":{"subject":"Parking","body":"Is there parking?"}}"#))
        let threads = try await fixture.texts("""
            SELECT thread_id || ':' || coalesce(CAST(first_response_at - opened_at AS TEXT), '-') FROM threads ORDER BY opened_at
            """)
        #expect(threads == ["T-1:1200000000", "s2:-"])
        #expect(try await fixture.customer("C-1")?.int("auto_group") == Int64(AutomaticGroup.visitor.rawValue))
    }

    @Test(arguments: Engine.allCases) func visitorCartIsAttachedWhenTheCartIsIdentified(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.make("c1", "cart.updated", minute: 0, #"{"cart":{"id":"CART-1","status":"active","total":"137.50"}}"#))
        #expect(try await fixture.liveCount() == 0)
        try await fixture.ingest(Events.make("c2", "cart.updated", minute: 5, #"{"customer":{"email":"ana@example.com"},"cart":{"id":"CART-1","status":"abandoned"}}"#))
        let cart = try await fixture.texts("""
            SELECT status || ':' || total_minor || ':' || CASE WHEN customer_id IS NOT NULL THEN 'customer' ELSE 'visitor' END FROM carts
            """)
        #expect(cart == ["abandoned:13750:customer"])
    }

    @Test(arguments: Engine.allCases) func accountMakesACustomerAndGroupsNeverGoDown(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("a", minute: 0, #"{"customer_no":"C-1","account":true}"#))
        try await fixture.ingest(Events.profile("b", minute: 5, #"{"customer_no":"C-1","account":false}"#))
        #expect(try await fixture.customer("C-1")?.int("auto_group") == Int64(AutomaticGroup.customer.rawValue))
    }

    @Test(arguments: Engine.allCases) func consentIsAHistoryAndTheLatestStatementWins(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("out", minute: 20, #"{"customer_no":"C-1","newsletter":false}"#))
        try await fixture.ingest(Events.profile("in", minute: 10, #"{"customer_no":"C-1","newsletter":true}"#))
        try await fixture.ingest(Events.profile("none", minute: 30, #"{"customer_no":"C-1","newsletter":null}"#))
        #expect(try await fixture.customer("C-1")?.int("newsletter") == 0)
        let statements = try await fixture.integer("SELECT count(*) FROM consent_statements")
        #expect(statements == 2)
    }

    @Test(arguments: Engine.allCases) func tagsBeyondNineAreReportedAndTheEventStillApplies(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let tags = (1...11).map { "\"T\($0)\"" }.joined(separator: ",")
        try await fixture.ingest(Events.profile("t", minute: 0, #"{"customer_no":"C-1","address":{"city":"Bilbao"},"tags":[\#(tags)]}"#))
        let record = try #require(try await fixture.customer("C-1"))
        #expect(record.text("tags")?.split(separator: "\u{1F}").count == 9)
        #expect(record.text("city") == "Bilbao")
        let issues = try await fixture.texts("SELECT kind FROM record_issues")
        #expect(issues == ["tag_limit", "tag_limit"])
    }

    @Test(arguments: Engine.allCases) func hostileStringsRoundTripVerbatim(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let names = ["García", "Øyvind", "李", "Robert'); DROP TABLE customers;--", "\\\"quoted\\\""]
        for (index, name) in names.enumerated() {
            try await fixture.ingest(Events.profile("h\(index)", minute: index, #"{"customer_no":"H-\#(index)","last_name":"\#(name)"}"#))
        }
        for (index, name) in names.enumerated() {
            let stored = try await fixture.customer("H-\(index)")?.text("last_name")
            #expect(stored == name.replacingOccurrences(of: "\\\"", with: "\""))
        }
    }

    @Test(arguments: Engine.allCases) func blocklistedPlaceholderSharedByFiftyWalkInsMakesFiftyRecords(engine: Engine) async throws {
        var rules = RecordRules()
        rules.blockedEmails.insert("frontdesk@hotel.example")
        let fixture = try await RecordsFixture.open(engine, rules: rules)
        let bookings = (0..<50).map { index in
            Events.booking("w\(index)", minute: index, customer: #"{"email":"frontdesk@hotel.example","phone":"000000","last_name":"Guest \#(index)"}"#,
                           ref: "BK-\(index)")
        }
        try await fixture.ingest(bookings)
        #expect(try await fixture.liveCount() == 50)
    }

    @Test(arguments: Engine.allCases) func aggregatesMaintainedPerChangeMatchARecomputationFromScratch(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        var events: [String] = []
        for index in 0..<60 {
            let person = index % 7
            events.append(Events.booking("b\(index)", minute: index, customer: #"{"email":"p\#(person)@example.com"}"#, ref: "BK-\(index % 40)",
                                         status: ["confirmed", "pending", "completed"][index % 3], amount: "\"\(index).25\""))
            if index % 5 == 0 { events.append(Events.status("x\(index)", "booking.cancelled", minute: 100 + index, ref: "BK-\(index % 40)")) }
            if index % 11 == 0 { events.append(Events.status("n\(index)", "booking.no_show", minute: 200 + index, ref: "BK-\(index)")) }
        }
        try await fixture.ingest(Array(events.shuffled()))
        let mismatches = try await fixture.figuresDifferingFromARecount()
        #expect(mismatches == 0)
    }

    /// A batch first runs without savepoints; an event that then fails (here a trigger stands in
    /// for any non-environmental error) sends the batch round again with one savepoint per event.
    @Test(arguments: Engine.allCases) func eventThatCannotBeAppliedLeavesNoTraceAndTheRestOfTheBatchCommits(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        switch engine {
        case .sqlite:
            try await fixture.database.pool.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON bookings WHEN NEW.ref = 'BK-POISON'
                    BEGIN SELECT RAISE(ABORT, 'poisoned booking'); END
                    """)
            }
        case .postgres:
            try await fixture.executeOnPostgres("""
                CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.ref = 'BK-POISON' THEN RAISE EXCEPTION 'poisoned booking'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER poison BEFORE INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION poison();
                """)
        }
        let outcome = try await fixture.ingest(
            Events.booking("ok1", minute: 1, customer: #"{"email":"ana@example.com","newsletter":true}"#, ref: "BK-1"),
            Events.booking("ok2", minute: 2, customer: #"{"email":"ana@example.com","newsletter":true}"#, ref: "BK-2"),
            Events.booking("bad", minute: 3, customer: #"{"email":"poison@example.com"}"#, ref: "BK-POISON"),
            Events.booking("ok3", minute: 4, customer: #"{"email":"ben@example.com"}"#, ref: "BK-3"))
        #expect(outcome.recorded == 3)
        #expect(Array(outcome.failed.keys) == [2])
        #expect(outcome.failed[2]?.reason == .unprocessable)
        #expect(outcome.failed[2]?.message.contains("poisoned booking") == true)
        var counts: [Int64?] = []
        for table in ["event_journal", "customers", "bookings", "consent_statements", "customer_identifiers"] {
            counts.append(try await fixture.integer("SELECT count(*) FROM \(table)"))
        }
        // Journal ok1, ok2, ok3; customers Ana and Ben, nobody for the poisoned event; bookings
        // BK-1, BK-2, BK-3; Ana's two consent statements once each, although her events ran twice.
        #expect(counts == [3, 2, 3, 2, 2])
        let anasOrders = try await fixture.integer("""
            SELECT orders FROM customers c JOIN customer_identifiers i ON i.customer_id = c.id WHERE i.key = 'ana@example.com'
            """)
        #expect(anasOrders == 2)
    }
}
