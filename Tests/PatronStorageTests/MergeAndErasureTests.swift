import Foundation
import GRDB
import PatronDomain
@testable import PatronStorage
import Testing

/// Bridge events, merge limits, customer-number conflicts, unmerge and erasure on both engines.
struct MergeAndErasureTests {
    /// A (email) and B (mobile) as separate records, each with a booking; the bridge names both.
    static let recordA = Events.booking("a1", minute: 1, customer: #"{"email":"ana@example.com","first_name":"Ana","address":{"city":"Donostia"},"tags":["VIP"]}"#, ref: "BK-A")
    static let recordB = Events.booking("b1", minute: 2, customer: #"{"mobile":"600111222","last_name":"García","newsletter":true}"#, ref: "BK-B", amount: "\"50.00\"")
    static let moreB = Events.make("b2", "cart.updated", minute: 3, #"{"customer":{"mobile":"+34 600 111 222"},"cart":{"id":"CART-B","status":"active"}}"#)
    static let bridge = Events.profile("bridge", minute: 10, #"{"email":"ana@example.com","mobile":"+34600111222"}"#)

    @Test(arguments: Engine.allCases, [0, 1, 3])
    func bridgeEventMergesWhereverItArrives(engine: Engine, position: Int) async throws {
        let fixture = try await RecordsFixture.open(engine)
        var stream = [Self.recordA, Self.recordB, Self.moreB]
        stream.insert(Self.bridge, at: position)
        for event in stream { try await fixture.ingest(event) }
        #expect(try await fixture.liveCount() == 1)
        let bookings = try await fixture.integer("SELECT count(DISTINCT customer_id) FROM bookings")
        #expect(bookings == 1)
        let survivor = try #require(try await fixture.integer("SELECT id FROM customers WHERE merged_into IS NULL"))
        let row = try await fixture.texts("""
            SELECT coalesce(first_name, '-') || ' ' || coalesce(last_name, '-') || ' ' || coalesce(newsletter, -1) || ' ' || orders || ' ' || tags
            FROM customers WHERE id = ?
            """, [.integer(survivor)])
        #expect(row == ["Ana García 1 2 VIP"])
        let announced = try await fixture.texts("SELECT routing_key FROM outbox")
        // Only a bridge after both records exist merges; earlier, the records never split at all.
        #expect(announced == (position == 3 ? ["customer.merged"] : []))
    }

    @Test(arguments: Engine.allCases) func unmergeSplitsBackToTheRecordsBuiltWithoutTheBridge(engine: Engine) async throws {
        let without = try await RecordsFixture.open(engine)
        try await without.ingest(Self.recordA, Self.recordB, Self.moreB)
        let expected = try await without.canonicalDump()

        let merged = try await RecordsFixture.open(engine)
        try await merged.ingest(Self.recordA, Self.recordB, Self.moreB)
        let loserNumber = try #require(try await merged.texts("SELECT customer_no FROM customers WHERE id = 2").first)
        try await merged.ingest(Self.bridge)
        #expect(try await merged.liveCount() == 1)
        #expect(try await merged.searchIndexDisagreements() == [])
        _ = try await merged.store.unmerge(customerNo: loserNumber, at: Timestamp(microseconds: 0))
        #expect(try await merged.liveCount() == 2)
        #expect(try await merged.searchIndexDisagreements() == [])
        // The bridge's own statements (which arrived after the merge) stay with the survivor; every
        // other field, booking, cart, tag and consent statement is back where it came from.
        let actual = try await merged.canonicalDump().map(Self.withoutBridgeEffects)
        #expect(actual == expected.map(Self.withoutBridgeEffects))
        // Never merged automatically again: the next bridge is a recorded conflict.
        try await merged.ingest(Events.profile("bridge2", minute: 20, #"{"email":"ana@example.com","mobile":"600111222"}"#))
        #expect(try await merged.liveCount() == 2)
        let issues = try await merged.texts("SELECT kind FROM record_issues")
        #expect(issues == ["merge_blocked"])
        let announced = try await merged.texts("SELECT routing_key FROM outbox ORDER BY id")
        #expect(announced == ["customer.merged", "customer.unmerged"])
    }

    /// Strips what the bridge event itself stated (mobile and email fields and identifiers on the
    /// survivor), which by rule stays with the survivor.
    static func withoutBridgeEffects(_ line: String) -> String {
        line.split(separator: " ").filter { part in
            !part.hasPrefix("mobile") && !part.hasPrefix("email") && !part.hasPrefix("identifiers")
        }.joined(separator: " ")
    }

    @Test(arguments: Engine.allCases) func twoDifferentCustomerNumbersAreNeverMergedAutomatically(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("1", minute: 1, #"{"customer_no":"C-1","email":"shared@example.com"}"#))
        try await fixture.ingest(Events.profile("2", minute: 2, #"{"customer_no":"C-2","email":"shared@example.com","first_name":"Luis"}"#))
        #expect(try await fixture.liveCount() == 2)
        #expect(try await fixture.customer("C-2")?.text("first_name") == "Luis")
        #expect(try await fixture.customer("C-1")?.text("first_name") == nil)
        let issues = try await fixture.texts("SELECT kind FROM record_issues")
        #expect(issues == ["customer_no_conflict"])
    }

    @Test(arguments: Engine.allCases) func assignedNumberTakesTheFirstCustomerNumberAndStaysAnAlias(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("1", minute: 1, #"{"email":"ana@example.com"}"#))
        let assigned = try #require(try await fixture.texts("SELECT customer_no FROM customers").first)
        #expect(assigned.hasPrefix("P-"))
        try await fixture.ingest(Events.profile("2", minute: 2, #"{"email":"ana@example.com","customer_no":"C-7"}"#))
        #expect(try await fixture.customer("C-7")?.text("customer_no") == "C-7")
        #expect(try await fixture.customer(assigned)?.text("customer_no") == "C-7")
        #expect(try await fixture.liveCount() == 1)
    }

    @Test(arguments: Engine.allCases, [2, 3])
    func mergeThatWouldJoinMoreThanTheLimitIsNotMade(engine: Engine, limit: Int) async throws {
        var rules = RecordRules()
        rules.maximumMergeRecords = limit
        let fixture = try await RecordsFixture.open(engine, rules: rules)
        try await fixture.ingest(Events.profile("a", minute: 1, #"{"email":"a@example.com"}"#),
                                 Events.profile("b", minute: 2, #"{"mobile":"600000001"}"#),
                                 Events.profile("c", minute: 3, #"{"phone":"943000001"}"#))
        try await fixture.ingest(Events.profile("bridge", minute: 10, #"{"email":"a@example.com","mobile":"600000001","phone":"943000001","company":"Acme"}"#))
        let kinds = try await fixture.texts("SELECT kind FROM record_issues")
        if limit == 2 {
            #expect(try await fixture.liveCount() == 3)
            #expect(kinds == ["merge_limit"])
            // The event still applies, to the oldest match.
            let company = try await fixture.texts("SELECT company FROM customers WHERE id = 1").first
            #expect(company == "Acme")
        } else {
            #expect(try await fixture.liveCount() == 1)
            #expect(kinds.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases) func erasureRemovesEveryPersonalByteAndOldEventsNeverBringItBack(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let person = #"{"customer_no":"C-9","email":"zyxwvu@example.com","mobile":"600999888","first_name":"Qwertyuiop","address":{"line1":"Calle Zyxwvu 1"}}"#
        try await fixture.ingest(Events.booking("b1", minute: 1, customer: person, ref: "BK-9", amount: "\"300.00\""),
                                 Events.make("s1", "contact.submitted", minute: 2, #"{"customer":\#(person),"message":{"thread_id":"T-9","body":"Secretbodytext"}}"#),
                                 Events.make("r1", "contact.replied", minute: 3, #"{"message":{"thread_id":"T-9","body":"Replybodytext","author":"maria"}}"#))
        if engine == .sqlite {
            let searchable = try await fixture.texts("SELECT first_name || '/' || address FROM customer_search")
            #expect(searchable == ["qwertyuiop/calle zyxwvu 1"], "the search table holds folded copies until the erasure")
        }
        try await fixture.ingest(Events.make("erase", "customer.erasure_requested", minute: 10, #"{"customer":{"email":"ZYXWVU@example.com"}}"#))
        #expect(try await fixture.searchIndexDisagreements() == [])
        if engine == .sqlite { try await Self.expectNoErasedBytesInTheSQLiteFiles(fixture) }
        // Replayed with new ids and old times, through each identifier: dropped and counted.
        let outcome = try await fixture.ingest(
            Events.profile("late1", minute: 5, #"{"email":"zyxwvu@example.com","first_name":"Qwertyuiop"}"#),
            Events.profile("late2", minute: 5, #"{"mobile":"+34600999888","first_name":"Qwertyuiop"}"#),
            Events.profile("late3", minute: 5, #"{"customer_no":"C-9","first_name":"Qwertyuiop"}"#))
        #expect(outcome.suppressed == 3)
        if engine == .sqlite { try await Self.expectNoErasedBytesInTheSQLiteFiles(fixture) }
        // An event after the erasure starts a new record.
        try await fixture.ingest(Events.profile("new", minute: 20, #"{"email":"zyxwvu@example.com","first_name":"Nuevo"}"#))
        #expect(try await fixture.liveCount() == 1)
        let totals = try await fixture.texts("""
            SELECT orders || ' ' || CASE WHEN erased_at IS NOT NULL THEN 'erased' ELSE 'kept' END || ' ' || coalesce(first_name, '-')
            FROM customers WHERE customer_no = 'C-9'
            """)
        #expect(totals == ["1 erased -"])
        let log = try await fixture.texts("SELECT customer_no FROM erasure_log")
        #expect(log == ["C-9"])
        let announced = try await fixture.texts("SELECT routing_key FROM outbox")
        #expect(announced == ["customer.erased"])
    }

    /// SQLite keeps no erased byte: not in the word index's segments (merged by the erasure), the
    /// main file or the WAL. (PostgreSQL keeps old row versions until VACUUM: README, "Scale-out".)
    static func expectNoErasedBytesInTheSQLiteFiles(_ fixture: RecordsFixture) async throws {
        // The word index keeps a deleted entry's trigrams in older segments until they merge: the
        // erasure has merged them already when merging again changes no byte of the index.
        let wordIndex = "SELECT group_concat(id || ':' || hex(block)) FROM (SELECT id, block FROM customer_words_data ORDER BY id)"
        let indexAfterErasure = try await fixture.read { try String.fetchOne($0, sql: wordIndex) }
        let indexMergedAgain = try await fixture.database.pool.write { db in
            try db.execute(sql: "INSERT INTO customer_words (customer_words) VALUES ('optimize')")
            return try String.fetchOne(db, sql: wordIndex)
        }
        #expect(indexAfterErasure == indexMergedAgain)
        #expect(try await fixture.searchIndexDisagreements() == [])
        #expect(try await fixture.integer("SELECT count(*) FROM customer_words WHERE customer_words MATCH '\"qwerty\"'") == 0)
        // No byte of the erased values anywhere in the database files (main file and WAL),
        // replayed events included.
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.directory.path)
        for file in files {
            let bytes = try Data(contentsOf: fixture.directory.appendingPathComponent(file))
            // "qwertyuiop" is the search table's folded copy of the first name.
            for secret in ["zyxwvu", "Qwertyuiop", "qwertyuiop", "Secretbodytext", "Replybodytext", "600999888"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) found in \(file)")
            }
        }
    }
}
