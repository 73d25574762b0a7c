import Foundation
import GRDB
import PatronDomain
import PatronService
@testable import PatronStorage
import Synchronization
import Testing

/// Imported rows on a real database (both engines): the same identity resolution and merges as events, idempotence,
/// dry runs, QloApps's export, and erased people staying erased.
struct CustomerImportStoreTests {
    static let importer = CustomerImport(rules: RecordRules(), phones: RecordsFixture.phones,
                                         hasher: HMACIdentityHasher(key: String(repeating: "k", count: 32)))
    static let asOf = Timestamp(rfc3339: "2026-11-21T09:00:00Z")!

    @discardableResult
    static func load(_ bytes: [UInt8], into fixture: RecordsFixture, groups: [String] = [], dryRun: Bool = false) async throws -> RecordOutcome {
        let batch = try importer.read(bytes, customGroups: groups, asOf: asOf)
        #expect(batch.rejected.isEmpty)
        let events = batch.rows.map { AcceptedEvent(event: $0.event, routingKey: "import", receivedAt: asOf, body: $0.body) }
        return try await fixture.store.record(events, dryRun: dryRun)
    }

    static func load(_ text: String, into fixture: RecordsFixture, groups: [String] = [], dryRun: Bool = false) async throws -> RecordOutcome {
        try await load(Array(text.utf8), into: fixture, groups: groups, dryRun: dryRun)
    }

    @Test(arguments: Engine.allCases) func qloappsExportBecomesNineCustomersAndASecondImportChangesNothing(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        // Read where the other teams keep it (`../shared/fixtures/`), never copied in.
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures/qloapps/customers_import.csv")))
        let first = try await Self.load(file, into: fixture)
        #expect(first.created == 9 && first.recorded == 9)
        #expect(try await fixture.liveCount() == 9, "the shared placeholder phone joins nobody")
        let peter = try await fixture.rows("""
            SELECT c.title, c.auto_group, c.newsletter, c.birthday FROM customers c
            JOIN customer_identifiers i ON i.customer_id = c.id WHERE i.key = 'peterpan@qloapps.com'
            """).first
        #expect(peter?.text("title") == "Mr." && peter?["auto_group"]?.integerValue == Int64(AutomaticGroup.customer.rawValue)
                && peter?["newsletter"]?.integerValue == 1 && peter?.text("birthday") == "1987-04-02")
        let consent = try await fixture.texts("""
            SELECT s.purpose || ':' || s.opted_in FROM consent_statements s JOIN customer_identifiers i ON i.customer_id = s.customer_id
            WHERE i.key = 'jameshook@qloapps.com' ORDER BY s.purpose
            """)
        #expect(consent == ["newsletter:0", "partner_offers:1"])
        let payloads = try await fixture.column("SELECT payload FROM event_journal").map { value -> String in
            guard case .blob(let bytes) = value else { return "" }
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(payloads.count == 9 && payloads.allSatisfy { $0.contains("qloapps") && !$0.contains("123456789\"") && !$0.contains("assword") })

        let before = try await fixture.canonicalDump()
        let second = try await Self.load(file, into: fixture)
        #expect(second.recorded == 0 && second.duplicates == 9)
        #expect(try await fixture.canonicalDump() == before)
    }

    @Test(arguments: Engine.allCases) func rowsResolveLikeEventsAgainstExistingCustomersAndEachOther(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("e1", minute: 0, #"{"customer_no":"C-1","first_name":"Ana","phone":"+34 943 711 952"}"#))
        let outcome = try await Self.load("""
            email,phone,last_name
            ana@example.com,943711952,García
            luis@example.com,,Pérez
            LUIS@example.com,600111222,
            """, into: fixture)
        #expect(outcome.created == 1 && outcome.recorded == 3)
        #expect(try await fixture.liveCount() == 2)
        let ana = try #require(try await fixture.customer("C-1"))
        #expect(ana.text("first_name") == "Ana" && ana.text("last_name") == "García")
    }

    /// patrond commits a long list in parts: rows meet across parts as within one, a rejected
    /// row keeps its line in the file, and the list again changes nothing.
    @Test(arguments: Engine.allCases) func aListCommittedInPartsCountsAsInOne(engine: Engine) async throws {
        let text = """
            email,first_name
            ana@example.com,Ana
            luis@example.com,Luis
            marta@example.com,Marta
            ANA@example.com,Ana María
            ,Nobody
            pedro@example.com,Pedro
            luis@example.com,Luis

            """
        var totals: [CustomerListLoader.Totals] = []
        for rowsPerPart in [3, 100] {
            let fixture = try await RecordsFixture.open(engine)
            let store = BatchSizes(store: fixture.store)
            let loader = CustomerListLoader(store: store, importer: Self.importer, rowsPerPart: rowsPerPart)
            let first = try await loader.load(Array(text.utf8), customGroups: [], asOf: Self.asOf, dryRun: false)
            #expect(store.sizes.withLock { $0 } == (rowsPerPart == 3 ? [3, 2, 1] : [6]), "the rejected row is in no batch")
            #expect(first.created == 4 && first.updated == 1 && first.unchanged == 1, "rows per part: \(rowsPerPart)")
            #expect(first.rejected.map(\.line) == [6] && first.rejected.map(\.field) == ["row"])
            #expect(try await fixture.liveCount() == 4)
            let ana = try await fixture.texts("""
                SELECT c.first_name FROM customers c JOIN customer_identifiers i ON i.customer_id = c.id WHERE i.key = 'ana@example.com'
                """)
            #expect(ana == ["Ana María"])
            let again = try await loader.load(Array(text.utf8), customGroups: [], asOf: Self.asOf, dryRun: false)
            #expect(again.created == 0 && again.updated == 0 && again.unchanged == 6 && again.rejected.map(\.line) == [6])
            totals.append(first)
        }
        #expect(totals[0] == totals[1])
    }

    @Test(arguments: Engine.allCases) func aDryRunCountsTheSameAndLeavesNothing(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let text = "email,first_name\nana@example.com,Ana\nana@example.com,Ana María\nluis@example.com,Luis\n"
        let dry = try await Self.load(text, into: fixture, dryRun: true)
        #expect(dry.created == 2 && dry.recorded == 3)
        #expect(try await fixture.liveCount() == 0)
        #expect(try await fixture.integer("SELECT count(*) FROM event_journal") == 0)
        let real = try await Self.load(text, into: fixture)
        #expect(real == dry)
    }

    @Test(arguments: Engine.allCases) func anImportNeverBringsBackAnErasedPerson(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        try await fixture.ingest(Events.profile("e1", minute: 0, #"{"email":"gone@example.com","first_name":"Gone"}"#))
        try await fixture.ingest(Events.make("erase", "customer.erasure_requested", minute: 1, #"{"customer":{"email":"gone@example.com"}}"#))
        // The list is dated after the erasure, and still does not bring the person back.
        let outcome = try await Self.load("email,first_name\ngone@example.com,Gone\n", into: fixture)
        #expect(outcome.suppressed == 1 && outcome.created == 0)
        #expect(try await fixture.liveCount() == 0)
        let kept = try await fixture.column("SELECT length(payload) FROM event_journal WHERE source = 'import'")
        #expect(kept == [.integer(0)], "the suppressed row's payload is not kept")
    }

    @Test(arguments: Engine.allCases) func customGroupsAndAutomaticGroupsFromTheList(engine: Engine) async throws {
        let fixture = try await RecordsFixture.open(engine)
        let catalog = fixture.stores.catalog
        _ = try await catalog.createGroup(name: "Golf Club", discountBasisPoints: 1000, at: Self.asOf)
        _ = try await Self.load("email,group\na@example.com,golf club\nb@example.com,Guest\n", into: fixture, groups: ["Golf Club"])
        let groups = try await catalog.groups()
        #expect(groups.first { $0.name == "Golf Club" }?.members == 1)
        #expect(groups.first { $0.name == "Guest" }?.members == 1)
    }
}

/// A real store that remembers how many events each batch it was handed had.
private final class BatchSizes: RecordStore {
    let store: any RecordStore
    let sizes = Mutex<[Int]>([])

    init(store: any RecordStore) { self.store = store }

    func record(_ events: [AcceptedEvent], dryRun: Bool) async throws -> RecordOutcome {
        sizes.withLock { $0.append(events.count) }
        return try await store.record(events, dryRun: dryRun)
    }

    func record(_ events: [AcceptedEvent]) async throws -> RecordOutcome { try await record(events, dryRun: false) }
    func journalStatus() async throws -> JournalStatus { try await store.journalStatus() }
    func change<T: Sendable>(rollingBack: Bool, _ body: @escaping @Sendable (RecordApplier, any DispatchTransaction) throws -> T) async throws -> T {
        try await store.change(rollingBack: rollingBack, body)
    }
    func read<T: Sendable>(_ body: @escaping @Sendable (any DispatchTransaction) throws -> T) async throws -> T { try await store.read(body) }
}
