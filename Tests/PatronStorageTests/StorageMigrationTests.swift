import Foundation
import Logging
import PatronDomain
@testable import PatronService
@testable import PatronStorage
import Testing

/// `patronctl migrate-storage`: a SQLite database copied into PostgreSQL, verified table by
/// table, resumable, and usable by Patron afterwards.
struct StorageMigrationTests {
    @Test func aSQLiteDatabaseIsCopiedVerifiedAndResumedAndPostgreSQLCarriesOn() async throws {
        let source = try await CustomerSearchTests.fixture()
        try await source.stores.schedules.create(try ScheduleStoreTests.daily(next: ScheduleStoreTests.planned), by: "alice", at: .now)
        try await source.stores.audit.record(CommandAuditEntry(at: .now, user: "alice", command: "customers.get", outcome: "ok"))
        _ = try await CustomerExporter(stores: source.stores, directory: source.directory.appendingPathComponent("exports").path, currency: "EUR", zone: .utc)
            .run(try CustomerExportTests.request(["format": .string("csv")]), requestedBy: "alice")
        let target = try await PatronPostgresDatabase.open(try await TestPostgres.freshDatabase(), otherSessions: 1, logger: Logger(label: "test"))
        defer { Task { await target.close() } }

        // In pages of three rows, so every table takes several.
        let first = try await SQLiteToPostgres(source: source.database, target: target, pageSize: 3).run()
        #expect(first.allSatisfy { $0.verified }, "\(first.filter { !$0.verified }.map(\.table))")
        let tables = Dictionary(uniqueKeysWithValues: first.map { ($0.table, $0) })
        for name in ["customers", "event_journal", "bookings", "customer_identifiers", "export_log", "schedules", "command_audit", "outbox"] {
            #expect((tables[name]?.sourceRows ?? 0) > 0, "\(name) has rows to copy")
        }
        #expect(tables["customers"]?.copied == tables["customers"]?.sourceRows)
        // The copy's own change list is gone: a replica loads its search index whole at start.
        let changes = try await PostgresEngine(database: target).read { try $0.first("SELECT count(*) FROM search_changes", []) { $0.integer(0) } }
        #expect(changes == 0)

        // What a run killed midway leaves: the last pages of some tables missing. The next run copies them.
        try await target.writer.perform { statements in
            try statements.run("DELETE FROM event_journal WHERE seq > 4")
            try statements.run("DELETE FROM bookings WHERE ref > 'BK-1'")
        }
        let resumed = try await SQLiteToPostgres(source: source.database, target: target).run()
        #expect(resumed.allSatisfy { $0.verified })
        #expect(resumed.first { $0.table == "event_journal" }?.copied == (tables["event_journal"]?.sourceRows ?? 0) - 4)
        #expect(resumed.first { $0.table == "bookings" }?.copied == (tables["bookings"]?.sourceRows ?? 0) - 1)
        #expect(resumed.filter { !["event_journal", "bookings"].contains($0.table) }.allSatisfy { $0.copied == 0 })

        let again = try await SQLiteToPostgres(source: source.database, target: target).run()
        #expect(again.allSatisfy { $0.verified && $0.copied == 0 }, "a run after a complete one copies nothing and still verifies")

        // A row that differs is found, and named by its table.
        try await target.writer.perform { try $0.run("UPDATE customers SET city = 'Bilbao' WHERE customer_no = 'C-1'") }
        let tampered = try await SQLiteToPostgres(source: source.database, target: target).run()
        #expect(tampered.filter { !$0.verified }.map(\.table) == ["customers"])
        #expect(tampered.first { $0.table == "customers" }.map { $0.sourceRows == $0.targetRows } == true, "same count, other content")

        // PostgreSQL carries on: new ids after the copied ones, the copied customers found by search.
        let applier = RecordApplier(rules: RecordRules(), hasher: HMACIdentityHasher(key: RecordsFixture.hashKey))
        let records = Storage.postgres(target).records(applier: applier, reactor: nil)
        let outcome = try await records.record(try source.accepted([
            Events.profile("after-migration", minute: 40, #"{"customer_no":"C-99","email":"new@example.com"}"#),
        ]))
        #expect(outcome.recorded == 1 && outcome.created == 1)
        let page = try await Storage.postgres(target).stores().search.search(
            try CustomerSearch.parse(CommandArguments(["last_name": .string("garc")]), phones: CustomerSearchTests.Phones(), rules: RecordRules()))
        #expect(Set(page.customers.compactMap { $0["customer_no"]?.stringValue }) == ["C-1", "C-2"])
        let status = try await records.journalStatus()
        #expect(status.recorded == (tables["event_journal"]?.sourceRows ?? 0) + 1, "SQLite's journal figures carried over")
    }
}
