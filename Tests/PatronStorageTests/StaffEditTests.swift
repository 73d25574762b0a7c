import GRDB
import PatronDomain
@testable import PatronStorage
import Testing

/// Staff's hand edits under the record rules, on real SQLite.
struct StaffEditTests {
    static func id(_ fixture: RecordsFixture, _ number: String) async throws -> CustomerID {
        try #require(try await fixture.integer("SELECT customer_id FROM customer_numbers WHERE number = ?", [.text(number)]))
    }

    @Test(arguments: Engine.allCases) func tagsKeepTheirConfiguredSpellingAndStopAtTheLimit(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("p1", minute: 1, #"{"customer_no":"C-1","email":"ana@example.com"}"#))
        let ana = try await Self.id(fixture, "C-1")
        try await fixture.store.change { applier, records in
            try applier.tag(ana, "vip", store: records)
            try applier.tag(ana, "VIP", store: records)
            for index in 1...8 { try applier.tag(ana, "t\(index)", store: records) }
        }
        #expect(try await fixture.customer("C-1")?.text("tags")?.split(separator: "\u{1F}").first == "VIP")
        await #expect(throws: RecordApplier.StaffEditError.tagLimit(9)) {
            try await fixture.store.change { applier, records in try applier.tag(ana, "t9", store: records) }
        }
        try await fixture.store.change { applier, records in try applier.untag(ana, "Vip", store: records) }
        #expect(try await fixture.customer("C-1")?.text("tags")?.contains("VIP") == false)
        try await fixture.store.change { applier, records in
            try applier.addNote(ana, text: "Prefers a quiet room", author: "maria", at: Timestamp(microseconds: 9), store: records)
        }
        let notes = try await fixture.texts("SELECT author || ': ' || text FROM customer_notes")
        #expect(notes == ["maria: Prefers a quiet room"])
    }

    @Test(arguments: Engine.allCases) func mergeByHandJoinsTwoRealNumbersAndUnmergeUndoesIt(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(
            Events.booking("b1", minute: 1, customer: #"{"customer_no":"C-1","email":"ana@example.com","first_name":"Ana"}"#, ref: "BK-1"),
            Events.booking("b2", minute: 2, customer: #"{"customer_no":"C-2","email":"ana.g@example.com","last_name":"García"}"#, ref: "BK-2"))
        let (ana, duplicate) = (try await Self.id(fixture, "C-1"), try await Self.id(fixture, "C-2"))
        let merged = try await fixture.store.change { applier, records in
            try applier.mergeByHand(into: ana, from: duplicate, at: Timestamp(microseconds: 100), store: records)
        }
        #expect(merged.customerNo == "C-1")
        #expect(merged.fields[.lastName]?.value == "García")
        #expect(try await fixture.customer("C-2")?.text("customer_no") == "C-1", "the merged-away number is an alias")
        #expect(try await fixture.customer("C-1")?.int("orders") == 2)
        await #expect(throws: RecordApplier.StaffEditError.sameCustomer) {
            try await fixture.store.change { applier, records in try applier.mergeByHand(into: ana, from: ana, at: .now, store: records) }
        }
        _ = try await fixture.store.unmerge(customerNo: "C-2", at: Timestamp(microseconds: 200))
        #expect(try await fixture.customer("C-2")?.int("orders") == 1)
        #expect(try await fixture.customer("C-1")?.text("last_name") == nil)
    }
}
