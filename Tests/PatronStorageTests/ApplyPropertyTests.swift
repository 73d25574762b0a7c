import Foundation
import GRDB
import PatronDomain
@testable import PatronStorage
import SeededRandom
import Testing

/// Property test of the apply path: random valid streams (every event type, identities that
/// overlap and bridge, placeholders, hostile and non-Latin text, late and duplicate events,
/// erasures) in random batches. Every event must apply or be a duplicate, never fail; figures
/// must equal a recount; nothing may stay owned by a merged-away record; text must round-trip.
/// Seeded, so a failure reproduces from the seed in its message.
struct ApplyPropertyTests {
    static let names = ["Ana", "García", "Øyvind", "李", "Robert'); DROP TABLE customers;--", "O'Brien", "Zoë 🌊", "\\\\\"quoted\\\\\""]

    /// Random valid events over small pools of people, bookings, payments, carts and threads, so
    /// that they collide.
    struct Stream {
        var generator: SplitMix64
        var count = 0

        mutating func pick<T>(_ values: [T]) -> T { values[Int(generator.next() % UInt64(values.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { generator.next() % 100 < percent }

        mutating func customer(identityOnly: Bool = false) -> String {
            let person = Int(generator.next() % 12)
            var fields: [String] = []
            // Placeholders, case variants, and now and then a mobile of the next person: a bridge.
            if chance(70) { fields.append(#""email":"\#(chance(15) ? "test@test.com" : "\(pick(["P", "p"]))\(person)@example.com")""#) }
            if chance(40) { fields.append(#""mobile":"\#(pick(["+34", ""]))6001112\#(String(format: "%02d", (person + (chance(10) ? 1 : 0)) % 12))""#) }
            if chance(15) || fields.isEmpty { fields.append(#""customer_no":"C-\#(person)""#) }
            if !identityOnly {
                if chance(50) { fields.append(#""first_name":\#(json(pick(ApplyPropertyTests.names)))"#) }
                if chance(30) { fields.append(#""address":{"city":"\#(pick(["Donostia", "Bilbao", "Irun"]))"}"#) }
                if chance(30) { fields.append(#""newsletter":\#(chance(50))"#) }
                if chance(10) { fields.append(#""account":true"#) }
                if chance(10) { fields.append(#""tags":["\#(pick(["VIP", "Local", "Business"]))"]"#) }
            }
            return "{\(fields.joined(separator: ","))}"
        }

        mutating func booking(statusRequired: Bool) -> String {
            var fields = [#""ref":"BK-\#(generator.next() % 15)""#]
            if statusRequired || chance(70) { fields.append(#""status":"\#(pick(["pending", "confirmed", "cancelled", "no_show", "completed"]))""#) }
            if chance(60) {
                let currency = pick(["EUR", "JPY", "USD"])
                let amount = currency == "JPY" ? "\(generator.next() % 90000)" : "\(generator.next() % 900).\(String(format: "%02d", generator.next() % 100))"
                fields.append(#""amount":"\#(amount)","currency":"\#(currency)""#)
            }
            if chance(30) { fields.append(#""hotel":\#(json(pick(ApplyPropertyTests.names)))"#) }
            return "{\(fields.joined(separator: ","))}"
        }

        mutating func next() -> String {
            count += 1
            let id = "e\(count)"
            let minute = Int(generator.next() % 600)
            let type = pick(EventType.allCases)
            let data: String
            switch type {
            case .bookingCreated, .bookingUpdated:
                data = #"{"customer":\#(customer()),"booking":\#(booking(statusRequired: false))}"#
            case .bookingCancelled, .bookingNoShow, .bookingCompleted:
                data = chance(30) ? #"{"customer":\#(customer()),"booking":{"ref":"BK-\#(generator.next() % 15)"}}"# : #"{"booking":{"ref":"BK-\#(generator.next() % 15)"}}"#
            case .paymentRecorded:
                let customer = chance(40) ? #""customer":\#(customer()),"# : ""
                data = #"{\#(customer)"payment":{"reference":"PAY-\#(generator.next() % 8)","booking_ref":"BK-\#(generator.next() % 15)","amount":"\#(generator.next() % 500).50","status":"\#(pick(["succeeded", "failed", "refunded"]))"}}"#
            case .contactSubmitted:
                let thread = chance(50) ? #""thread_id":"T-\#(generator.next() % 5)","# : ""
                data = #"{"customer":\#(customer()),"message":{\#(thread)"subject":\#(json(pick(ApplyPropertyTests.names))),"body":\#(json(pick(ApplyPropertyTests.names)))}}"#
            case .contactReplied:
                data = #"{"message":{"thread_id":"T-\#(generator.next() % 5)","body":"ok","author":"maria"}}"#
            case .cartUpdated:
                let customer = chance(60) ? #""customer":\#(customer()),"# : ""
                data = #"{\#(customer)"cart":{"id":"CART-\#(generator.next() % 6)","status":"\#(pick(["active", "ordered", "abandoned"]))","total":"\#(generator.next() % 300)"}}"#
            case .customerUpdated:
                data = #"{"customer":\#(customer())}"#
            case .customerErasureRequested:
                guard chance(15) else { return next() }
                data = #"{"customer":\#(customer(identityOnly: true))}"#
            }
            return Events.make(id, type.rawValue, minute: minute, data)
        }

        func json(_ text: String) -> String {
            String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
        }
    }

    @Test(arguments: Engine.allCases, [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomStreamsApplyCompletelyAndKeepTheRecordsConsistent(engine: Engine, seed: UInt64) async throws {
        let fixture = try await RecordsFixture.open(engine)
        var stream = Stream(generator: SplitMix64(seed: seed))
        var events = (0..<200).map { _ in stream.next() }
        events += events.prefix(20)  // redeliveries
        var batches = stream.generator
        while !events.isEmpty {
            let size = Int(batches.next() % 40) + 1
            let batch = Array(events.prefix(size))
            events.removeFirst(batch.count)
            let outcome = try await fixture.ingest(batch)
            #expect(outcome.failed.isEmpty, "seed \(seed): \(outcome.failed.values.map(\.message))")
            #expect(outcome.recorded + outcome.duplicates + outcome.failed.count == batch.count, "seed \(seed)")
        }
        #expect(try await fixture.figuresDifferingFromARecount() == 0, "seed \(seed)")
        #expect(try await fixture.searchIndexDisagreements() == [], "seed \(seed)")
        var ownedByMergedAway: [Int64?] = []
        for table in ["bookings", "payments", "carts", "threads", "customer_identifiers", "consent_statements"] {
            ownedByMergedAway.append(try await fixture.integer(
                "SELECT count(*) FROM \(table) t JOIN customers c ON c.id = t.customer_id WHERE c.merged_into IS NOT NULL"))
        }
        #expect(ownedByMergedAway == [0, 0, 0, 0, 0, 0], "seed \(seed)")
        let storedNames = try await fixture.texts("""
            SELECT first_name FROM customers WHERE first_name IS NOT NULL
            UNION SELECT body FROM thread_messages WHERE body IS NOT NULL AND direction = 'customer'
            """)
        #expect(Set(storedNames).isSubset(of: Self.names), "seed \(seed): \(Set(storedNames).subtracting(Self.names))")
        let journaledToMissing = try await fixture.integer(
            "SELECT count(*) FROM event_journal j LEFT JOIN customers c ON c.id = j.customer_id WHERE j.customer_id IS NOT NULL AND c.id IS NULL")
        #expect(journaledToMissing == 0, "seed \(seed)")
        // The streams reach the paths that matter: bridge merges and erasures.
        let merges = try await fixture.integer("SELECT count(*) FROM merges") ?? 0
        let erasures = try await fixture.integer("SELECT count(*) FROM erasure_log") ?? 0
        let mergesAndErasures = [merges, erasures]
        #expect(mergesAndErasures.allSatisfy { $0 > 0 }, "seed \(seed): \(mergesAndErasures)")
    }
}
